"""Exception views: every known exception becomes the JSON error body of the protocol.

They run inside the transaction (Pyramid's excview sits under pyramid_tm), so the transaction of
a failed request is aborted while the client still gets its JSON error:

======================================  ======  =====  ===================================
exception                               status  errno  notes
======================================  ======  =====  ===================================
no route matched                        307            un-prefixed path or trailing slash
no route matched, ``/v<other>/...``     404     116    version not available
no route matched, anything else         404     111
route matched, no view for the method   405     115    ``Allow`` header
``HTTPMethodNotAllowed``                405     115    ``Allow`` header kept
``BackendError``                        503     201    ``Retry-After``; logged
``UnicityError``                        409     122    ``details: {field, existing}``
``RecordNotFoundError``                 404     110
``ReadonlyError``                       405     115
URL not UTF-8                           400     107
query string not UTF-8                  400     107
any other ``HTTPException`` >= 400      same    usual  406, 411, 415, ... keep their headers
======================================  ======  =====  ===================================

:func:`json_error_handler` is the cornice ``error_handler`` giving validation errors the same
body (400 errno 107 with one ``details`` entry per error).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from pyramid.config import Configurator
from pyramid.exceptions import PredicateMismatch, URLDecodeError
from pyramid.httpexceptions import (
    HTTPException,
    HTTPMethodNotAllowed,
    HTTPNotFound,
    status_map,
)
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.errors import DEFAULT_ERRNO, ERRORS, http_error
from cliquetish.storage.exceptions import (
    BackendError,
    ReadonlyError,
    RecordNotFoundError,
    UnicityError,
)
from cliquetish.tweens.errors import internal_error_response

__all__ = [
    "NotFoundHandler",
    "allowed_methods",
    "backend_error_view",
    "http_exception_view",
    "includeme",
    "json_error_handler",
    "method_not_allowed_view",
    "readonly_error_view",
    "record_not_found_view",
    "unicity_error_view",
]

logger = logging.getLogger("cliquetish.errors")

# Headers of the original exception that the JSON error must not copy.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def _is_ours(error: HTTPException) -> bool:
    """True when the exception already carries our JSON body (built by ``http_error``)."""
    return getattr(error, "errno", None) is not None


def _description(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def json_error_handler(request: Request) -> HTTPException:
    """Cornice ``error_handler``: ``request.errors`` as our JSON error (400 errno 107 usually).

    The status is the one cornice chose (``request.errors.status``: 400, 406, 415...). Each error
    becomes a ``details`` entry ``{"location", "name", "description"}``; the first gives the
    message ``"<name> in <location>: <description>"``. A body that is not JSON gives errno 106.
    """
    errors = request.errors
    status = getattr(errors, "status", 400) or 400
    details = [
        {
            "location": error.get("location") or "body",
            "name": error.get("name") or "",
            "description": _description(error.get("description") or ""),
        }
        for error in errors
    ]
    message = None
    if details:
        first = details[0]
        where = f"{first['name']} in {first['location']}" if first["name"] else first["location"]
        message = f"{where}: {first['description']}"
    errno = DEFAULT_ERRNO.get(status, ERRORS.INVALID_PARAMETERS)
    if status == 400 and any(
        entry["location"] == "body" and entry["description"].startswith("Invalid JSON")
        for entry in details
    ):
        errno = ERRORS.BADJSON
    return http_error(status, errno, message, details)


def allowed_methods(request: Request, route_name: str) -> list[str] | None:
    """The methods the views of ``route_name`` accept (None when one accepts any method)."""
    introspector = request.registry.introspector
    route = introspector.get("routes", route_name)
    if route is None:
        return None
    methods: set[str] = set()
    for related in introspector.related(route):
        if related.category_name != "views":
            continue
        accepted = related["request_methods"]
        if accepted is None:
            return None
        methods.update([accepted] if isinstance(accepted, str) else accepted)
    return sorted(methods) or None


def _method_not_allowed(request: Request, allow: str | None) -> HTTPException:
    headers = {"Allow": allow} if allow else None
    return http_error(
        405,
        ERRORS.METHOD_NOT_ALLOWED,
        f"Method {request.method} is not allowed on this endpoint.",
        headers=headers,
    )


def method_not_allowed_view(error: HTTPMethodNotAllowed, request: Request) -> Response:
    """405 errno 115, keeping the ``Allow`` header of the original exception."""
    if _is_ours(error):
        return error
    return _method_not_allowed(request, error.headers.get("Allow"))


def predicate_mismatch_view(error: PredicateMismatch, request: Request) -> Response:
    """A route matched but none of its views: 405 when the method is the reason, else 404."""
    route = getattr(request, "matched_route", None)
    if route is not None:
        methods = allowed_methods(request, route.name)
        if methods is not None and request.method not in methods:
            return _method_not_allowed(request, ", ".join(methods))
    return http_error(404, ERRORS.MISSING_RESOURCE, "The URL matches no endpoint.")


def http_exception_view(error: HTTPException, request: Request) -> Response:
    """Any other HTTP exception of status 400 or more: our JSON body, same status and headers.

    Statuses under 400 (redirects, 304) and errors already in our format pass unchanged.
    """
    status = error.status_code  # the status line: some classes (cornice's) change it
    if status < 400 or _is_ours(error):
        return error
    if getattr(request, "errors", None):
        request.errors.status = status
        response = json_error_handler(request)
    else:
        detail = error.detail if isinstance(error.detail, str) else None
        response = http_error(status_map.get(status, type(error)), message=detail)
    for name, value in error.headerlist:
        if name.lower() not in _BODY_HEADERS:
            response.headerlist.append((name, value))
    return response


def backend_error_view(error: BackendError, request: Request) -> Response:
    """503 errno 201 with ``Retry-After``; the backend's own message is only logged."""
    logger.error("Backend error: %s", error, exc_info=error, extra={"rid": request.request_id})
    seconds = request.registry.settings.get("retry_after_seconds", 30)
    return http_error(
        503,
        ERRORS.BACKEND,
        "A backend is unavailable; retry later.",
        headers={"Retry-After": str(seconds)},
    )


