"""The Redis permission backend runs the contract suite against the real test server."""

from __future__ import annotations

import threading
import unittest

import redis as redis_py
import transaction

from cliquetish.cache.redis import redis_client
from cliquetish.permission import redis
from cliquetish.permission.testing import PermissionContract, PermissionServerContract
from tests.servers import require_redis


class TestRedisPermissionContract(PermissionContract, PermissionServerContract, unittest.TestCase):
    url: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.url = require_redis()

    def make_backend(self) -> redis.Permission:
        return redis.Permission(redis_client(self.url))

    def make_unreachable_backend(self) -> redis.Permission:
        return redis.Permission(redis_client("redis://127.0.0.1:1/0", timeout_seconds=0.5))

    def test_flush_keeps_keys_of_other_backends(self) -> None:
        raw = redis_py.Redis.from_url(self.url)
        raw.set("cache:something", "kept")
        self.addCleanup(raw.delete, "cache:something")
        self.permission.add_principal_to_ace("/articles/1", "read", "user:1")
        self._flush()
        self.assertEqual(raw.get("cache:something"), b"kept")
        self.assertEqual(list(raw.scan_iter(match="permission:*")), [])

    def test_deleting_an_object_cleans_the_principal_index(self) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", "user:1")
        self.permission.add_principal_to_ace("/articles/1", "write", "user:1")
        self.permission.delete_object_permissions("/articles/1")
        transaction.commit()
        raw = redis_py.Redis.from_url(self.url)
        self.assertEqual(list(raw.scan_iter(match="permission:*")), [])

    def test_permission_names_cannot_hold_colons(self) -> None:
        with self.assertRaises(ValueError):
            self.permission.add_principal_to_ace("/articles/1", "read:all", "user:1")

    def test_concurrent_replacements_keep_the_index_consistent(self) -> None:
        transaction.commit()

        def replace(worker: int) -> None:
            backend = self.make_backend()
            for index in range(30):
                backend.replace_object_permissions(
                    "/articles/shared", {"read": {f"user:{worker}", f"user:{10 + index % 3}"}})

        threads = [threading.Thread(target=replace, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        readers = self.permission.get_object_permission_principals("/articles/shared", "read")
        everyone = [f"user:{n}" for n in [0, 1, 2, 3, 10, 11, 12]]
        indexed = {p for p in everyone
                   if self.permission.accessible_objects([p], ["read"]) == {"/articles/shared"}}
        self.assertEqual(indexed, readers & set(everyone))
        self.assertEqual(len(readers), 2)


def test_load_from_config(redis_url):
    from cliquetish.interfaces import IPermission
    from tests.auth.app import make_auth_app

    app = make_auth_app({
        "permission_backend": "cliquetish.permission.redis",
        "permission_url": redis_url,
    })
    backend = app.app.registry.getUtility(IPermission)
    assert isinstance(backend, redis.Permission)
    assert backend.ping() is True
