"""Cross-cutting: the ``Backoff`` header asking clients to slow down.

When ``backoff`` is set (seconds), every response carries ``Backoff: <seconds>``. Without it the
tween is not even in the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

__all__ = ["HEADER", "backoff_tween_factory"]

HEADER = "Backoff"


def backoff_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween adding ``Backoff`` to every response when the ``backoff`` setting is set."""
    seconds = registry.settings.get("backoff")
    if seconds is None:
        return handler
    value = str(seconds)

    def backoff_tween(request: Request) -> Any:
        response = handler(request)
        response.headers[HEADER] = value
        return response

    return backoff_tween
