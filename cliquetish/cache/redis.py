"""The Redis cache backend (``cliquetish.cache_backend = cliquetish.cache.redis``).

Entries are Redis strings holding JSON, named ``cache:<cache_prefix><key>`` and expiring
natively (``SET ... PX``). Connections come from a bounded, blocking redis-py pool shared by
every backend using the same URL and pool settings: when all ``cache_pool_size +
cache_max_overflow`` connections are busy, a call waits ``cache_pool_timeout_seconds`` then
fails with :class:`~cliquetish.storage.exceptions.BackendError`, like any Redis error.

Cache writes are immediate: they do not wait for the request's transaction.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import redis

from cliquetish.cache import CacheBase
from cliquetish.cache.memory import check_ttl
from cliquetish.storage.exceptions import BackendError

__all__ = ["Cache", "backend_errors", "escape_glob", "load_from_config", "redis_client"]

NAMESPACE = "cache:"
"""Every key of this backend starts with it, so a flush never touches other backends' keys."""

_clients: dict[tuple[str, int, float], redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(url: str, max_connections: int = 20, timeout_seconds: float = 5.0) -> redis.Redis:
    """A client on a blocking pool of at most ``max_connections``, shared per arguments."""
    key = (url, max_connections, timeout_seconds)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=max(max_connections, 1),
                timeout=timeout_seconds,
                socket_connect_timeout=timeout_seconds,
                socket_timeout=timeout_seconds,
            )
            client = _clients[key] = redis.Redis(connection_pool=pool)
        return client


@contextlib.contextmanager
def backend_errors() -> Iterator[None]:
    """Turn any redis-py error into :class:`BackendError`."""
    try:
        yield
    except redis.RedisError as error:
        raise BackendError(error) from error


def escape_glob(text: str) -> str:
    """``text`` with the glob characters of ``SCAN MATCH`` escaped."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def delete_matching(client: redis.Redis, pattern: str, batch_size: int = 500) -> int:
    """Delete the keys matching ``pattern`` (a SCAN glob); return how many there were."""
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=batch_size):
        batch.append(key)
        if len(batch) >= batch_size:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted


class Cache(CacheBase):
    """Cache entries in Redis with native expiry."""

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        super().__init__(prefix)
        self.client = client

    def _key(self, key: str) -> str:
        return NAMESPACE + self.prefix + key

    def flush(self) -> None:
        """Delete the keys of this prefix (scanning, never ``FLUSHDB``)."""
        with backend_errors():
            delete_matching(self.client, escape_glob(NAMESPACE + self.prefix) + "*")

    def ping(self) -> bool:
        """Write, read back and delete a key of its own, so concurrent pings never collide."""
        key = self._key(f"__heartbeat__:{uuid.uuid4().hex}")
        token = uuid.uuid4().hex.encode()
        try:
            self.client.set(key, token, px=10_000)
            return self.client.getdel(key) == token
        except redis.RedisError:
            return False

    def get(self, key: str) -> Any:
        """The value, or None when absent or expired."""
        with backend_errors():
            raw = self.client.get(self._key(key))
        return None if raw is None else orjson.loads(raw)

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds`` (millisecond precision).

        :raises ValueError: ``ttl_seconds`` is not greater than zero.
        :raises TypeError: ``value`` is not JSON-serialisable.
        """
        ttl_ms = max(int(check_ttl(ttl_seconds) * 1000), 1)
        encoded = orjson.dumps(value)
        with backend_errors():
            self.client.set(self._key(key), encoded, px=ttl_ms)

    def delete(self, key: str) -> Any:
        """Remove ``key``; return its value, or None."""
        with backend_errors():
            raw = self.client.getdel(self._key(key))
        return None if raw is None else orjson.loads(raw)

    def ttl(self, key: str) -> float:
        """Seconds left before ``key`` expires, or -1 when absent."""
        with backend_errors():
            milliseconds = self.client.pttl(self._key(key))
        return -1 if milliseconds < 0 else milliseconds / 1000

    def expire(self, key: str, ttl_seconds: float) -> None:
        """Give an existing key a new time to live (nothing happens when it is absent)."""
        ttl_ms = max(int(check_ttl(ttl_seconds) * 1000), 1)
        with backend_errors():
            self.client.pexpire(self._key(key), ttl_ms)


def load_from_config(config: Any) -> Cache:
    """A Redis cache from ``cache_url``, ``cache_prefix`` and the ``cache_pool_*`` settings."""
    settings = config.get_settings()
    client = redis_client(
        settings.get("cache_url") or "redis://localhost:6379/0",
        max_connections=settings.get("cache_pool_size", 10)
        + settings.get("cache_max_overflow", 10),
        timeout_seconds=settings.get("cache_pool_timeout_seconds", 5.0),
    )
    return Cache(client, prefix=settings.get("cache_prefix") or "")
