"""The PostgreSQL cache runs the contract suite against the real test server."""

from __future__ import annotations

import unittest
from unittest import mock

import sqlalchemy
import transaction

from cliquetish.cache import postgresql
from cliquetish.cache.testing import CacheContract, CacheServerContract
from cliquetish.storage.postgresql.client import create_client
from tests.servers import require_postgresql


def make_cache(url: str, prefix: str = "test:", **settings: object) -> postgresql.Cache:
    return postgresql.Cache(create_client({"cache_url": url, **settings}, "cache"), prefix=prefix)


class TestPostgreSQLCacheContract(CacheContract, CacheServerContract, unittest.TestCase):
    url: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.url = require_postgresql()
        make_cache(cls.url).initialize_schema()

    def make_backend(self, prefix: str = "test:") -> postgresql.Cache:
        return make_cache(self.url, prefix)

    def make_unreachable_backend(self) -> postgresql.Cache:
        return make_cache("postgresql://postgres@127.0.0.1:1/nowhere",
                          cache_pool_timeout_seconds=1)

    def count_rows(self) -> int:
        with self.cache.client.connect(join_transaction=False) as connection:
            return connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM cache_entries")).scalar()

    def test_writes_do_not_wait_for_the_transaction(self) -> None:
        transaction.begin()
        self.cache.set("key", "value", 60)
        transaction.abort()
        self.assertEqual(self.cache.get("key"), "value")

    def test_pings_leave_no_row(self) -> None:
        before = self.count_rows()
        for _ in range(5):
            self.assertTrue(self.cache.ping())
        self.assertEqual(self.count_rows(), before)

    def test_purge_expired_deletes_only_expired_rows(self) -> None:
        self.cache.set("short", 1, 0.001)
        self.cache.set("long", 2, 60)
        with self.cache.client.connect(join_transaction=False) as connection:
            connection.execute(sqlalchemy.text("SELECT pg_sleep(0.01)"))
        self.cache.purge_expired()
        self.assertEqual(self.count_rows(), 1)
        self.assertEqual(self.cache.get("long"), 2)

    def test_set_purges_expired_rows_now_and_then(self) -> None:
        self.cache.set("short", 1, 0.001)
        with self.cache.client.connect(join_transaction=False) as connection:
            connection.execute(sqlalchemy.text("SELECT pg_sleep(0.01)"))
        with mock.patch.object(postgresql, "PURGE_PROBABILITY", 1.0):
            self.cache.set("long", 2, 60)
        self.assertEqual(self.count_rows(), 1)

    def test_initialize_schema_is_idempotent(self) -> None:
        self.assertEqual(self.cache.initialize_schema(),
                         ["cache schema is up to date (version 1)"])
        self.assertEqual(self.cache.initialize_schema(dry_run=True),
                         ["cache schema is up to date (version 1)"])

    def test_initialize_schema_applies_pending_files(self) -> None:
        with self.cache.client.connect(join_transaction=False) as connection:
            connection.execute(sqlalchemy.text(
                "DELETE FROM metadata WHERE name = 'cache_schema_version'"))
        self.assertIn("cache schema: would apply 001_initial.sql",
                      self.cache.initialize_schema(dry_run=True))
        self.assertIn("cache schema: applied 001_initial.sql", self.cache.initialize_schema())
        self.assertEqual(self.cache.initialize_schema(),
                         ["cache schema is up to date (version 1)"])


def test_load_from_config(postgresql_url):
    from cliquetish.interfaces import ICache
    from tests.auth.app import make_auth_app

    app = make_auth_app({
        "cache_backend": "cliquetish.cache.postgresql",
        "cache_url": postgresql_url,
        "cache_prefix": "demo:",
    })
    cache = app.app.registry.getUtility(ICache)
    assert isinstance(cache, postgresql.Cache)
    assert cache.prefix == "demo:"
    assert cache.ping() is True
