"""Level 3, pre-main: refuse request bodies over ``max_request_body_bytes`` (413 errno 113).

A ``Content-Length`` over the limit is refused before anything is read. A chunked body
(``Transfer-Encoding: chunked``) is read here up to one byte past the limit: over it, 413;
otherwise the body is kept in memory for the view, with its ``Content-Length`` set.

A server that ends ``wsgi.input`` itself (``wsgi.input_terminated``, as gunicorn and waitress
do) may pass a request with neither header: its body is almost always empty (a ``GET``), so it
is not read here. Its ``wsgi.input`` is wrapped instead, and whoever reads past the limit gets
the same 413.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from pyramid.httpexceptions import HTTPException
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.errors import ERRORS, http_error

__all__ = ["BoundedInput", "body_limit_tween_factory", "read_at_most"]

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


class BoundedInput:
    """A ``wsgi.input`` that raises the 413 answer once more than ``limit`` bytes were read."""

    __slots__ = ("_limit", "_read", "_stream")

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._read = 0

    def _counted(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            raise _too_large(self._limit)
        return data

    def _allowed(self, size: int | None) -> int:
        """At most one byte past the limit, whatever ``size`` asks (None, -1: all)."""
        left = self._limit + 1 - self._read
        return left if size is None or size < 0 else min(size, left)

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative or None)."""
        return self._counted(self._stream.read(self._allowed(size)))

    def readline(self, size: int | None = -1) -> bytes:
        """One line, of at most ``size`` bytes."""
        return self._counted(self._stream.readline(self._allowed(size)))

    def readlines(self, hint: int = -1) -> list[bytes]:
        """The remaining lines (``hint`` is ignored: the limit bounds them)."""
        return list(self)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


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
        elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = read_at_most(environ["wsgi.input"], limit)
            if len(body) > limit:
                return _too_large(limit)
            if body:
                request.body = body
        elif environ.get("wsgi.input_terminated"):
            environ["wsgi.input"] = BoundedInput(environ["wsgi.input"], limit)
        return handler(request)

    return body_limit_tween
