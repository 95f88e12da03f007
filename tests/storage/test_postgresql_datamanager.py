"""The connection joined to a zope transaction: reads without a database transaction until the
first write, then one database transaction committed or rolled back with the zope one."""

from __future__ import annotations

import gc
import unittest

import transaction
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS

from cliquetish.storage.postgresql.client import create_client, driver_sql, execute
from cliquetish.storage.postgresql.datamanager import _JOINED, joined_manager
from tests.servers import require_postgresql

TABLE = "datamanager_probe"


class JoinedConnectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client = create_client({"storage_url": require_postgresql()}, "storage")
        with cls.client.connect(join_transaction=False) as connection:
            execute(connection, f"CREATE TABLE IF NOT EXISTS {TABLE} (x int)")

    @classmethod
    def tearDownClass(cls) -> None:
        with cls.client.connect(join_transaction=False) as connection:
            execute(connection, f"DROP TABLE IF EXISTS {TABLE}")

    def setUp(self) -> None:
        transaction.abort()
        with self.client.connect(join_transaction=False) as connection:
            execute(connection, f"DELETE FROM {TABLE}")
        self.addCleanup(transaction.abort)

    def stored(self) -> list[int]:
        with self.client.connect(join_transaction=False) as connection:
            return [row[0] for row in execute(connection, f"SELECT x FROM {TABLE} ORDER BY x")]

    def insert(self, value: int) -> None:
        with self.client.connect() as connection:
            execute(connection, f"INSERT INTO {TABLE} VALUES (:x)", {"x": value})

    def read(self) -> tuple[list[int], int]:
        """What the transaction sees, and the driver's transaction status after the read."""
        with self.client.connect(read_only=True) as connection:
            rows = [row[0] for row in execute(connection, f"SELECT x FROM {TABLE} ORDER BY x")]
            status = connection.connection.dbapi_connection.get_transaction_status()
        return rows, status

    def test_reads_alone_open_no_database_transaction(self) -> None:
        transaction.begin()
        self.assertEqual(self.read(), ([], TRANSACTION_STATUS_IDLE))
        self.insert(1)  # committed meanwhile by someone else: the next read sees it
        transaction.commit()
        transaction.begin()
        self.assertEqual(self.read(), ([1], TRANSACTION_STATUS_IDLE))
        transaction.commit()

    def test_a_write_begins_the_transaction_later_reads_belong_to(self) -> None:
        transaction.begin()
        self.read()
        self.insert(2)
        self.assertEqual(self.read(), ([2], TRANSACTION_STATUS_INTRANS))
        self.assertEqual(self.stored(), [])  # not committed yet
        transaction.abort()
        self.assertEqual(self.stored(), [])
        transaction.begin()
        self.insert(3)
        transaction.commit()
        self.assertEqual(self.stored(), [3])

    def test_savepoint_after_reads_only(self) -> None:
        transaction.begin()
        self.read()
        savepoint = transaction.savepoint()
        self.insert(4)
        savepoint.rollback()
        self.insert(5)
        transaction.commit()
        self.assertEqual(self.stored(), [5])

    def test_connection_goes_back_to_the_pool_in_transaction_mode(self) -> None:
        transaction.begin()
        self.read()
        transaction.commit()
        with self.client.engine.connect() as connection:
            self.assertFalse(connection.connection.dbapi_connection.autocommit)

    def test_one_manager_per_engine_and_transaction_gone_at_its_end(self) -> None:
        txn = transaction.begin()
        self.assertIsNone(joined_manager(self.client.engine, txn))
        self.insert(6)
        joined = joined_manager(self.client.engine, txn)
        self.assertIsNotNone(joined)
        self.read()
        self.assertIs(joined_manager(self.client.engine, txn), joined)
        transaction.commit()
        self.assertIsNone(joined_manager(self.client.engine, txn))
        self.assertEqual(self.stored(), [6])

    def test_a_dropped_transaction_leaves_no_entry(self) -> None:
        txn = transaction.begin()
        self.read()
        self.assertEqual(len(_JOINED), 1)
        transaction.abort()
        del txn
        gc.collect()
        self.assertEqual(len(_JOINED), 0)

    def test_driver_sql_converts_placeholders_only(self) -> None:
        self.assertEqual(driver_sql("SELECT :a, CAST(:b AS text[]), '%' || :a"),
                         "SELECT %(a)s, CAST(%(b)s AS text[]), '%%' || %(a)s")
        with self.client.connect(join_transaction=False) as connection:
            row = execute(connection, "SELECT :a || '%', CAST(:b AS int)",
                          {"a": "x", "b": "7"}).one()
        self.assertEqual(tuple(row), ("x%", 7))
