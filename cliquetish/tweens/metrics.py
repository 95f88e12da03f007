"""Level 4, main: a statsd timer and a status counter per view.

For each request: a timer ``view.<route name>.<METHOD>`` and a counter
``view.<route name>.<METHOD>.<status>`` (``unmatched`` stands for requests no route matched).
Without ``statsd_url`` the tween is not in the pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.metrics import get_metrics, metric_name

__all__ = ["UNMATCHED", "metrics_tween_factory"]

UNMATCHED = "unmatched"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def metrics_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween timing each view and counting its statuses."""
    metrics = get_metrics(registry)
    if not metrics.enabled:
        return handler
    names: dict[tuple[str, str], str] = {}

    def send(request: Request, status: int, started: float) -> None:
        route = getattr(request, "matched_route", None)
        method = request.environ["REQUEST_METHOD"]
        key = (
            route.name if route is not None else UNMATCHED,
            method if method in _KNOWN_METHODS else "OTHER",
        )
        name = names.get(key)
        if name is None:
            name = names.setdefault(key, metric_name("view", *key))
        metrics.timing(name, (time.perf_counter() - started) * 1000)
        metrics.count(f"{name}.{status}")

    def metrics_tween(request: Request) -> Any:
        started = time.perf_counter()
        try:
            response = handler(request)
        except Exception:
            send(request, 500, started)
            raise
        send(request, response.status_code, started)
        return response

    return metrics_tween
