"""Permission and cache servers going down and coming back: BackendError, heartbeat false and
503 answers, then recovery without a restart of the application.

Each class runs its own private server (tests/private_servers.py), never the shared one.
"""

from __future__ import annotations

import unittest
from typing import Any
from unittest import mock

from pyramid.config import Configurator

from cliquetish.cache import postgresql as postgresql_cache
from cliquetish.cache import redis as redis_cache
from cliquetish.permission import postgresql as postgresql_permission
from cliquetish.permission import redis as redis_permission
from cliquetish.storage import BackendError
from cliquetish.storage.postgresql import client as postgresql_client
from cliquetish.testing import auth_headers
from tests.auth.app import make_auth_app
from tests.private_servers import PrivatePostgreSQL, PrivateRedis, require_binaries


class ServerDownMixin:
    """What the permission and cache backends of one server kind do when it stops."""

    server: Any
    kind = ""

    def settings(self) -> dict[str, Any]:
        url = self.server.url
        return {
            "permission_backend": f"cliquetish.permission.{self.kind}", "permission_url": url,
            "permission_pool_timeout_seconds": 2,
            "cache_backend": f"cliquetish.cache.{self.kind}", "cache_url": url,
            "cache_pool_timeout_seconds": 2,
        }

    def load(self) -> tuple[Any, Any]:
        config = Configurator(settings=self.settings())
        modules = {"postgresql": (postgresql_permission, postgresql_cache),
                   "redis": (redis_permission, redis_cache)}[self.kind]
        permission, cache = (module.load_from_config(config) for module in modules)
        permission.initialize_schema()
        cache.initialize_schema()
        return permission, cache

    def test_calls_fail_with_backend_error_then_recover(self: Any) -> None:
        permission, cache = self.load()
        permission.add_principal_to_ace("/articles/1", "read", "user:1")
        cache.set("key", "value", 60)
        self.server.stop()
        calls = [
            lambda: permission.check_permission("/articles/1", ["read"], ["user:1"]),
            lambda: permission.accessible_objects(["user:1"], ["read"]),
            lambda: permission.replace_object_permissions("/articles/1", {"read": set()}),
            lambda: permission.get_user_principals("user:1"),
            lambda: cache.get("key"),
            lambda: cache.set("key", "other", 60),
            lambda: cache.ttl("key"),
            lambda: cache.flush(),
        ]
        for call in calls:
            with self.assertRaises(BackendError):
                call()
        self.assertIs(permission.ping(), False)
        self.assertIs(cache.ping(), False)
        self.server.start()
        self.assertIs(permission.ping(), True)
        self.assertIs(cache.ping(), True)
        permission.add_principal_to_ace("/articles/2", "read", "user:1")
        self.assertTrue(permission.check_permission("/articles/2", ["read"], ["user:1"]))
        cache.set("again", [1], 60)
        self.assertEqual(cache.get("again"), [1])

    def test_requests_get_503_then_recover(self: Any) -> None:
        app = make_auth_app({**self.settings(), "retry_after_seconds": 7,
                             "heartbeat_timeout_seconds": 5})
        headers = auth_headers("down")
        self.assertEqual(app.get("/v1/whoami", headers=headers).status_int, 200)
        self.server.stop()
        # a user whose principals this process has not read recently (they are kept briefly)
        response = app.get("/v1/whoami", headers=auth_headers("down-unseen"), status=503)
        self.assertEqual(response.json["errno"], 201)
        self.assertEqual(response.headers["Retry-After"], "7")
        # anonymous requests need no group: they still work
        self.assertEqual(app.get("/v1/whoami").json["principals"], ["system.Everyone"])
        heartbeat = app.get("/v1/__heartbeat__", status=503).json
        self.assertEqual((heartbeat["permission"], heartbeat["cache"]), (False, False))
        self.server.start()
        heartbeat = app.get("/v1/__heartbeat__").json
        self.assertEqual((heartbeat["permission"], heartbeat["cache"]), (True, True))
        self.assertEqual(app.get("/v1/whoami", headers=headers).status_int, 200)


class PostgreSQLDownTest(ServerDownMixin, unittest.TestCase):
    kind = "postgresql"

    @classmethod
    def setUpClass(cls) -> None:
        require_binaries("pg_ctl")
        cls.server = PrivatePostgreSQL()
        cls.addClassCleanup(cls.server.destroy)
        cls.server.start()

    def setUp(self) -> None:
        # Ping pooled connections on every checkout, so that recovery does not depend on how
        # long the restart took.
        patcher = mock.patch.object(postgresql_client, "IDLE_PING_SECONDS", 0.0)
        patcher.start()
        self.addCleanup(patcher.stop)


class RedisDownTest(ServerDownMixin, unittest.TestCase):
    kind = "redis"

    @classmethod
    def setUpClass(cls) -> None:
        require_binaries("redis-server")
        cls.server = PrivateRedis()
        cls.addClassCleanup(cls.server.destroy)
        cls.server.start()
