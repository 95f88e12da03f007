"""HTTP helpers of the resource views: JSON answers, errors, caching and precondition headers.

Everything here is about headers and bodies; the storage is never touched.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any

import orjson
from pyramid.httpexceptions import HTTPException, HTTPNotModified
from pyramid.response import Response

from cliquetish.errors import ERRORS, http_error
from cliquetish.jsonbody import load_json_body

__all__ = [
    "ANY",
    "check_accept",
    "check_content_type",
    "check_preconditions",
    "header_key",
    "invalid",
    "json_response",
    "not_found",
    "parse_etag",
    "read_json_body",
    "set_cache_headers",
    "timestamp_headers",
]

ANY = "*"
JSON_TYPE = "application/json"
MAX_ETAG_DIGITS = 19


def invalid(location: str, name: str, description: str, errno: int = ERRORS.INVALID_PARAMETERS
            ) -> HTTPException:
    """The 400 answer for one invalid parameter (``location``: body, querystring, header, path)."""
    detail = {"location": location, "name": name, "description": description}
    return http_error(400, errno, f"{name} in {location}: {description}", [detail])


def invalid_details(details: list[dict[str, str]]) -> HTTPException:
    """The 400 answer (errno 107) for several invalid parameters."""
    first = details[0]
    message = f"{first['name']} in {first['location']}: {first['description']}"
    return http_error(400, ERRORS.INVALID_PARAMETERS, message, details)


def not_found(message: str = "The record does not exist.") -> HTTPException:
    """The 404 answer for a missing record (errno 110)."""
    return http_error(404, ERRORS.INVALID_RESOURCE_ID, message)


@functools.lru_cache(maxsize=256)
def http_date(seconds: int) -> str | None:
    """The HTTP date of ``seconds`` since the epoch (None for a time no HTTP date can say).

    Cached: the records a process answers share few distinct seconds.
    """
    try:
        return formatdate(seconds, usegmt=True)
    except (ValueError, OverflowError, OSError):
        return None


def timestamp_headers(timestamp: int) -> dict[str, str]:
    """``ETag`` (quoted milliseconds) and ``Last-Modified`` (HTTP date) of ``timestamp``
    (the latter left out for a time no HTTP date can say)."""
    headers = {"ETag": f'"{timestamp}"'}
    last_modified = http_date(timestamp // 1000)
    if last_modified is not None:
        headers["Last-Modified"] = last_modified
    return headers


def set_cache_headers(response: Response, cache_expires: int | None) -> None:
    """``Cache-Control: no-cache``, or ``max-age`` when the resource allows caching."""
    if cache_expires is None:
        response.headers["Cache-Control"] = "no-cache"
    else:
        response.headers["Cache-Control"] = f"max-age={cache_expires}"


def json_response(
    request: Any,
    body: Any,
    status: int = 200,
    timestamp: int | None = None,
    cache_expires: int | None = None,
) -> Response:
    """The view's answer: ``body`` as JSON with the caching and timestamp headers.

    Built directly, unless something already took ``request.response`` (a hook that set a
    header on it, say): then that response is the answer.
    """
    cache_control = "no-cache" if cache_expires is None else f"max-age={cache_expires}"
    if "response" not in request.__dict__:
        headers = [("Content-Type", JSON_TYPE), ("Cache-Control", cache_control)]
        if timestamp is not None:
            headers.extend(timestamp_headers(timestamp).items())
        if request.method == "HEAD":
            return Response(status=status, headerlist=headers, charset=None)
        data = orjson.dumps(body)
        headers.append(("Content-Length", str(len(data))))
        # The body as the response's app_iter, its length stated: WebOb's body setter would
        # go through its header views for the same result.
        if status == 200:  # WebOb's default: its status setter is skipped
            return Response(headerlist=headers, app_iter=[data], charset=None)
        return Response(status=status, headerlist=headers, app_iter=[data], charset=None)
    response = request.response
    response.status_int = status
    response.headers["Content-Type"] = JSON_TYPE
    if request.method != "HEAD":
        response.body = orjson.dumps(body)
    if timestamp is not None:
        response.headers.update(timestamp_headers(timestamp))
    response.headers["Cache-Control"] = cache_control
    return response


@functools.lru_cache(maxsize=64)
def header_key(name: str) -> str:
    """The WSGI environ key of request header ``name`` (``If-Match`` → ``HTTP_IF_MATCH``):
    read there directly, a header costs one dict lookup instead of WebOb's translation."""
    return "HTTP_" + name.upper().replace("-", "_")


