"""The contract suite every cache backend runs (see :class:`cliquetish.cache.CacheBase`).

Mix :class:`CacheContract` into a :class:`unittest.TestCase` and implement
:meth:`~CacheContract.make_backend`; a backend with a server also mixes in
:class:`CacheServerContract` and implements its ``make_unreachable_backend``::

    class TestMyCache(CacheContract, unittest.TestCase):
        def make_backend(self, prefix="test:"):
            return mycache.Cache(prefix=prefix, url=...)

A test the backend cannot pass is skipped in its module with ``@unittest.skip("why")``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cliquetish.cache import CacheBase
from cliquetish.storage.exceptions import BackendError

__all__ = ["CacheContract"]

SHORT_TTL = 0.2
"""Seconds used by the expiry tests (waits are a little longer than this)."""


class CacheContract:
    """Tests of the cache contract; ``self.cache`` is a flushed backend with prefix ``test:``."""

    cache: CacheBase

    def make_backend(self, prefix: str = "test:") -> CacheBase:
        """A backend instance using ``prefix`` (on the same server for every prefix)."""
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.cache = self.make_backend()
        self.cache.flush()
        self.addCleanup(self.cache.flush)  # type: ignore[attr-defined]

    # Values -------------------------------------------------------------------------------

    def test_set_then_get_returns_the_value(self: Any) -> None:
        values = [{"a": [1, 2.5, None, True]}, ["x", {"y": "z"}], 42, 1.5, "text", False]
        for index, value in enumerate(values):
            self.cache.set(f"key{index}", value, 60)
        for index, value in enumerate(values):
            self.assertEqual(self.cache.get(f"key{index}"), value)

    def test_get_of_a_missing_key_is_none(self: Any) -> None:
        self.assertIsNone(self.cache.get("missing"))

    def test_set_replaces_the_value(self: Any) -> None:
        self.cache.set("key", "old", 60)
        self.cache.set("key", {"new": 1}, 60)
        self.assertEqual(self.cache.get("key"), {"new": 1})

    def test_returned_values_are_copies(self: Any) -> None:
        self.cache.set("key", {"list": [1]}, 60)
        self.cache.get("key")["list"].append(2)
        self.assertEqual(self.cache.get("key"), {"list": [1]})

    def test_unicode_keys_and_values(self: Any) -> None:
        self.cache.set("clé/ключ/鍵 with spaces", {"valeur": "✓ ünïcødé 🎉"}, 60)
        self.assertEqual(self.cache.get("clé/ключ/鍵 with spaces"), {"valeur": "✓ ünïcødé 🎉"})
        self.assertIsNone(self.cache.get("cle/ключ/鍵 with spaces"))

    def test_large_values(self: Any) -> None:
        value = {"blob": "x" * 200_000, "items": list(range(5000))}
        self.cache.set("large", value, 60)
        self.assertEqual(self.cache.get("large"), value)

    def test_delete_returns_the_old_value(self: Any) -> None:
        self.cache.set("key", [1, 2], 60)
        self.assertEqual(self.cache.delete("key"), [1, 2])
        self.assertIsNone(self.cache.get("key"))
        self.assertIsNone(self.cache.delete("key"))

    def test_values_that_are_not_json_are_refused(self: Any) -> None:
        with self.assertRaises(TypeError):
            self.cache.set("key", {1, 2}, 60)
        self.assertIsNone(self.cache.get("key"))

    # Time to live -------------------------------------------------------------------------

    def test_ttl_counts_down_from_the_given_value(self: Any) -> None:
        self.cache.set("key", "value", 100)
        ttl = self.cache.ttl("key")
        self.assertGreater(ttl, 90)
        self.assertLessEqual(ttl, 100)

    def test_ttl_of_a_missing_key_is_minus_one(self: Any) -> None:
        self.assertEqual(self.cache.ttl("missing"), -1)

    def test_entries_expire(self: Any) -> None:
        self.cache.set("short", "value", SHORT_TTL)
        self.cache.set("long", "value", 60)
        time.sleep(SHORT_TTL + 0.3)
        self.assertIsNone(self.cache.get("short"))
        self.assertEqual(self.cache.ttl("short"), -1)
        self.assertIsNone(self.cache.delete("short"))
        self.assertEqual(self.cache.get("long"), "value")

    def test_expire_sets_a_new_ttl(self: Any) -> None:
        self.cache.set("key", "value", 60)
        self.cache.expire("key", 500)
        self.assertGreater(self.cache.ttl("key"), 400)
        self.cache.expire("key", SHORT_TTL)
        self.assertLessEqual(self.cache.ttl("key"), SHORT_TTL)
        time.sleep(SHORT_TTL + 0.3)
        self.assertIsNone(self.cache.get("key"))

    def test_expire_of_a_missing_key_creates_nothing(self: Any) -> None:
        self.cache.expire("missing", 60)
        self.assertIsNone(self.cache.get("missing"))
        self.assertEqual(self.cache.ttl("missing"), -1)

    def test_set_again_restarts_the_ttl(self: Any) -> None:
        self.cache.set("key", "value", SHORT_TTL)
        self.cache.set("key", "value", 60)
        time.sleep(SHORT_TTL + 0.3)
        self.assertEqual(self.cache.get("key"), "value")

    def test_ttl_must_be_positive(self: Any) -> None:
        for ttl in (0, -5):
            with self.assertRaises(ValueError):
                self.cache.set("key", "value", ttl)
        self.assertIsNone(self.cache.get("key"))

    # Prefixes -----------------------------------------------------------------------------

    def test_prefixes_isolate_caches(self: Any) -> None:
        other = self.make_backend(prefix="other:")
        self.addCleanup(other.flush)
        self.cache.set("key", "mine", 60)
        other.set("key", "theirs", 60)
        self.assertEqual(self.cache.get("key"), "mine")
        self.assertEqual(other.get("key"), "theirs")
        self.cache.delete("key")
        self.assertEqual(other.get("key"), "theirs")

    def test_flush_deletes_only_its_own_prefix(self: Any) -> None:
        other = self.make_backend(prefix="other:")
        self.addCleanup(other.flush)
        self.cache.set("a", 1, 60)
        self.cache.set("b", 2, 60)
        other.set("a", 3, 60)
        self.cache.flush()
        self.assertIsNone(self.cache.get("a"))
        self.assertIsNone(self.cache.get("b"))
        self.assertEqual(other.get("a"), 3)

    def test_prefix_holding_wildcards_is_literal(self: Any) -> None:
        star = self.make_backend(prefix="t*st:")
        self.addCleanup(star.flush)
        self.cache.set("key", "kept", 60)
        star.set("key", "starred", 60)
        star.flush()
        self.assertEqual(self.cache.get("key"), "kept")
        self.assertIsNone(star.get("key"))

    # Heartbeat and failures ---------------------------------------------------------------

    def test_ping(self: Any) -> None:
        self.assertIs(self.cache.ping(), True)

    def test_concurrent_pings_all_succeed(self: Any) -> None:
        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(lambda _: self.cache.ping(), range(50)))
        self.assertEqual(results, [True] * 50)

    def test_ping_leaves_user_keys_alone(self: Any) -> None:
        self.cache.set("heartbeat", "mine", 60)
        self.cache.ping()
        self.assertEqual(self.cache.get("heartbeat"), "mine")


class CacheServerContract:
    """The part of the contract for a backend that talks to a server: mix it in beside
    :class:`CacheContract` in the test classes of such backends."""

    def make_unreachable_backend(self) -> CacheBase:
        """A backend whose server does not answer."""
        raise NotImplementedError

    def test_unreachable_server_raises_backend_error(self: Any) -> None:
        broken = self.make_unreachable_backend()
        self.assertIs(broken.ping(), False)
        with self.assertRaises(BackendError):
            broken.set("key", "value", 60)
        with self.assertRaises(BackendError):
            broken.get("key")
        with self.assertRaises(BackendError):
            broken.delete("key")
