"""Level 1, pre-routing: one ``request.summary`` log line per request.

Written through the ``cliquetish.request`` logger at INFO, with the fields ``agent``, ``path``,
``method``, ``querystring``, ``uid``, ``errno``, ``code``, ``t`` (milliseconds) and ``rid``. Nothing
is built when that logger is not enabled for INFO. Header values (``Authorization`` among them)
are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

__all__ = ["EVENT", "logger", "request_log_tween_factory", "request_summary"]

logger = logging.getLogger("cliquetish.request")
debug_logger = logging.getLogger(__name__)

EVENT = "request.summary"


def _user_id(request: Request) -> str | None:
    """The authenticated user id, looked up only when the request has credentials."""
    if "HTTP_AUTHORIZATION" not in request.environ:
        return None
    try:
        userid = getattr(request, "prefixed_userid", None)
        return userid if userid is not None else request.authenticated_userid
    except Exception:  # noqa: BLE001 - a failing policy must not lose the summary line
        debug_logger.debug("No user id for the request summary", exc_info=True)
        return None


def _path(environ: dict[str, Any]) -> str:
    """The request path as text, without failing on bytes that are not UTF-8."""
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


def request_summary(
    request: Request, code: int, errno: int | None, elapsed_ms: float
) -> dict[str, Any]:
    """The fields of the ``request.summary`` line."""
    environ = request.environ
    return {
        "agent": environ.get("HTTP_USER_AGENT"),
        "path": _path(environ),
        "method": environ.get("REQUEST_METHOD"),
        "querystring": environ.get("QUERY_STRING") or None,
        "uid": _user_id(request),
        "errno": errno,
        "code": code,
        "t": round(elapsed_ms, 2),
        "rid": request.request_id,
    }


def _log(request: Request, code: int, errno: int | None, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info(EVENT, extra={"fields": request_summary(request, code, errno, elapsed_ms)})


def request_log_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween writing the ``request.summary`` line once the response is known."""

    def request_log_tween(request: Request) -> Any:
        started = time.perf_counter()
        try:
            response = handler(request)
        except Exception:
            if logger.isEnabledFor(logging.INFO):
                _log(request, 500, None, started)
            raise
        if logger.isEnabledFor(logging.INFO):
            _log(request, response.status_code, getattr(response, "errno", None), started)
        return response

    return request_log_tween
