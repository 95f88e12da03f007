"""Level 3, pre-main: refuse request bodies over ``max_request_body_bytes`` (413 errno 113).

A ``Content-Length`` over the limit is refused before anything is read. A body without one
(``Transfer-Encoding: chunked``) is read here up to one byte past the limit: over it, 413;
otherwise the body is kept in memory for the view, with its ``Content-Length`` set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from pyramid.httpexceptions import HTTPException
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.errors import ERRORS, http_error

__all__ = ["body_limit_tween_factory", "read_at_most"]

_CHUNK_BYTES = 65536


def read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Read ``stream`` until its end or until more than ``limit`` bytes were read."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(_CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> HTTPException:
    return http_error(
        413,
        ERRORS.REQUEST_TOO_LARGE,
        f"Request body too large: the limit is {limit} bytes.",
        details=[{"location": "body", "name": "", "description": f"More than {limit} bytes"}],
    )


def _has_unsized_body(environ: dict[str, Any]) -> bool:
    return bool(
        environ.get("wsgi.input_terminated")
        or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def body_limit_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween enforcing ``max_request_body_bytes`` on declared and streamed bodies."""
    limit: int = registry.settings["max_request_body_bytes"]

    def body_limit_tween(request: Request) -> Any:
        environ = request.environ
        declared = environ.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return http_error(400, ERRORS.INVALID_PARAMETERS,
                                  "Content-Length in headers: not a number")
            if length > limit:
                return _too_large(limit)
        elif _has_unsized_body(environ):
            body = read_at_most(environ["wsgi.input"], limit)
            if len(body) > limit:
                return _too_large(limit)
            if body:
                request.body = body
        return handler(request)

    return body_limit_tween
