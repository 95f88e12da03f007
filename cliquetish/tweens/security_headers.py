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
_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)


def security_headers_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween adding :data:`SECURITY_HEADERS` to each response."""

    def security_headers_tween(request: Request) -> Any:
        response = handler(request)
        headerlist = response.headerlist
        for name, _ in headerlist:
            if name.lower() in _NAMES:  # a view set one of them: add the others only
                present = {name.lower() for name, _ in headerlist}
                headerlist.extend(header for header in SECURITY_HEADERS
                                  if header[0].lower() not in present)
                break
        else:  # the usual case: one pass over the names, no set built
            headerlist.extend(SECURITY_HEADERS)
        return response

    return security_headers_tween
