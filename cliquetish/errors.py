"""Error numbers, the JSON error body, and the exception tree.

Every error answered by cliquetish has the body::

    {"code": 400, "errno": 107, "error": "Invalid parameters",
     "message": "data.url in body: Required",
     "details": [{"location": "body", "name": "data.url", "description": "Required"}],
     "info": "https://..."}

(``message``, ``details`` and ``info`` are left out when empty). :func:`http_error` builds a Pyramid
HTTP exception carrying that body; raise it from any view.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import orjson
from pyramid import httpexceptions

__all__ = [
    "ERRORS",
    "CliquetishError",
    "ConfigurationError",
    "error_body",
    "http_error",
    "json_error_response",
]


class ERRORS(IntEnum):
    """The errno table of the protocol (see docs/protocol.rst)."""

    MISSING_AUTH_TOKEN = 104
    INVALID_AUTH_TOKEN = 105
    BADJSON = 106
    INVALID_PARAMETERS = 107
    MISSING_PARAMETERS = 108
    INVALID_POSTED_DATA = 109
    INVALID_RESOURCE_ID = 110
    MISSING_RESOURCE = 111
    MISSING_CONTENT_LENGTH = 112
    REQUEST_TOO_LARGE = 113
    MODIFIED_MEANWHILE = 114
    METHOD_NOT_ALLOWED = 115
    VERSION_NOT_AVAILABLE = 116
    CLIENT_REACHED_CAPACITY = 117
    FORBIDDEN = 121
    CONSTRAINT_VIOLATED = 122
    BACKEND = 201
    SERVICE_DEPRECATED = 202
    UNDEFINED = 999


class CliquetishError(Exception):
    """Root of the exceptions raised by cliquetish itself."""


class ConfigurationError(CliquetishError):
    """A setting is missing or wrong; ``key`` names it. Raised at start-up."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def error_body(
    code: int,
    errno: int,
    error: str | None = None,
    message: str | None = None,
    details: Any = None,
    info: str | None = None,
) -> dict[str, Any]:
    """The JSON error body as a dict, empty fields left out."""
    if error is None:
        status_class = httpexceptions.status_map.get(code)
        error = status_class.title if status_class else "Error"
    body: dict[str, Any] = {"code": code, "errno": int(errno), "error": error}
    if message:
        body["message"] = message
    if details is not None:
        body["details"] = details
    if info:
        body["info"] = info
    return body


def json_error_response(
    response: httpexceptions.HTTPException,
    errno: int,
    message: str | None = None,
    details: Any = None,
    info: str | None = None,
) -> httpexceptions.HTTPException:
    """Give ``response`` (an HTTP exception instance) the JSON error body and return it."""
    body = error_body(response.code, errno, response.title, message, details, info)
    response.content_type = "application/json"
    response.charset = None
    response.body = orjson.dumps(body)
    response.errno = int(errno)  # read by the request log and the exception views
    return response


def http_error(
    status: int | type[httpexceptions.HTTPException],
    errno: int | None = None,
    message: str | None = None,
    details: Any = None,
    info: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpexceptions.HTTPException:
    """Build the HTTP exception for ``status`` (a code or a class) with a JSON error body.

    The errno defaults to the usual one of the status (404 → 111, 503 → 201, ...).
    """
    response_class = httpexceptions.status_map[status] if isinstance(status, int) else status
    response = response_class(headers=headers)
    if errno is None:
        errno = DEFAULT_ERRNO.get(response.code, ERRORS.UNDEFINED)
    return json_error_response(response, errno, message, details, info)


DEFAULT_ERRNO: dict[int, ERRORS] = {
    400: ERRORS.INVALID_PARAMETERS,
    401: ERRORS.MISSING_AUTH_TOKEN,
    403: ERRORS.FORBIDDEN,
    404: ERRORS.MISSING_RESOURCE,
    405: ERRORS.METHOD_NOT_ALLOWED,
    406: ERRORS.INVALID_PARAMETERS,
    409: ERRORS.CONSTRAINT_VIOLATED,
    410: ERRORS.SERVICE_DEPRECATED,
    411: ERRORS.MISSING_CONTENT_LENGTH,
    412: ERRORS.MODIFIED_MEANWHILE,
    413: ERRORS.REQUEST_TOO_LARGE,
    415: ERRORS.INVALID_PARAMETERS,
    429: ERRORS.CLIENT_REACHED_CAPACITY,
    503: ERRORS.BACKEND,
}