def check_accept(request: Any) -> None:
    """406 unless the ``Accept`` header allows JSON."""
    accept = request.environ.get("HTTP_ACCEPT")
    if not accept or accept == "*/*" or accept.startswith(JSON_TYPE):
        return
    if not request.accept.acceptable_offers([JSON_TYPE]):
        raise http_error(
            406, ERRORS.INVALID_PARAMETERS,
            f"Accept header should allow {JSON_TYPE}",
            [{"location": "header", "name": "Accept",
              "description": f"Accept header should allow {JSON_TYPE}"}],
        )


def check_content_type(request: Any, allowed: Iterable[str]) -> str:
    """The request's media type; 415 unless one of ``allowed`` (a body-less request passes)."""
    media_type = (request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    allowed = tuple(allowed)
    if media_type in allowed:
        return media_type
    if not media_type and not request.body:
        return allowed[0]
    description = f"Content-Type should be one of {', '.join(allowed)}"
    raise http_error(
        415, ERRORS.INVALID_PARAMETERS, description,
        [{"location": "header", "name": "Content-Type", "description": description}],
    )


def read_json_body(request: Any) -> Any:
    """The request body decoded as JSON (``{}`` when empty); 400 errno 106 when invalid,
    errno 107 when nested deeper than ``json_max_depth`` (checked before decoding)."""
    if not request.body:
        return {}
    return load_json_body(request)


def parse_etag(request: Any, header: str) -> int | str | None:
    """``If-Match``/``If-None-Match``: the quoted timestamp as an int, ``"*"``, or None.

    :raises HTTPBadRequest: (errno 107) any other value.
    """
    raw = request.environ.get(header_key(header))
    if raw is None:
        return None
    value = raw.strip()
    if value == ANY:
        return ANY
    inner = value[1:-1]
    if (len(value) > 2 and value[0] == value[-1] == '"' and inner.isdigit() and inner.isascii()
            and len(inner) <= MAX_ETAG_DIGITS):
        return int(inner)
    raise invalid("header", header, 'Should be a quoted timestamp ("1500000000000") or *')


def check_preconditions(
    request: Any,
    current: int | None,
    existing: dict[str, Any] | None = None,
) -> None:
    """Apply ``If-Match`` and ``If-None-Match`` with strict equality.

    :param current: the current timestamp (record or collection); None when the record does
        not exist.
    :param existing: the record shown in a 412's ``details.existing`` (None to show nothing).
    :raises HTTPNotModified: ``If-None-Match`` matches on a read.
    :raises HTTPPreconditionFailed: (errno 114) ``If-Match`` does not match, or
        ``If-None-Match`` matches on a write.
    """
    if_match = parse_etag(request, "If-Match")
    if_none_match = parse_etag(request, "If-None-Match")
    if if_match is not None and (current is None or if_match not in (ANY, current)):
        raise precondition_failed(current, existing)
    if if_none_match is not None and current is not None and if_none_match in (ANY, current):
        if request.method in ("GET", "HEAD"):
            raise HTTPNotModified(headers=timestamp_headers(current))
        raise precondition_failed(current, existing)


def precondition_failed(current: int | None, existing: dict[str, Any] | None) -> HTTPException:
    """The 412 answer (errno 114) with the current record in ``details.existing``."""
    details = {"existing": existing} if existing is not None else None
    headers = timestamp_headers(current) if current is not None else None
    return http_error(
        412, ERRORS.MODIFIED_MEANWHILE, "Resource was modified meanwhile", details,
        headers=headers,
    )
