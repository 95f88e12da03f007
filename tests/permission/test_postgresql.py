"""The PostgreSQL permission backend runs the contract suite against the real test server."""

from __future__ import annotations

import unittest

import sqlalchemy
import transaction

from cliquetish.permission import postgresql
from cliquetish.permission.testing import PermissionContract, PermissionServerContract
from cliquetish.storage.postgresql.client import create_client
from tests.servers import require_postgresql


def make_permission(url: str, **settings: object) -> postgresql.Permission:
    return postgresql.Permission(create_client({"permission_url": url, **settings}, "permission"))


class TestPostgreSQLPermissionContract(
    PermissionContract, PermissionServerContract, unittest.TestCase
):
    url: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.url = require_postgresql()
        make_permission(cls.url).initialize_schema()

    def make_backend(self) -> postgresql.Permission:
        return make_permission(self.url)

    def make_unreachable_backend(self) -> postgresql.Permission:
        return make_permission("postgresql://postgres@127.0.0.1:1/nowhere",
                               permission_pool_timeout_seconds=1)

    def explain(self, statement: sqlalchemy.TextClause, **params: object) -> str:
        with self.permission.client.connect() as connection:
            connection.execute(sqlalchemy.text("SET LOCAL enable_seqscan = off"))
            rows = connection.execute(sqlalchemy.text("EXPLAIN " + str(statement)), params)
            return "\n".join(row[0] for row in rows)

    def test_checks_use_the_indexes(self) -> None:
        check = self.explain(postgresql.CHECK_PERMISSION, object_id="/articles/1",
                             permissions=["read"], principals=["user:1"])
        self.assertNotIn("Seq Scan", check)
        self.assertRegex(check, r"Index Cond: .*object_id = '/articles/1'")
        listing = self.explain(postgresql.ACCESSIBLE_OBJECTS, principals=["user:1"],
                               permissions=["read"], pattern="/articles/%")
        self.assertNotIn("Seq Scan", listing)
        self.assertIn("Index Only Scan using idx_access_control_entries_principal", listing)
        self.assertRegex(listing, r"Index Cond: .*object_id >= '/articles/'")

    def test_initialize_schema_is_idempotent(self) -> None:
        self.assertEqual(self.permission.initialize_schema(),
                         ["permission schema is up to date (version 1)"])
        self.assertEqual(self.permission.initialize_schema(dry_run=True),
                         ["permission schema is up to date (version 1)"])

    def test_initialize_schema_applies_pending_files(self) -> None:
        transaction.abort()
        with self.permission.client.connect() as connection:
            connection.execute(sqlalchemy.text(
                "DELETE FROM metadata WHERE name = 'permission_schema_version'"))
        self.assertIn("permission schema: would apply 001_initial.sql",
                      self.permission.initialize_schema(dry_run=True))
        self.assertIn("permission schema: applied 001_initial.sql",
                      self.permission.initialize_schema())
        self.assertEqual(self.permission.initialize_schema(),
                         ["permission schema is up to date (version 1)"])

    def test_escape_like(self) -> None:
        self.assertEqual(postgresql.escape_like("a_b%c\\"), "a\\_b\\%c\\\\")


def test_load_from_config_shares_the_pool_per_url(postgresql_url):
    from cliquetish.interfaces import IPermission
    from tests.auth.app import make_auth_app

    app = make_auth_app({
        "permission_backend": "cliquetish.permission.postgresql",
        "permission_url": postgresql_url,
    })
    backend = app.app.registry.getUtility(IPermission)
    assert isinstance(backend, postgresql.Permission)
    assert backend.client.same_database(make_permission(postgresql_url).client)
    assert backend.ping() is True
