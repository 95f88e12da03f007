"""Shared pieces of the OpenAPI document: the error body, headers, security scheme, helpers."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERROR_SCHEMA",
    "HEADERS",
    "SECURITY_SCHEMES",
    "case_insensitive",
    "error_response",
    "header_ref",
    "json_content",
    "ref",
]

JSON = "application/json"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The body of every error answer.",
    "required": ["code", "errno", "error"],
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status."},
        "errno": {"type": "integer", "description": "The error number (see the protocol)."},
        "error": {"type": "string", "description": "The status reason."},
        "message": {"type": "string", "description": "What went wrong, naming the field."},
        "details": {"description": "Validation errors (a list of {location, name, "
                                   "description}), or the existing record on 409 and 412."},
        "info": {"type": "string", "description": "Where to read more."},
    },
}

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "The collection timestamp (collections) or the record's "
                            "last_modified (records), as a quoted integer.",
             "schema": {"type": "string", "pattern": '^"[0-9]+"$'}},
    "Last-Modified": {"description": "The same time as an HTTP date.",
                      "schema": {"type": "string"}},
    "Next-Page": {"description": "Absolute URL of the next page; absent on the last page.",
                  "schema": {"type": "string"}},
    "Total-Records": {"description": "Number of live records matching the filters.",
                      "schema": {"type": "integer", "minimum": 0}},
    "Retry-After": {"description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 0}},
}
"""Response headers, referenced by name (``#/components/headers/<name>``)."""

SECURITY_SCHEMES: dict[str, Any] = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "Any user:password; the user id is an HMAC of the pair.",
    },
}


def ref(name: str, kind: str = "schemas") -> dict[str, str]:
    """A ``$ref`` to ``#/components/<kind>/<name>``."""
    return {"$ref": f"#/components/{kind}/{name}"}


def header_ref(name: str) -> dict[str, str]:
    """A ``$ref`` to one of :data:`HEADERS`."""
    return ref(name, "headers")


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    """A ``content`` object holding JSON of ``schema``."""
    return {JSON: {"schema": schema}}


def error_response(description: str = "An error (the JSON error body).") -> dict[str, Any]:
    """A response whose body is the error body."""
    return {"description": description, "content": json_content(ref("Error"))}


def case_insensitive(words: tuple[str, ...], padded: bool = True) -> str:
    """A pattern matching any of ``words`` in any case (OpenAPI patterns have no flags),
    surrounded by optional whitespace when ``padded``."""

    def letters(word: str) -> str:
        return "".join(f"[{char.lower()}{char.upper()}]" if char.isalpha() else char
                       for char in word)

    space = r"\s*" if padded else ""
    return rf"^{space}({'|'.join(letters(word) for word in words)}){space}$"
