"""A storage server going down and coming back: BackendError / 503, then recovery.

Each test class runs its own private server (tests/private_servers.py), never the shared one.
"""

from __future__ import annotations

import unittest
from typing import Any
from unittest import mock

from pyramid.config import Configurator

from cliquetish.storage import BackendError
from cliquetish.storage.postgresql import client as postgresql_client
from cliquetish.storage.postgresql import load_from_config as load_postgresql
from cliquetish.storage.redis import load_from_config as load_redis
from cliquetish.testing import auth_headers, make_app
from tests.private_servers import PrivatePostgreSQL, PrivateRedis, require_binaries

COLLECTION, PARENT = "notes", "/users/down"


class BackendDownMixin:
    """What every storage must do when its server stops, then starts again."""

    server: Any
    backend_module = ""
    keeps_data = True
    """False for a server that forgets everything when it stops (Redis without persistence)."""

    def load(self) -> Any:
        raise NotImplementedError

    def test_calls_fail_with_backend_error_then_recover(self) -> None:
        storage = self.load()
        record = storage.create(COLLECTION, PARENT, {"title": "kept"})
        self.server.stop()
        calls = (
            lambda: storage.get(COLLECTION, PARENT, record["id"]),
            lambda: storage.create(COLLECTION, PARENT, {"title": "lost"}),
            lambda: storage.get_all(COLLECTION, PARENT),
            lambda: storage.collection_timestamp(COLLECTION, PARENT),
        )
        for call in calls:
            with self.assertRaises(BackendError):
                call()
        self.assertFalse(storage.ping())
        self.server.start()
        self.assertTrue(storage.ping())
        again = storage.create(COLLECTION, PARENT, {"title": "after"})
        self.assertEqual(storage.get(COLLECTION, PARENT, again["id"]), again)
        if self.keeps_data:
            self.assertEqual(storage.get(COLLECTION, PARENT, record["id"]), record)

    def test_first_call_after_a_restart_succeeds(self) -> None:
        storage = self.load()
        record = storage.create(COLLECTION, PARENT, {"title": "kept"})
        self.server.stop()
        self.server.start()
        self.assertEqual(storage.get(COLLECTION, PARENT, record["id"])["title"], "kept")

    def test_requests_get_503_errno_201_then_recover(self) -> None:
        app = make_app({"storage_backend": self.backend_module, "storage_url": self.server.url,
                        "storage_pool_timeout_seconds": 2, "retry_after_seconds": 7,
                        "heartbeat_timeout_seconds": 5})
        headers = auth_headers("down")
        prefix = "/" + app.app.registry.settings["version_prefix"]
        bookmarks = f"{prefix}/bookmarks"
        app.post_json(bookmarks, {"data": {"url": "https://a.example"}}, headers=headers)
        self.server.stop()
        response = app.get(f"{prefix}/bookmarks", headers=headers, status=503)
        self.assertEqual(response.json["errno"], 201)
        self.assertEqual(response.headers["Retry-After"], "7")
        heartbeat = app.get(f"{prefix}/__heartbeat__", status=503)
        self.assertIs(heartbeat.json["storage"], False)
        self.server.start()
        self.assertIs(app.get(f"{prefix}/__heartbeat__").json["storage"], True)
        app.post_json(bookmarks, {"data": {"url": "https://b.example"}}, headers=headers)
        listing = app.get(f"{prefix}/bookmarks", headers=headers)
        expected = ["https://b.example", "https://a.example"][:2 if self.keeps_data else 1]
        self.assertEqual([r["url"] for r in listing.json["data"]], expected)


class PostgreSQLDownTest(BackendDownMixin, unittest.TestCase):
    backend_module = "cliquetish.storage.postgresql"

    @classmethod
    def setUpClass(cls) -> None:
        require_binaries("pg_ctl")
        cls.server = PrivatePostgreSQL()
        cls.addClassCleanup(cls.server.destroy)
        cls.server.start()

    def setUp(self) -> None:
        # Ping every pooled connection on checkout, whatever its idle time, so that the
        # restart test does not depend on how long a restart takes.
        patcher = mock.patch.object(postgresql_client, "IDLE_PING_SECONDS", 0.0)
        patcher.start()
        self.addCleanup(patcher.stop)

    def load(self) -> Any:
        storage = load_postgresql(Configurator(settings={
            "storage_url": self.server.url, "storage_pool_timeout_seconds": 2}))
        storage.initialize_schema()
        return storage


class RedisDownTest(BackendDownMixin, unittest.TestCase):
    backend_module = "cliquetish.storage.redis"
    keeps_data = False

    @classmethod
    def setUpClass(cls) -> None:
        require_binaries("redis-server")
        cls.server = PrivateRedis()
        cls.addClassCleanup(cls.server.destroy)
        cls.server.start()

    def load(self) -> Any:
        return load_redis(Configurator(settings={
            "storage_url": self.server.url, "storage_pool_timeout_seconds": 2}))

    def test_first_call_after_a_restart_succeeds(self) -> None:
        # Redis keeps no data across this restart (persistence is off): check the call works.
        storage = self.load()
        storage.create(COLLECTION, PARENT, {"title": "before"})
        self.server.stop()
        self.server.start()
        self.assertEqual(storage.get_all(COLLECTION, PARENT), ([], None))
