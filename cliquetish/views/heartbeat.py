"""``__heartbeat__`` (every registered check) and ``__lbheartbeat__`` (no backend at all).

``__heartbeat__`` runs the checks added with ``config.add_heartbeat(name, check)`` (each backend
adds one) concurrently in a thread pool and waits at most ``heartbeat_timeout_seconds`` for all of
them. The body maps each name to its result: ``200`` when every check returned true, ``503`` with
the same map when one returned false, raised (logged) or did not finish in time. Concurrent
heartbeat requests share a check that is still running instead of starting it again, so a hung
backend never piles up threads and two probes never race each other.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from cliquetish.cornice_hooks import add_service
from cliquetish.directives import heartbeat_checks
from cliquetish.views import json_response
from cliquetish.views.errors import json_error_handler

__all__ = ["HeartbeatRunner", "includeme", "lbheartbeat_view"]

logger = logging.getLogger("cliquetish.heartbeat")


class HeartbeatRunner:
    """Runs the heartbeat checks of one application; its instance is the view."""

    def __init__(self, timeout_seconds: float) -> None:
        self.__name__ = "heartbeat_view"  # the name views are known by (debug toolbar, cornice)
        self.timeout = timeout_seconds
        self._executor: ThreadPoolExecutor | None = None
        self._running: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def _executor_for(self, count: int) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=max(count, 1), thread_name_prefix="cliquetish-heartbeat"
            )
        return self._executor

    def _start(self, checks: dict[str, Callable[[Any], bool]], request: Request) -> dict[
            str, Future[Any]]:
        """The future of each check: the one still running, or a new one."""
        futures: dict[str, Future[Any]] = {}
        with self._lock:
            executor = self._executor_for(len(checks))
            for name, check in checks.items():
                future = self._running.get(name)
                if future is None or future.done():
                    context = contextvars.copy_context()
                    future = executor.submit(context.run, check, request)
                    self._running[name] = future
                futures[name] = future
        return futures

    def run(self, request: Request) -> dict[str, bool]:
        """``{name: passed}`` for every registered check."""
        checks = dict(heartbeat_checks(request.registry))
        if not checks:
            return {}
        futures = self._start(checks, request)
        wait(futures.values(), timeout=self.timeout)
        return {name: self._outcome(name, future) for name, future in futures.items()}

    def _outcome(self, name: str, future: Future[Any]) -> bool:
        if not future.done():
            logger.warning("Heartbeat check %r did not answer in %s s", name, self.timeout)
            return False
        error = future.exception()
        if error is not None:
            logger.error("Heartbeat check %r failed", name, exc_info=error)
            return False
        return bool(future.result())

    def __call__(self, request: Request) -> Response:
        results = self.run(request)
        return json_response(request, results, 200 if all(results.values()) else 503)


def lbheartbeat_view(request: Request) -> Response:
    """``{}``: the process answers. No backend is touched."""
    return json_response(request, {})


def includeme(config: Configurator) -> None:
    """Add ``__heartbeat__`` and ``__lbheartbeat__``."""
    settings = config.get_settings()
    for name, path, view, description in (
        ("heartbeat", "/__heartbeat__", HeartbeatRunner(settings["heartbeat_timeout_seconds"]),
         "Health of every backend (503 when one fails)."),
        ("lbheartbeat", "/__lbheartbeat__", lbheartbeat_view,
         "The process is up; touches no backend (for load balancers)."),
    ):
        service = Service(
            name=name,
            path=path,
            description=description,
            error_handler=json_error_handler,
            permission=NO_PERMISSION_REQUIRED,
        )
        service.add_view("GET", view)
        add_service(config, service)
