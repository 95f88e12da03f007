"""Record schemas: :class:`ResourceSchema`, field types, and their compiled checkers.

A resource's schema is a colander mapping; its nested ``Options`` class says how records are
handled::

    class BookmarkSchema(ResourceSchema):
        url = URL()
        title = colander.SchemaNode(colander.String(), missing=colander.drop)

        class Options:
            readonly_fields = ("url",)     # 400 when a PUT or PATCH changes them
            unique_fields = ("url",)       # 409 (errno 122) when another record has the value
            preserve_unknown = True        # keep fields the schema does not name

:class:`CompiledSchema` is built once per resource when the application starts; it checks
request bodies (``data`` and ``permissions``) and raises :class:`InvalidBody` with the
protocol's error details.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

import colander

__all__ = [
    "URL",
    "CompiledSchema",
    "InvalidBody",
    "ResourceSchema",
    "TimeStamp",
    "check_body",
    "check_permissions",
]

ID_FIELD = "id"
MODIFIED_FIELD = "last_modified"
MAX_CLIENT_TIMESTAMP = 253402300799999
"""The largest ``last_modified`` a client may send: 9999-12-31T23:59:59.999Z."""
DETAIL = dict[str, str]


class InvalidBody(ValueError):
    """The request body is invalid; ``details`` lists ``{location, name, description}``."""

    def __init__(self, details: list[DETAIL]) -> None:
        first = details[0]
        super().__init__(f"{first['name']} in {first['location']}: {first['description']}")
        self.details = details


def _detail(name: str, description: str) -> DETAIL:
    return {"location": "body", "name": name, "description": description}


class ResourceSchema(colander.MappingSchema):
    """Base of record schemas. Subclass it and add colander nodes as class attributes."""

    class Options:
        """Record handling options; a subclass's ``Options`` need only name what it changes."""

        readonly_fields: tuple[str, ...] = ()
        unique_fields: tuple[str, ...] = ()
        preserve_unknown: bool = False


class SchemalessSchema(ResourceSchema):
    """The schema of a resource that declares none: every field is kept as sent."""

    class Options:
        preserve_unknown = True


def _check_url(node: colander.SchemaNode, value: str) -> None:
    parsed = urlparse(value)
    if not parsed.scheme or not parsed.netloc or any(char.isspace() for char in value):
        raise colander.Invalid(node, f"{value!r} is not a valid URL")


