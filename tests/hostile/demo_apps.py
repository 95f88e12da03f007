"""The demo application (bookmarks and articles) on each backend, and a snapshot of its data.

Shared by the hostile-input, security and fuzzing tests: :func:`demo_app` builds the real WSGI
application of :mod:`cliquetish.demo` under ``/v1`` (in a :class:`webtest.TestApp`), once per
backend and settings; :func:`snapshot` reads back everything a request could have written, so
that a test can assert that a refused request wrote nothing.
"""

from __future__ import annotations

from typing import Any

import webtest

from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import DEFAULT_SETTINGS, auth_headers, flush_backends, make_app
from tests.servers import require_postgresql

BACKENDS = ("memory", "postgresql")

DEMO_SETTINGS: dict[str, Any] = {
    **DEFAULT_SETTINGS,
    "http_api_version": "1.0",
    "article_create_principals": "system.Authenticated",
}
"""Unprefixed settings of the demo under test (``/v1``; anyone authenticated writes articles)."""

ALICE = {**auth_headers("alice", "alice-password"), "Content-Type": "application/json"}
BOB = {**auth_headers("bob", "bob-password"), "Content-Type": "application/json"}

_APPS: dict[tuple[str, tuple[tuple[str, str], ...]], webtest.TestApp] = {}


def backend_settings(backend: str) -> dict[str, Any]:
    """Storage and permission settings of ``backend`` (``memory`` or ``postgresql``)."""
    if backend == "memory":
        return {}
    url = require_postgresql()
    return {
        "storage_backend": "cliquetish.storage.postgresql",
        "storage_url": url,
        "permission_backend": "cliquetish.permission.postgresql",
        "permission_url": url,
    }


def demo_app(backend: str, **extra: Any) -> webtest.TestApp:
    """The demo on ``backend`` with ``extra`` settings, schemas created, built once per process."""
    key = (backend, tuple(sorted((name, str(value)) for name, value in extra.items())))
    app = _APPS.get(key)
    if app is None:
        app = make_app({**DEMO_SETTINGS, **backend_settings(backend), **extra})
        registry = app.app.registry
        for marker in (IStorage, IPermission):
            registry.getUtility(marker).initialize_schema()
        _APPS[key] = app
    return app


def user_id(app: webtest.TestApp, headers: dict[str, str]) -> str:
    """The prefixed user id the application gives to these credentials."""
    return app.get("/v1/", headers=headers).json["user"]["id"]


def snapshot(app: webtest.TestApp) -> dict[str, Any]:
    """Every record, tombstone and article permission alice and bob can have, read from the
    backends directly (not through HTTP)."""
    registry = app.app.registry
    storage = registry.getUtility(IStorage)
    permission = registry.getUtility(IPermission)
    pairs = [("article", "")] + [("bookmark", user_id(app, who)) for who in (ALICE, BOB)]
    state: dict[str, Any] = {}
    for collection_id, parent_id in pairs:
        records, _ = storage.get_all(collection_id, parent_id, include_deleted=True)
        state[f"{collection_id}/{parent_id}"] = sorted(records, key=lambda r: r["id"])
    article_ids = sorted(record["id"] for record in state["article/"])
    state["permissions"] = {
        object_id: permission.object_permissions(f"/articles/{object_id}")
        for object_id in article_ids
    }
    return state


def reset(app: webtest.TestApp) -> None:
    """Empty the backends of ``app``."""
    flush_backends(app)
