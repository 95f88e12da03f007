"""Helpers for testing an application built on cliquetish (ours and our users').

``make_app(settings)`` returns a :class:`webtest.TestApp` around the real WSGI application, by
default the demo with in-memory backends::

    app = make_app({"readonly": "true"})
    app.get("/v1/", status=200)

``BaseWebTest`` does the same for ``unittest`` classes.
"""

from __future__ import annotations

import base64
import unittest
from collections.abc import Callable, Mapping
from typing import Any

import webtest

from cliquetish.interfaces import ICache, IPermission, IStorage

__all__ = [
    "DEFAULT_SETTINGS",
    "BaseWebTest",
    "auth_headers",
    "flush_backends",
    "make_app",
    "prefixed",
]

DEFAULT_SETTINGS: dict[str, Any] = {
    "userid_hmac_secret": "testing-secret",
    "storage_backend": "cliquetish.storage.memory",
    "cache_backend": "cliquetish.cache.memory",
    "permission_backend": "cliquetish.permission.memory",
}
"""Unprefixed settings of a test application: in-memory backends and a known secret."""


def prefixed(settings: Mapping[str, Any], prefix: str = "cliquetish") -> dict[str, Any]:
    """Add ``prefix.`` to every key that has no dot-prefix yet (``tm.*`` and such are kept)."""
    result: dict[str, Any] = {}
    for key, value in settings.items():
        has_namespace = key.startswith(prefix + ".") or key.split(".")[0] in ("tm", "pyramid")
        result[key if has_namespace else f"{prefix}.{key}"] = value
    return result


def make_app(
    settings: Mapping[str, Any] | None = None,
    app_factory: Callable[..., Any] | None = None,
    extra_environ: Mapping[str, str] | None = None,
) -> webtest.TestApp:
    """A TestApp of ``app_factory`` (the demo by default) with :data:`DEFAULT_SETTINGS`
    updated by ``settings`` (unprefixed keys)."""
    if app_factory is None:
        from cliquetish.demo import main as app_factory
    merged = {**DEFAULT_SETTINGS, **(settings or {})}
    wsgi_app = app_factory({}, **prefixed(merged))
    environ = {"HTTP_HOST": "localhost:80", **(extra_environ or {})}
    return webtest.TestApp(wsgi_app, extra_environ=environ)


def auth_headers(user: str = "alice", password: str = "secret") -> dict[str, str]:  # noqa: S107
    """The ``Authorization`` header of HTTP basic auth for ``user:password``."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


class BaseWebTest(unittest.TestCase):
    """A test case with ``self.app`` (a TestApp) and ``self.headers`` (alice's credentials).

    Override :meth:`get_app_settings` to change settings; the app is built once per class.
    """

    app: webtest.TestApp
    headers: dict[str, str]

    @classmethod
    def get_app_settings(cls, extras: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Unprefixed settings of the app under test."""
        return {**DEFAULT_SETTINGS, **(extras or {})}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.app = make_app(cls.get_app_settings())
        cls.headers = {"Content-Type": "application/json", **auth_headers()}

    def tearDown(self) -> None:
        flush_backends(self.app)
        super().tearDown()


def flush_backends(app: webtest.TestApp) -> None:
    """Empty the storage, cache and permission backends of the app under test."""
    registry = app.app.registry
    for marker in (IStorage, ICache, IPermission):
        backend = registry.queryUtility(marker)
        if backend is not None:
            backend.flush()
