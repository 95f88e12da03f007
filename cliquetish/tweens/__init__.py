"""The request pipeline: one tween per stage, in an explicit order (see docs/pipeline.rst).

From the WSGI server inwards::

    REQUEST_ID → REQUEST_LOG → SECURITY_HEADERS → CORS → BACKOFF → RETRY_AFTER → ERRORS
    → END_OF_SERVICE → READONLY → BODY_LIMIT → METRICS → TRANSACTION (pyramid_tm)
    → EXCEPTION_VIEWS (pyramid's excview) → ROUTING (the router and the view)

Each name below is the dotted name of a tween factory, to be used as ``over=`` or ``under=``
when adding a tween of your own at a given stage::

    config.add_tween("myapp.tweens.audit_tween_factory",
                     under=cliquetish.tweens.BODY_LIMIT, over=cliquetish.tweens.METRICS)

Stages that a setting turns off (``backoff``, ``eos``, ``readonly``, ``statsd_url``) stay in the
order but hand the request straight to the next stage, at no cost.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.tweens import EXCVIEW, INGRESS, MAIN

from cliquetish.logs import install_request_id_filter
from cliquetish.tweens.request_id import request_id_from

__all__ = [
    "BACKOFF",
    "BODY_LIMIT",
    "CORS",
    "END_OF_SERVICE",
    "ERRORS",
    "EXCEPTION_VIEWS",
    "INGRESS",
    "METRICS",
    "PIPELINE",
    "READONLY",
    "REQUEST_ID",
    "REQUEST_LOG",
    "RETRY_AFTER",
    "ROUTING",
    "SECURITY_HEADERS",
    "TRANSACTION",
    "includeme",
]

_PACKAGE = "cliquetish.tweens"

REQUEST_ID = f"{_PACKAGE}.request_id.request_id_tween_factory"
"""Level 0, receiving: ``request.request_id``, ``X-Request-Id``, ``rid`` on log lines."""
REQUEST_LOG = f"{_PACKAGE}.request_log.request_log_tween_factory"
"""Level 1, pre-routing: the ``request.summary`` log line."""
SECURITY_HEADERS = f"{_PACKAGE}.security_headers.security_headers_tween_factory"
"""Level 9, sending: ``X-Content-Type-Options`` and ``Content-Security-Policy``."""
CORS = f"{_PACKAGE}.cors.cors_tween_factory"
"""Level 9, sending: CORS preflights and headers, errors included."""
BACKOFF = f"{_PACKAGE}.backoff.backoff_tween_factory"
"""Cross-cutting: the ``Backoff`` header."""
RETRY_AFTER = f"{_PACKAGE}.retry_after.retry_after_tween_factory"
"""Cross-cutting: ``Retry-After`` on 503 and 409."""
ERRORS = f"{_PACKAGE}.errors.errors_tween_factory"
"""Levels 7 and 8: last-resort JSON error (500 errno 999) and error log."""
END_OF_SERVICE = f"{_PACKAGE}.end_of_service.end_of_service_tween_factory"
"""Cross-cutting: ``Alert`` header, 410 errno 202 past the ``eos`` date."""
READONLY = f"{_PACKAGE}.readonly.readonly_tween_factory"
"""Cross-cutting: 405 errno 115 on writes when ``readonly``."""
BODY_LIMIT = f"{_PACKAGE}.body_limit.body_limit_tween_factory"
"""Level 3, pre-main: 413 errno 113 over ``max_request_body_bytes``."""
METRICS = f"{_PACKAGE}.metrics.metrics_tween_factory"
"""Level 4, main: statsd timer and counter per view."""
TRANSACTION = "pyramid_tm.tm_tween_factory"
"""One transaction per request, aborted on any error (pyramid_tm)."""
EXCEPTION_VIEWS = EXCVIEW
"""Level 7: Pyramid's exception views turn known exceptions into JSON errors."""
ROUTING = MAIN
"""Levels 2 to 5: routing, validation, the view, rendering (Pyramid's router)."""

PIPELINE: tuple[str, ...] = (
    REQUEST_ID,
    REQUEST_LOG,
    SECURITY_HEADERS,
    CORS,
    BACKOFF,
    RETRY_AFTER,
    ERRORS,
    END_OF_SERVICE,
    READONLY,
    BODY_LIMIT,
    METRICS,
)
"""Our tweens, from the WSGI server inwards. They all sit above :data:`TRANSACTION`."""


def includeme(config: Configurator) -> None:
    """Add the pipeline tweens, each pinned between its neighbours."""
    config.add_request_method(request_id_from, "request_id", reify=True)
    config.include("cliquetish.metrics")
    install_request_id_filter()
    for index, name in enumerate(PIPELINE):
        under = PIPELINE[index - 1] if index else INGRESS
        over = PIPELINE[index + 1] if index + 1 < len(PIPELINE) else (TRANSACTION, EXCVIEW)
        config.add_tween(name, under=under, over=over)
