"""Cross-cutting: ``Retry-After`` on 503 (unavailable) and 409 (conflict) answers.

The value is the ``retry_after_seconds`` setting; a ``Retry-After`` set by a view is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

__all__ = ["HEADER", "RETRY_STATUSES", "retry_after_tween_factory"]

HEADER = "Retry-After"
RETRY_STATUSES = frozenset({409, 503})


def retry_after_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween adding ``Retry-After`` to 503 and 409 responses."""
    value = str(registry.settings["retry_after_seconds"])

    def retry_after_tween(request: Request) -> Any:
        response = handler(request)
        if response.status_code in RETRY_STATUSES and HEADER not in response.headers:
            response.headers[HEADER] = value
        return response

    return retry_after_tween
