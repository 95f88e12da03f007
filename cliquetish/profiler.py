"""Optional profiling middleware (standard library ``cProfile``, no extra dependency).

With ``profiler_enabled``, :func:`install_profiler` (called by
``cliquetish.install_middlewares(app, settings)``) wraps the WSGI application so that each
request writes one ``.prof`` file into ``profiler_dir``, named after the method, the path, the
time and a random suffix. Read them with ``python -m pstats`` or snakeviz. Never enable it in
production: profiling slows every request down.
"""

from __future__ import annotations

import cProfile
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["ProfilerMiddleware", "install_profiler"]

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
_MAX_PATH_CHARS = 80

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ProfilerMiddleware:
    """WSGI middleware profiling each request (the call and the body iteration)."""

    def __init__(self, app: WSGIApp, directory: str) -> None:
        self.app = app
        self.directory = directory
        self.registry = getattr(app, "registry", None)  # like the Pyramid router it wraps
        os.makedirs(directory, exist_ok=True)

    def filename(self, environ: Mapping[str, Any]) -> str:
        """``<METHOD>.<path>.<milliseconds>.<random>.prof`` with only safe characters."""
        path = _UNSAFE_FILENAME_CHARS.sub("_", environ.get("PATH_INFO", "")).strip("_")
        method = _UNSAFE_FILENAME_CHARS.sub("_", environ.get("REQUEST_METHOD", "GET"))
        stamp = int(time.time() * 1000)
        name = f"{method}.{path[:_MAX_PATH_CHARS] or 'root'}.{stamp}.{uuid.uuid4().hex[:8]}.prof"
        return os.path.join(self.directory, name)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        profile = cProfile.Profile()
        body: list[bytes] = []

        def run() -> None:
            result = self.app(environ, start_response)
            try:
                body.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        try:
            profile.runcall(run)
        finally:
            profile.dump_stats(self.filename(environ))
        return body


def install_profiler(app: Any, settings: Mapping[str, Any]) -> Any:
    """Return ``app``, wrapped with :class:`ProfilerMiddleware` when ``profiler_enabled``."""
    if not settings.get("profiler_enabled"):
        return app
    return ProfilerMiddleware(app, settings.get("profiler_dir") or ".")
