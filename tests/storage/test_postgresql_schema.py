"""The versioned schema of the PostgreSQL storage: dry run, apply, idempotence."""

from __future__ import annotations

import unittest
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlparse, urlunparse

import sqlalchemy as sa

from cliquetish.storage.postgresql import SCHEMA_FOLDER, PostgreSQLStorage
from cliquetish.storage.postgresql.client import create_client
from cliquetish.storage.postgresql.migrations import current_version, migrations_in
from tests.servers import require_postgresql


def _admin(url: str, statement: str) -> None:
    parsed = urlparse(url)
    admin_url = urlunparse(parsed._replace(path="/postgres", scheme="postgresql+psycopg2"))
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


class SchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        parsed = urlparse(require_postgresql())
        cls.database = parsed.path.strip("/") + "_schema"
        cls.url = urlunparse(parsed._replace(path="/" + cls.database))
        _admin(cls.url, f"DROP DATABASE IF EXISTS {cls.database} WITH (FORCE)")
        _admin(cls.url, f"CREATE DATABASE {cls.database}")
        cls.addClassCleanup(_admin, cls.url, f"DROP DATABASE IF EXISTS {cls.database} WITH (FORCE)")
        cls.storage = PostgreSQLStorage(create_client({"storage_url": cls.url}, "storage"))
        cls.addClassCleanup(cls.storage.client.engine.dispose)

    def tables(self) -> set[str]:
        with self.storage.client.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
        return {row[0] for row in rows}

    def test_dry_run_then_apply_then_nothing_to_do(self) -> None:
        planned = self.storage.initialize_schema(dry_run=True)
        self.assertEqual(planned, ["storage schema: would apply 001_initial.sql",
                                   "storage schema would be at version 1 (was 0)"])
        self.assertEqual(self.tables(), set())
        applied = self.storage.initialize_schema()
        self.assertEqual(applied[0], "storage schema: applied 001_initial.sql")
        self.assertEqual(self.tables(), {"records", "timestamps", "metadata"})
        with self.storage.client.connect() as connection:
            self.assertEqual(current_version(connection, "storage"), 1)
            self.assertEqual(current_version(connection, "other"), 0)
        self.assertEqual(self.storage.initialize_schema(),
                         ["storage schema is up to date (version 1)"])
        self.assertEqual(self.storage.initialize_schema(dry_run=True),
                         ["storage schema is up to date (version 1)"])
        record = self.storage.create("c", "p", {"x": 1})
        self.assertEqual(self.storage.get("c", "p", record["id"]), record)

    def test_schema_files_are_numbered_in_sequence(self) -> None:
        self.assertEqual([m.version for m in migrations_in(SCHEMA_FOLDER)],
                         list(range(1, len(list(SCHEMA_FOLDER.glob("*.sql"))) + 1)))
        for names in (["001_a.sql", "003_b.sql"], ["1_bad.sql"]):
            with TemporaryDirectory() as folder:
                for name in names:
                    (Path(folder) / name).write_text("SELECT 1;")
                with self.assertRaises(ValueError):
                    migrations_in(Path(folder))