def unicity_error_view(error: UnicityError, request: Request) -> Response:
    """409 errno 122 naming the field and showing the record that already has the value."""
    return http_error(
        409,
        ERRORS.CONSTRAINT_VIOLATED,
        f"Conflict of field {error.field} with record {error.record.get('id')}.",
        details={"field": error.field, "existing": error.record},
    )


def record_not_found_view(error: RecordNotFoundError, request: Request) -> Response:
    """404 errno 110."""
    return http_error(404, ERRORS.INVALID_RESOURCE_ID, "The record was not found.")


def readonly_error_view(error: ReadonlyError, request: Request) -> Response:
    """405 errno 115: the backend refused a write."""
    return http_error(405, ERRORS.METHOD_NOT_ALLOWED, "The backend is read-only.")


def url_decode_error_view(error: URLDecodeError, request: Request) -> Response:
    """400 errno 107: the URL path is not valid UTF-8."""
    return http_error(400, ERRORS.INVALID_PARAMETERS, "path in url: not valid UTF-8")


def _query_string_is_utf8(query_string: str) -> bool:
    """True when the (WSGI, latin-1) query string decodes to UTF-8 once unquoted."""
    try:
        unquote_to_bytes(query_string.encode("latin-1", "replace")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unicode_decode_error_view(error: UnicodeDecodeError, request: Request) -> Response:
    """400 errno 107 when the query string is not valid UTF-8 (WebOb fails decoding it);
    any other decoding error is a bug: the logged 500."""
    if _query_string_is_utf8(request.environ.get("QUERY_STRING", "")):
        return internal_error_response(request, error)
    description = "not valid UTF-8"
    return http_error(400, ERRORS.INVALID_PARAMETERS, f"querystring: {description}",
                      [{"location": "querystring", "name": "", "description": description}])


# Characters kept as they are when a decoded path is quoted again for a Location header;
# everything else (CR, LF, spaces, quotes, "%", non-ASCII) is percent-encoded.
_PATH_SAFE = "/-._~!$&'()*+,;=:@"
_QUERY_SAFE = _PATH_SAFE + "%?"
_REPEATED_SLASHES = re.compile(r"/{2,}")
_VERSION_SEGMENT = re.compile(r"/v[0-9]+(?:/|$)")


class NotFoundHandler:
    """Answers requests no route matched: the 307 redirects, else 404 errno 116 or 111.

    Redirects always point to a path of this site starting with ``/<prefix>/``: the decoded path
    is quoted again (CR/LF become ``%0D%0A``, never a raw header) and repeated slashes are merged
    (``//evil.com`` becomes ``/v1/evil.com``, never another host).
    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.prefix = "/" + settings["version_prefix"]
        self.prefix_redirect = bool(settings.get("version_prefix_redirect_enabled", True))
        self.slash_redirect = bool(settings.get("trailing_slash_redirect_enabled", True))

    def redirect_path(self, path: str) -> str | None:
        """Where ``path`` (a decoded WSGI path) redirects to, or None when it does not."""
        prefix = self.prefix
        if path == prefix:
            return prefix + "/"
        original = path
        if not path.startswith(prefix + "/"):
            if not self.prefix_redirect or _VERSION_SEGMENT.match(path):
                return None
            path = prefix + "/" + path.lstrip("/")
        path = _REPEATED_SLASHES.sub("/", path)
        if self.slash_redirect and path.endswith("/") and path != prefix + "/":
            path = path.rstrip("/")
        return path if path != original else None

    def location(self, path: str, query_string: str) -> str:
        """The ``Location`` value: ``path`` and query string quoted again."""
        location = quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE)
        if query_string:
            location += "?" + quote(query_string.encode("latin-1", "replace"), safe=_QUERY_SAFE)
        return location

    def __call__(self, error: HTTPNotFound, request: Request) -> Response:
        """The exception view of ``HTTPNotFound``."""
        if _is_ours(error):
            return error
        if getattr(request, "matched_route", None) is not None:
            detail = error.detail if isinstance(error.detail, str) else None
            return http_error(404, ERRORS.MISSING_RESOURCE, detail)
        environ = request.environ
        path = environ.get("PATH_INFO") or "/"
        target = self.redirect_path(path)
        if target is not None:
            location = self.location(target, environ.get("QUERY_STRING", ""))
            return Response(status=307, headerlist=[("Location", location),
                                                    ("Content-Length", "0")])
        if _VERSION_SEGMENT.match(path) and not path.startswith(self.prefix + "/"):
            return http_error(
                404,
                ERRORS.VERSION_NOT_AVAILABLE,
                f"Version not available: this service answers under {self.prefix}/.",
            )
        return http_error(404, ERRORS.MISSING_RESOURCE, "The URL matches no endpoint.")


def includeme(config: Configurator) -> None:
    """Register the exception views (and the not-found redirects)."""
    config.add_exception_view(NotFoundHandler(config.get_settings()), context=HTTPNotFound)
    config.add_exception_view(predicate_mismatch_view, context=PredicateMismatch)
    config.add_exception_view(method_not_allowed_view, context=HTTPMethodNotAllowed)
    config.add_exception_view(http_exception_view, context=HTTPException)
    config.add_exception_view(backend_error_view, context=BackendError)
    config.add_exception_view(unicity_error_view, context=UnicityError)
    config.add_exception_view(record_not_found_view, context=RecordNotFoundError)
    config.add_exception_view(readonly_error_view, context=ReadonlyError)
    config.add_exception_view(url_decode_error_view, context=URLDecodeError)
    config.add_exception_view(unicode_decode_error_view, context=UnicodeDecodeError)
