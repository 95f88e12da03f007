"""The Redis cache runs the contract suite against the real test server."""

from __future__ import annotations

import unittest

import redis as redis_py

from cliquetish.cache import redis
from cliquetish.cache.testing import CacheContract, CacheServerContract
from tests.servers import require_redis


class TestRedisCacheContract(CacheContract, CacheServerContract, unittest.TestCase):
    url: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.url = require_redis()

    def make_backend(self, prefix: str = "test:") -> redis.Cache:
        return redis.Cache(redis.redis_client(self.url), prefix=prefix)

    def make_unreachable_backend(self) -> redis.Cache:
        return redis.Cache(redis.redis_client("redis://127.0.0.1:1/0", timeout_seconds=0.5))

    def test_keys_are_namespaced_and_expire_natively(self) -> None:
        self.cache.set("key", {"a": 1}, 30)
        raw = redis_py.Redis.from_url(self.url)
        self.assertEqual(raw.get("cache:test:key"), b'{"a":1}')
        self.assertGreater(raw.pttl("cache:test:key"), 25_000)

    def test_flush_keeps_keys_of_other_backends(self) -> None:
        raw = redis_py.Redis.from_url(self.url)
        raw.set("storage:something", "kept")
        self.addCleanup(raw.delete, "storage:something")
        everything = self.make_backend(prefix="")
        everything.set("key", 1, 60)
        everything.flush()
        self.assertIsNone(everything.get("key"))
        self.assertEqual(raw.get("storage:something"), b"kept")

    def test_flush_deletes_many_keys(self) -> None:
        for index in range(1200):
            self.cache.set(f"k{index}", index, 60)
        self.cache.flush()
        raw = redis_py.Redis.from_url(self.url)
        self.assertEqual(list(raw.scan_iter(match="cache:test:*")), [])

    def test_clients_are_shared_per_url(self) -> None:
        self.assertIs(redis.redis_client(self.url), redis.redis_client(self.url))

    def test_escape_glob(self) -> None:
        self.assertEqual(redis.escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\")


def test_load_from_config(redis_url):
    from cliquetish.interfaces import ICache
    from tests.auth.app import make_auth_app

    app = make_auth_app({
        "cache_backend": "cliquetish.cache.redis",
        "cache_url": redis_url,
        "cache_prefix": "demo:",
    })
    cache = app.app.registry.getUtility(ICache)
    assert isinstance(cache, redis.Cache)
    assert cache.prefix == "demo:"
    assert cache.client.connection_pool.max_connections == 20
    cache.set("x", 1, 10)
    assert cache.get("x") == 1
    cache.flush()
