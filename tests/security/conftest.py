"""The application of the security tests: the demo plus two views that fail on purpose.

``GET /v1/boom`` raises an unexpected exception (a bug: 500 errno 999) whose message holds a
marker that must never reach a client; ``GET /v1/backend-down`` raises the
:class:`~cliquetish.storage.BackendError` a dead database gives (503 errno 201).
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.request import Request

import cliquetish
from cliquetish.storage import BackendError
from cliquetish.testing import auth_headers, flush_backends, make_app
from tests.hostile.demo_apps import DEMO_SETTINGS

PASSWORD = "correct-horse-battery-staple"
"""Alice's password in every security test: it must appear in no response and no log line."""
HMAC_SECRET = "hmac-secret-that-must-stay-home"
EXCEPTION_MARKER = "internal-detail-7f3a"
"""Text of the exceptions raised by the failing views: server-side only."""

ALICE = {**auth_headers("alice", PASSWORD), "Content-Type": "application/json"}
BOB = {**auth_headers("bob", "bob-" + PASSWORD), "Content-Type": "application/json"}
SETTINGS = {**DEMO_SETTINGS, "userid_hmac_secret": HMAC_SECRET}


def boom_view(request: Request) -> Any:
    """A bug in a view."""
    raise RuntimeError(f"{EXCEPTION_MARKER}: the view failed")


def backend_down_view(request: Request) -> Any:
    """A database that went away."""
    raise BackendError(ConnectionError(f"{EXCEPTION_MARKER} refused"))


def app_factory(global_config: Any = None, **settings: Any) -> Any:
    """The demo resources plus the two failing views, under /v1."""
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan("cliquetish.demo")
    for name, view in (("boom", boom_view), ("backend-down", backend_down_view)):
        config.add_route(name, f"/{name}")
        config.add_view(view, route_name=name)
    return config.make_wsgi_app()


_APPS: dict[tuple[tuple[str, str], ...], webtest.TestApp] = {}


def security_app(**extra: Any) -> webtest.TestApp:
    """The security test application with ``extra`` settings (built once per settings)."""
    key = tuple(sorted((name, str(value)) for name, value in extra.items()))
    if key not in _APPS:
        _APPS[key] = make_app({**SETTINGS, **extra}, app_factory=app_factory)
    return _APPS[key]


@pytest.fixture
def app() -> webtest.TestApp:
    """The security test application on memory backends, emptied after the test."""
    test_app = security_app()
    yield test_app
    flush_backends(test_app)
