"""Fixtures of the resource tests: the test application on each storage backend.

``app`` is parametrized over the memory backends, PostgreSQL (storage and permission in
``CLIQUETISH_TEST_POSTGRESQL_URL``) and the Redis storage (``CLIQUETISH_TEST_REDIS_URL``);
every test gets empty backends.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator

import cliquetish
from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import DEFAULT_SETTINGS, auth_headers, flush_backends, make_app
from tests.servers import require_postgresql, require_redis

PREFIX = "/v1"

BASE_SETTINGS: dict[str, Any] = {
    **DEFAULT_SETTINGS,
    "article_create_principals": "system.Authenticated",
    "page_create_principals": "system.Authenticated",
}


def app_factory(global_config: Any = None, **settings: Any) -> Any:
    """The demo resources and the test resources under /v1."""
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.2.0")
    config.scan("cliquetish.demo")
    config.scan("tests.resource.resources")
    return config.make_wsgi_app()


def postgresql_settings() -> dict[str, Any]:
    """Settings putting storage and permissions in the test PostgreSQL database."""
    url = require_postgresql()
    settings = {"storage_backend": "cliquetish.storage.postgresql", "storage_url": url}
    try:
        module = importlib.import_module("cliquetish.permission.postgresql")
    except ImportError:
        module = None
    if module is not None and hasattr(module, "load_from_config"):
        settings.update(permission_backend="cliquetish.permission.postgresql",
                        permission_url=url)
    return settings


def redis_settings() -> dict[str, Any]:
    """Settings putting the records in the test Redis database."""
    return {"storage_backend": "cliquetish.storage.redis", "storage_url": require_redis()}


BACKENDS = {"memory": dict, "postgresql": postgresql_settings, "redis": redis_settings}

_APPS: dict[tuple[str, tuple[tuple[str, str], ...]], webtest.TestApp] = {}


def build_app(backend: str, extra: dict[str, Any] | None = None) -> webtest.TestApp:
    """The test app on ``backend`` with ``extra`` settings (built once per combination)."""
    key = (backend, tuple(sorted((k, str(v)) for k, v in (extra or {}).items())))
    app = _APPS.get(key)
    if app is None:
        settings = {**BASE_SETTINGS, **BACKENDS[backend](), **(extra or {})}
        app = make_app(settings, app_factory=app_factory)
        registry = app.app.registry
        for marker in (IStorage, IPermission):
            backend_object = registry.queryUtility(marker)
            if backend_object is not None:
                backend_object.initialize_schema()
        _APPS[key] = app
    return app


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the storage backend under test."""
    if request.param == "postgresql":
        require_postgresql()
    elif request.param == "redis":
        require_redis()
    return request.param


@pytest.fixture
def app(backend: str) -> Iterator[webtest.TestApp]:
    """The test application with empty backends."""
    test_app = build_app(backend)
    flush_backends(test_app)
    yield test_app
    flush_backends(test_app)


@pytest.fixture
def app_with(backend: str) -> Iterator[Any]:
    """A builder of test applications with extra settings: ``app_with(paginate_by=2)``."""
    built: list[webtest.TestApp] = []

    def make(**extra: Any) -> webtest.TestApp:
        test_app = build_app(backend, extra)
        flush_backends(test_app)
        built.append(test_app)
        return test_app

    yield make
    for test_app in built:
        flush_backends(test_app)


ALICE = {**auth_headers("alice", "secret"), "Content-Type": "application/json"}
BOB = {**auth_headers("bob", "secret"), "Content-Type": "application/json"}
