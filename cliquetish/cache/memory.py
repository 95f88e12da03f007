"""The in-memory cache backend: for tests and the zero-setup demo.

Thread-safe (one lock) and bounded: keys and JSON-encoded values together take at most
``cache_max_size_bytes``; beyond that the least recently used entries are evicted (expired ones
first). A single entry larger than the whole budget is refused with :class:`ValueTooLargeError`.
Cache writes are immediate on every cache backend: they do not wait for the request's
transaction, and an aborted request does not undo them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from cliquetish.cache import CacheBase

__all__ = ["Cache", "ValueTooLargeError", "check_ttl", "load_from_config"]

Clock = Callable[[], float]


class ValueTooLargeError(ValueError):
    """One entry is larger than the memory cache's whole size budget."""


def check_ttl(ttl_seconds: float) -> float:
    """``ttl_seconds`` as a float; :raises ValueError: when it is not greater than zero."""
    ttl = float(ttl_seconds)
    if not ttl > 0:
        raise ValueError(f"ttl_seconds must be greater than zero, not {ttl_seconds!r}")
    return ttl


class Cache(CacheBase):
    """A least-recently-used map of ``key → (JSON bytes, expiry time)``."""

    def __init__(
        self, prefix: str = "", max_size_bytes: int = 524288, clock: Clock = time.monotonic
    ) -> None:
        super().__init__(prefix)
        self.max_size_bytes = max_size_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._size = 0

    @property
    def size_bytes(self) -> int:
        """Bytes taken by keys and encoded values now."""
        return self._size

    @staticmethod
    def _entry_size(key: str, encoded: bytes) -> int:
        return len(key.encode("utf-8")) + len(encoded)

    def _remove(self, key: str) -> bytes | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self._size -= self._entry_size(key, entry[0])
        return entry[0]

    def _live(self, key: str) -> tuple[bytes, float] | None:
        """The entry if present and not expired (an expired one is dropped)."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] <= self._clock():
            self._remove(key)
            return None
        return entry

    def _make_room(self, needed: int) -> None:
        if self._size + needed <= self.max_size_bytes:
            return
        now = self._clock()
        for key in [key for key, (_, expiry) in self._entries.items() if expiry <= now]:
            self._remove(key)
        while self._entries and self._size + needed > self.max_size_bytes:
            self._remove(next(iter(self._entries)))

    def flush(self) -> None:
        """Delete every entry."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    def ping(self) -> bool:
        """Write, read and delete a key of its own (so concurrent pings never collide)."""
        key = f"__heartbeat__:{uuid.uuid4().hex}"
        token = uuid.uuid4().hex
        try:
            self.set(key, token, 10)
            return self.delete(key) == token
        except (ValueError, TypeError):
            return False

    def get(self, key: str) -> Any:
        """The value (a fresh copy), or None when absent or expired."""
        full_key = self.prefix + key
        with self._lock:
            entry = self._live(full_key)
            if entry is None:
                return None
            self._entries.move_to_end(full_key)
        return orjson.loads(entry[0])

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds``, evicting older entries if needed.

        :raises ValueTooLargeError: the entry alone exceeds ``max_size_bytes``.
        :raises ValueError: ``ttl_seconds`` is not greater than zero.
        :raises TypeError: ``value`` is not JSON-serialisable.
        """
        ttl = check_ttl(ttl_seconds)
        full_key = self.prefix + key
        encoded = orjson.dumps(value)
        size = self._entry_size(full_key, encoded)
        if size > self.max_size_bytes:
            raise ValueTooLargeError(
                f"Cache entry {key!r} takes {size} bytes, more than "
                f"cache_max_size_bytes = {self.max_size_bytes}"
            )
        with self._lock:
            self._remove(full_key)
            self._make_room(size)
            self._entries[full_key] = (encoded, self._clock() + ttl)
            self._size += size

    def delete(self, key: str) -> Any:
        """Remove ``key``; return its value, or None."""
        full_key = self.prefix + key
        with self._lock:
            entry = self._live(full_key)
            if entry is None:
                return None
            self._remove(full_key)
        return orjson.loads(entry[0])

    def ttl(self, key: str) -> float:
        """Seconds left before ``key`` expires, or -1 when absent."""
        with self._lock:
            entry = self._live(self.prefix + key)
            if entry is None:
                return -1
            return max(entry[1] - self._clock(), 0.0)

    def expire(self, key: str, ttl_seconds: float) -> None:
        """Give an existing key a new time to live (nothing happens when it is absent)."""
        ttl = check_ttl(ttl_seconds)
        full_key = self.prefix + key
        with self._lock:
            entry = self._live(full_key)
            if entry is not None:
                self._entries[full_key] = (entry[0], self._clock() + ttl)


def load_from_config(config: Any) -> Cache:
    """An empty memory cache with ``cache_prefix`` and ``cache_max_size_bytes``."""
    settings = config.get_settings()
    return Cache(
        prefix=settings.get("cache_prefix") or "",
        max_size_bytes=settings.get("cache_max_size_bytes", 524288),
    )