class URL(colander.SchemaNode):
    """An absolute URL (``scheme://host...``), surrounding whitespace stripped. Required unless
    given ``missing=colander.drop``."""

    schema_type = colander.String

    def preparer(self, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    def validator(self, node: colander.SchemaNode, value: str) -> None:
        _check_url(node, value)


class TimeStamp(colander.SchemaNode):
    """An integer epoch time in milliseconds; when absent it is set to the current time
    (unless ``auto_now=False``, then it is left out)."""

    schema_type = colander.Integer
    auto_now = True
    missing = None  # an absent value is handled by deserialize()

    def deserialize(self, cstruct: Any = colander.null) -> Any:
        if cstruct is colander.null or cstruct is None:
            return int(time.time() * 1000) if self.auto_now else colander.drop
        return super().deserialize(cstruct)


def _option(schema_class: type, name: str) -> Any:
    options = getattr(schema_class, "Options", None)
    return getattr(options, name, getattr(ResourceSchema.Options, name))


def _interpolate(message: Any) -> str:
    interpolate = getattr(message, "interpolate", None)
    return str(interpolate() if interpolate else message)


class CompiledSchema:
    """A resource schema ready to check records; built once per resource and application."""

    def __init__(self, schema_class: type[ResourceSchema] | None) -> None:
        schema_class = schema_class or SchemalessSchema
        self.schema_class = schema_class
        self.node: colander.SchemaNode = schema_class()
        self.readonly_fields = tuple(_option(schema_class, "readonly_fields"))
        self.unique_fields = tuple(_option(schema_class, "unique_fields"))
        self.preserve_unknown = bool(_option(schema_class, "preserve_unknown"))
        self.node.typ.unknown = "preserve" if self.preserve_unknown else "raise"
        self.field_names = frozenset(child.name for child in self.node.children)
        self.schemaless = self.preserve_unknown and not self.field_names

    def is_known_field(self, name: str) -> bool:
        """True when records may have the (dotted) field ``name``."""
        if self.preserve_unknown:
            return True
        return name.split(".", 1)[0] in self.field_names or name in (ID_FIELD, MODIFIED_FIELD)

    def check_data(self, data: Any) -> dict[str, Any]:
        """``data`` of a body, checked and deserialized (``id`` and ``last_modified`` kept).

        :raises InvalidBody: not an object, unknown fields, or values the schema refuses.
        """
        if not isinstance(data, dict):
            raise InvalidBody([_detail("data", "Should be a JSON object")])
        data, builtins = _split_builtins(data)
        if self.schemaless:
            return {**data, **builtins}
        if not self.preserve_unknown:
            unknown = sorted(set(data) - self.field_names)
            if unknown:
                raise InvalidBody([_detail(f"data.{name}", "Unknown field") for name in unknown])
        try:
            checked = self.node.deserialize(data)
        except colander.Invalid as error:
            messages = error.asdict(translate=_interpolate)
            raise InvalidBody(
                [_detail(f"data.{name}" if name else "data", text)
                 for name, text in sorted(messages.items())]
            ) from error
        checked.update(builtins)
        return checked


def _split_builtins(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data`` without ``id`` and ``last_modified``, and those two (types checked)."""
    builtins = {}
    if ID_FIELD in data:
        value = data[ID_FIELD]
        if not isinstance(value, str):
            raise InvalidBody([_detail("data.id", "Should be a string")])
        builtins[ID_FIELD] = value
    if MODIFIED_FIELD in data:
        value = data[MODIFIED_FIELD]
        if (isinstance(value, bool) or not isinstance(value, int)
                or not 0 <= value <= MAX_CLIENT_TIMESTAMP):
            raise InvalidBody([_detail(
                "data.last_modified",
                f"Should be an integer from 0 to {MAX_CLIENT_TIMESTAMP} (epoch milliseconds)",
            )])
        builtins[MODIFIED_FIELD] = value
    if builtins:
        data = {key: value for key, value in data.items() if key not in builtins}
    return data, builtins


def check_permissions(
    permissions: Any, known: Iterable[str]
) -> dict[str, list[str]]:
    """``permissions`` of a body: ``{"read": [principal, ...], "write": [...]}``.

    Principals are non-empty strings; duplicates are dropped. :raises InvalidBody: otherwise.
    """
    known = tuple(known)
    if not isinstance(permissions, dict):
        raise InvalidBody([_detail("permissions", "Should be a JSON object")])
    result: dict[str, list[str]] = {}
    for name, principals in permissions.items():
        if name not in known:
            raise InvalidBody([_detail(
                f"permissions.{name}", f"Unknown permission (use one of {', '.join(known)})"
            )])
        if not isinstance(principals, list):
            raise InvalidBody([_detail(f"permissions.{name}", "Should be a list of principals")])
        for index, principal in enumerate(principals):
            if not isinstance(principal, str) or not principal.strip():
                raise InvalidBody([_detail(
                    f"permissions.{name}.{index}", "Should be a non-empty string"
                )])
        result[name] = list(dict.fromkeys(principals))
    return result


def check_body(body: Any, allow_permissions: bool) -> Mapping[str, Any]:
    """The top level of a POST/PUT/PATCH body: an object with ``data`` (and ``permissions``
    when the resource has them). :raises InvalidBody: otherwise."""
    if not isinstance(body, dict):
        raise InvalidBody([_detail("body", "Should be a JSON object")])
    allowed = ("data", "permissions") if allow_permissions else ("data",)
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidBody([_detail(name, "Unknown attribute") for name in unknown])
    return body
