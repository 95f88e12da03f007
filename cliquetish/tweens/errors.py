"""Levels 7 and 8, error handling and logging: the last resort for uncaught exceptions.

The exception views (:mod:`cliquetish.views.errors`) turn known exceptions into JSON errors
inside the transaction. Whatever still escapes (an unexpected exception in a view, a failing
commit, a bug in an inner tween) reaches this tween: it tries the exception views once more,
then answers ``500`` errno 999 with the JSON body of the protocol. The traceback goes to the
``cliquetish.errors`` logger with the request id, never into the response; request headers
(credentials) are never logged.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.errors import ERRORS, http_error

__all__ = ["internal_error_response", "errors_tween_factory", "logger"]

logger = logging.getLogger("cliquetish.errors")


def internal_error_response(request: Request, error: BaseException) -> Response:
    """Log ``error`` with the request id and return the ``500`` errno 999 JSON error."""
    rid = request.request_id
    logger.error(
        "Uncaught %s on %s %s",
        type(error).__name__,
        request.environ.get("REQUEST_METHOD"),
        request.environ.get("PATH_INFO", "").encode("latin-1", "replace").decode(
            "utf-8", "replace"
        ),
        exc_info=error,
        extra={"rid": rid},
    )
    return http_error(
        500,
        ERRORS.UNDEFINED,
        f"Internal server error; it was logged with the request id {rid}.",
    )


def _exception_view_response(request: Request) -> Response | None:
    """The answer of an exception view for the exception being handled, if one applies."""
    try:
        return request.invoke_exception_view(sys.exc_info(), reraise=False)
    except HTTPNotFound:
        return None
    except Exception:  # noqa: BLE001 - a failing exception view falls back to the plain 500
        logger.exception("Exception view failed", extra={"rid": request.request_id})
        return None


def errors_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween turning any exception that escaped the exception views into a JSON error."""

    def errors_tween(request: Request) -> Any:
        try:
            return handler(request)
        except Exception as error:  # noqa: BLE001 - the last resort answers every exception
            response = _exception_view_response(request)
            if response is None:
                response = internal_error_response(request, error)
            return response

    return errors_tween
