"""Level 9, sending: security headers on every response, errors and redirects included.

``X-Content-Type-Options: nosniff`` keeps browsers from guessing a type for a JSON body, and
``Content-Security-Policy: default-src 'none'`` forbids any active content in what we serve. A
header a view already set is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

__all__ = ["SECURITY_HEADERS", "security_headers_tween_factory"]

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'"),
)


def security_headers_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween adding :data:`SECURITY_HEADERS` to each response."""

    def security_headers_tween(request: Request) -> Any:
        response = handler(request)
        headerlist = response.headerlist
        present = {name.lower() for name, _ in headerlist}
        for name, value in SECURITY_HEADERS:
            if name.lower() not in present:
                headerlist.append((name, value))
        return response

    return security_headers_tween
