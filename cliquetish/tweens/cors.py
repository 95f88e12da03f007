"""Level 9, sending: CORS headers on every response to an allowed origin, errors included.

``cors_origins`` lists the allowed origins (``*`` allows any); ``cors_max_age_seconds`` is the
lifetime of a preflight. A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) from an
allowed origin is answered here, before routing, so it works on every endpoint. Other responses
to an allowed origin get ``Access-Control-Allow-Origin`` (the origin itself, since credentials are
allowed), ``Access-Control-Allow-Credentials`` and ``Access-Control-Expose-Headers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

__all__ = ["ALLOWED_METHODS", "EXPOSED_HEADERS", "CorsPolicy", "cors_tween_factory"]

EXPOSED_HEADERS = (
    "Alert",
    "Backoff",
    "Content-Length",
    "ETag",
    "Last-Modified",
    "Next-Page",
    "Retry-After",
    "Total-Records",
    "X-Request-Id",
)
"""Response headers a browser script may read."""

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

DEFAULT_ALLOWED_HEADERS = (
    "Authorization, Content-Type, If-Match, If-None-Match, Response-Behavior, X-Request-Id"
)

# What an Origin or a requested header list may look like before we echo it in a header.
_SANE_ORIGIN = re.compile(r"null|[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.:\[\]_-]+")
_SANE_HEADER_LIST = re.compile(r"[A-Za-z0-9_, -]{0,1024}")


class CorsPolicy:
    """The CORS decisions, computed once from the settings."""

    def __init__(self, origins: Iterable[str], max_age_seconds: int) -> None:
        self.origins = frozenset(origins)
        self.any_origin = "*" in self.origins
        self.max_age = str(max_age_seconds)
        self.exposed = ", ".join(EXPOSED_HEADERS)
        self.methods = ", ".join(ALLOWED_METHODS)

    def allows(self, origin: str) -> bool:
        """True when ``origin`` may read our responses (and is safe to echo)."""
        if not _SANE_ORIGIN.fullmatch(origin):
            return False
        return self.any_origin or origin in self.origins

    def add_headers(self, response: Response, origin: str) -> None:
        """Add the headers of an actual (not preflight) cross-origin response."""
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Access-Control-Expose-Headers"] = self.exposed
        _add_vary_origin(headers)

    def preflight(self, request: Request, origin: str) -> Response:
        """The answer to a preflight from an allowed origin."""
        environ = request.environ
        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "")
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        if not _SANE_HEADER_LIST.fullmatch(requested):
            requested = ""
        response = Response(status=200, headerlist=[("Content-Length", "0")])
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Access-Control-Allow-Methods"] = (
            method if method in ALLOWED_METHODS else self.methods
        )
        headers["Access-Control-Allow-Headers"] = requested.strip() or DEFAULT_ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = self.max_age
        _add_vary_origin(headers)
        return response


def _add_vary_origin(headers: Any) -> None:
    vary = headers.get("Vary")
    if not vary:
        headers["Vary"] = "Origin"
    elif "origin" not in vary.lower():
        headers["Vary"] = vary + ", Origin"


def cors_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween answering preflights and adding CORS headers to cross-origin responses."""
    settings = registry.settings
    policy = CorsPolicy(settings["cors_origins"], settings["cors_max_age_seconds"])

    def cors_tween(request: Request) -> Any:
        environ = request.environ
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or not policy.allows(origin):
            return handler(request)
        if environ["REQUEST_METHOD"] == "OPTIONS" and (
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        ):
            return policy.preflight(request, origin)
        response = handler(request)
        policy.add_headers(response, origin)
        return response

    return cors_tween
