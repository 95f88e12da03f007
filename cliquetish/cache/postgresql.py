"""The PostgreSQL cache backend (``cliquetish.cache_backend = cliquetish.cache.postgresql``).

Entries live in ``cache_entries(key, value, expires_at)`` (``schema/001_initial.sql``, applied by
:meth:`Cache.initialize_schema`, i.e. ``cliquetish migrate``); each method is one statement on
the shared client of :mod:`cliquetish.storage.postgresql.client`. Cache writes are immediate,
as on every cache backend: each call is its own short database transaction, outside the
request's. Expiry is decided by the database clock; expired rows are invisible at once and
deleted now and then by :meth:`Cache.set` (and by :meth:`Cache.purge_expired`).
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy

from cliquetish.cache import CacheBase
from cliquetish.cache.memory import check_ttl
from cliquetish.permission.postgresql import escape_like
from cliquetish.storage.postgresql.client import PostgreSQLClient, create_client
from cliquetish.storage.postgresql.migrations import apply_migrations

__all__ = ["PURGE_PROBABILITY", "SCHEMA_FOLDER", "Cache", "load_from_config"]

SCHEMA_FOLDER = Path(__file__).parent / "schema"
"""Numbered schema files (``001_initial.sql``, ...), applied in order by ``migrate``."""

PURGE_PROBABILITY = 0.01
"""Share of :meth:`Cache.set` calls that also delete the expired rows."""

LIVE = "expires_at > clock_timestamp()"
GET = sqlalchemy.text(f"SELECT value FROM cache_entries WHERE key = :key AND {LIVE}")
SET = sqlalchemy.text(
    "INSERT INTO cache_entries (key, value, expires_at) "
    "VALUES (:key, :value, clock_timestamp() + make_interval(secs => :ttl)) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at"
)
DELETE = sqlalchemy.text(
    f"DELETE FROM cache_entries WHERE key = :key RETURNING value, {LIVE} AS live"
)
TTL = sqlalchemy.text(
    "SELECT EXTRACT(EPOCH FROM expires_at - clock_timestamp()) FROM cache_entries "
    f"WHERE key = :key AND {LIVE}"
)
EXPIRE = sqlalchemy.text(
    "UPDATE cache_entries SET expires_at = clock_timestamp() + make_interval(secs => :ttl) "
    f"WHERE key = :key AND {LIVE}"
)
FLUSH = sqlalchemy.text("DELETE FROM cache_entries WHERE key LIKE :pattern")
PURGE = sqlalchemy.text("DELETE FROM cache_entries WHERE expires_at <= clock_timestamp()")


class Cache(CacheBase):
    """Cache entries in a PostgreSQL table."""

    def __init__(self, client: PostgreSQLClient, prefix: str = "") -> None:
        super().__init__(prefix)
        self.client = client

    def _run(self, statement: sqlalchemy.TextClause, **params: Any) -> Any:
        """Run one statement in a transaction of its own; return its rows (or None)."""
        with self.client.connect(join_transaction=False) as connection:
            result = connection.execute(statement, params)
            return result.all() if result.returns_rows else None

    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Apply the pending ``schema/*.sql`` files; say what was (or would be) done."""
        return apply_migrations(self.client, "cache", SCHEMA_FOLDER, dry_run)

    def flush(self) -> None:
        """Delete the entries of this prefix."""
        self._run(FLUSH, pattern=escape_like(self.prefix) + "%")

    def purge_expired(self) -> None:
        """Delete every expired row (of every prefix)."""
        self._run(PURGE)

    def ping(self) -> bool:
        """Write a row of its own in a transaction rolled back at once (one round trip), so
        concurrent pings never collide and nothing is left behind."""
        key = f"{self.prefix}__heartbeat__:{uuid.uuid4().hex}"
        token = orjson.dumps(uuid.uuid4().hex).decode()
        return self.client.probe(SET.text, {"key": key, "value": token, "ttl": 10})

    def get(self, key: str) -> Any:
        """The value, or None when absent or expired."""
        rows = self._run(GET, key=self.prefix + key)
        return orjson.loads(rows[0][0]) if rows else None

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds``.

        :raises ValueError: ``ttl_seconds`` is not greater than zero.
        :raises TypeError: ``value`` is not JSON-serialisable.
        """
        ttl = check_ttl(ttl_seconds)
        encoded = orjson.dumps(value).decode()
        self._run(SET, key=self.prefix + key, value=encoded, ttl=ttl)
        if random.random() < PURGE_PROBABILITY:
            self.purge_expired()

    def delete(self, key: str) -> Any:
        """Remove ``key``; return its value, or None (also when it had expired)."""
        rows = self._run(DELETE, key=self.prefix + key)
        return orjson.loads(rows[0][0]) if rows and rows[0][1] else None

    def ttl(self, key: str) -> float:
        """Seconds left before ``key`` expires, or -1 when absent."""
        rows = self._run(TTL, key=self.prefix + key)
        return float(rows[0][0]) if rows else -1

    def expire(self, key: str, ttl_seconds: float) -> None:
        """Give an existing key a new time to live (nothing happens when it is absent)."""
        self._run(EXPIRE, key=self.prefix + key, ttl=check_ttl(ttl_seconds))


def load_from_config(config: Any) -> Cache:
    """A cache on ``cache_url`` with ``cache_prefix`` (the pool is shared per URL)."""
    settings = config.get_settings()
    return Cache(create_client(settings, "cache"), prefix=settings.get("cache_prefix") or "")
