"""Private servers of the fault tests: started here, stopped and restarted by the tests,
destroyed at the end. The machine's shared servers are never touched."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest

from tests.private_servers import PrivatePostgreSQL, PrivateRedis, require_binaries

DATABASE_PASSWORD = "fault-db-password"
"""Given in the URLs (trust authentication ignores it): it must never show in a log line."""


@pytest.fixture(scope="session")
def private_postgresql() -> Iterator[PrivatePostgreSQL]:
    """A PostgreSQL cluster of the fault tests (running when handed over)."""
    require_binaries("pg_ctl")
    server = PrivatePostgreSQL()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


def create_database(server: PrivatePostgreSQL, name: str) -> str:
    """Create database ``name`` in ``server`` (if missing); its URL, with a password."""
    connection = psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres",
                                  dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    return f"postgresql://postgres:{DATABASE_PASSWORD}@127.0.0.1:{server.port}/{name}"


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis server of the fault tests that keeps every acknowledged write across restarts."""
    require_binaries("redis-server")
    server = PrivateRedis(persistent=True)
    server.start()
    try:
        yield server
    finally:
        server.destroy()
