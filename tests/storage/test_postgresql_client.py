"""The shared PostgreSQL client: shared engines, zope transactions, errors as BackendError."""

from __future__ import annotations

import unittest

import sqlalchemy as sa
import transaction

from cliquetish.errors import ConfigurationError
from cliquetish.storage.exceptions import BackendError
from cliquetish.storage.postgresql.client import create_client, shared_engine
from tests.servers import require_postgresql

TABLE = "client_probe"


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_postgresql()
        cls.client = create_client({"storage_url": cls.url}, "storage")
        with cls.client.connect() as connection:
            connection.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {TABLE} (x int)"))

    @classmethod
    def tearDownClass(cls) -> None:
        with cls.client.connect() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))

    def setUp(self) -> None:
        with self.client.connect() as connection:
            connection.execute(sa.text(f"DELETE FROM {TABLE}"))

    def tearDown(self) -> None:
        transaction.abort()

    def count(self) -> int:
        with self.client.connect(join_transaction=False) as connection:
            return connection.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar_one()

    def insert(self, client: object = None) -> None:
        with (client or self.client).connect() as connection:
            connection.execute(sa.text(f"INSERT INTO {TABLE} VALUES (1)"))

    def test_engines_are_shared_per_url(self) -> None:
        other = create_client({"permission_url": self.url, "permission_pool_size": 1},
                              "permission")
        self.assertTrue(other.same_database(self.client))
        self.assertIn("postgresql", other.url)

    def test_outside_a_transaction_each_block_commits(self) -> None:
        self.insert()
        self.assertEqual(self.count(), 1)

    def test_a_failing_block_outside_a_transaction_rolls_back(self) -> None:
        with self.assertRaises(ZeroDivisionError), self.client.connect() as connection:
            connection.execute(sa.text(f"INSERT INTO {TABLE} VALUES (1)"))
            raise ZeroDivisionError
        self.assertEqual(self.count(), 0)

    def test_clients_of_one_url_share_the_zope_transaction(self) -> None:
        other = create_client({"permission_url": self.url}, "permission")
        transaction.begin()
        self.insert()
        with other.connect() as connection:
            seen = connection.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar_one()
        self.assertEqual(seen, 1)
        self.assertEqual(self.count(), 0)  # not committed yet
        transaction.abort()
        self.assertEqual(self.count(), 0)

    def test_commit_of_the_zope_transaction_commits(self) -> None:
        transaction.begin()
        self.insert()
        transaction.commit()
        self.assertEqual(self.count(), 1)

    def test_errors_become_backend_errors(self) -> None:
        with self.assertRaises(BackendError) as caught, self.client.connect() as connection:
            connection.execute(sa.text("SELECT no_such_column"))
        self.assertIn("no_such_column", str(caught.exception))
        self.assertIsNotNone(caught.exception.original)

    def test_exhausted_pool_fails_fast(self) -> None:
        engine = shared_engine(self.url + "?application_name=tiny", 1, 0, 0.2)
        self.addCleanup(engine.dispose)
        tiny = type(self.client)(engine)
        with tiny.connect(), self.assertRaises(BackendError) as caught, tiny.connect():
            pass
        self.assertIn("TimeoutError", str(caught.exception))

    def test_ping(self) -> None:
        self.assertTrue(self.client.ping())

    def test_ping_of_an_unreachable_server_is_false(self) -> None:
        client = create_client({"storage_url": "postgresql://postgres@127.0.0.1:1/x",
                                "storage_pool_timeout_seconds": 1}, "storage")
        with self.assertLogs("cliquetish.storage.postgresql.client", "WARNING"):
            self.assertFalse(client.ping())

    def test_bad_urls_are_configuration_errors(self) -> None:
        for settings in ({}, {"storage_url": "mysql://x/y"}):
            with self.assertRaises(ConfigurationError) as caught:
                create_client(settings, "storage")
            self.assertEqual(caught.exception.key, "storage_url")
