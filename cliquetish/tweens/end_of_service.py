"""Cross-cutting: announce the end of service, then refuse to serve past it.

With ``eos`` set to a date (``YYYY-MM-DD``), every response carries an ``Alert`` header, a JSON
object ``{"code": "soft-eol", "message": eos_message, "url": eos_url}``; once the date is past,
every request is answered ``410 Gone`` errno 202 with ``"code": "hard-eol"`` in the header.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.errors import ERRORS, ConfigurationError, http_error

__all__ = ["HEADER", "alert_header", "end_of_service_tween_factory", "parse_eos"]

HEADER = "Alert"


def parse_eos(value: str) -> datetime.date | None:
    """The ``eos`` setting as a date (None when empty).

    :raises ConfigurationError: it is not a ``YYYY-MM-DD`` date.
    """
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise ConfigurationError(
            f"Invalid setting eos = {value!r}: expected a date as YYYY-MM-DD", key="eos"
        ) from error


def alert_header(code: str, settings: Mapping[str, Any]) -> str:
    """The ``Alert`` header value (ASCII JSON, so no byte of it can break the header)."""
    alert = {"code": code, "message": settings.get("eos_message") or "", "url": settings.get(
        "eos_url") or ""}
    return json.dumps({key: value for key, value in alert.items() if value}, ensure_ascii=True)


def end_of_service_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween adding ``Alert`` before the ``eos`` date and answering 410 after it."""
    settings = registry.settings
    eos = parse_eos(settings.get("eos") or "")
    if eos is None:
        return handler
    soft_alert = alert_header("soft-eol", settings)
    hard_alert = alert_header("hard-eol", settings)
    message = settings.get("eos_message") or f"The service was retired on {eos.isoformat()}."

    def end_of_service_tween(request: Request) -> Any:
        if datetime.date.today() > eos:
            response = http_error(410, ERRORS.SERVICE_DEPRECATED, message)
            response.headers[HEADER] = hard_alert
            return response
        response = handler(request)
        response.headers[HEADER] = soft_alert
        return response

    return end_of_service_tween
