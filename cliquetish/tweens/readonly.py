"""Cross-cutting: refuse every write when the ``readonly`` setting is on.

``POST``, ``PUT``, ``PATCH`` and ``DELETE`` are answered ``405`` errno 115 with an ``Allow``
header. ``POST /<prefix>/batch`` itself passes: its sub-requests, invoked through the tweens,
are checked one by one (code invoking a sub-request without the tweens can call
:func:`readonly_error`). Without ``readonly`` the tween is not even in the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPException
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.errors import ERRORS, http_error

__all__ = ["READ_METHODS", "WRITE_METHODS", "readonly_error", "readonly_tween_factory"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def readonly_error(request: Request) -> HTTPException | None:
    """The 405 answer when ``request`` is a write and the service is read-only, else None."""
    if request.method in WRITE_METHODS and request.registry.settings.get("readonly"):
        return http_error(
            405,
            ERRORS.METHOD_NOT_ALLOWED,
            f"The service is read-only: {request.method} is not allowed.",
            headers={"Allow": ", ".join(READ_METHODS)},
        )
    return None


def readonly_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween answering 405 to writes, except the batch endpoint."""
    if not registry.settings.get("readonly"):
        return handler
    batch_path = f"/{registry.settings['version_prefix']}/batch"

    def readonly_tween(request: Request) -> Any:
        environ = request.environ
        if environ["REQUEST_METHOD"] in WRITE_METHODS and not (
            environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO") == batch_path
        ):
            return readonly_error(request)
        return handler(request)

    return readonly_tween
