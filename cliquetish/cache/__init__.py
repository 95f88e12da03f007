"""The cache contract shared by every cache backend.

A backend module exposes ``load_from_config(config) -> CacheBase``. Values are anything JSON can
hold; keys are strings, stored with the ``cache_prefix`` setting in front. Every method may raise
:class:`cliquetish.storage.exceptions.BackendError`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CacheBase"]


class CacheBase:
    """Short-lived key/value state with a time to live."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Create what the backend needs; idempotent. Returns what it did (or would)."""
        return []

    def ping(self) -> bool:
        """True when a write and a read round-trip; safe under concurrent calls; never raises."""
        raise NotImplementedError

    def flush(self) -> None:
        """Delete every key carrying this cache's prefix."""
        raise NotImplementedError

    def get(self, key: str) -> Any:
        """The value, or ``None`` when absent or expired."""
        raise NotImplementedError

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds`` (required: a cache entry always expires)."""
        raise NotImplementedError

    def delete(self, key: str) -> Any:
        """Remove the key; return the value it had, or ``None``."""
        raise NotImplementedError

    def ttl(self, key: str) -> float:
        """Seconds left before ``key`` expires; ``-1`` when absent."""
        raise NotImplementedError

    def expire(self, key: str, ttl_seconds: float) -> None:
        """Give an existing key a new time to live."""
        raise NotImplementedError
