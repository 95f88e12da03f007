"""The memory cache: the contract suite, plus its size bound and least-recently-used eviction."""

from __future__ import annotations

import unittest

from cliquetish.cache import memory
from cliquetish.cache.testing import CacheContract, CacheServerContract


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestMemoryCacheContract(CacheContract, unittest.TestCase):
    def make_backend(self, prefix: str = "test:") -> memory.Cache:
        return memory.Cache(prefix=prefix, max_size_bytes=1_000_000)


class TestMemoryCacheBound(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = FakeClock()
        self.cache = memory.Cache(prefix="p:", max_size_bytes=100, clock=self.clock)

    def test_size_counts_keys_and_encoded_values(self) -> None:
        self.cache.set("ab", "xyz", 10)  # "p:ab" = 4 bytes, '"xyz"' = 5 bytes
        self.assertEqual(self.cache.size_bytes, 9)
        self.cache.set("ab", 1, 10)
        self.assertEqual(self.cache.size_bytes, 5)
        self.cache.delete("ab")
        self.assertEqual(self.cache.size_bytes, 0)

    def test_oldest_entries_are_evicted_first(self) -> None:
        for index in range(5):
            self.cache.set(f"k{index}", "x" * 20, 10)  # 4 + 22 = 26 bytes each
        self.assertEqual([self.cache.get(f"k{i}") is None for i in range(5)],
                         [True, True, False, False, False])
        self.assertLessEqual(self.cache.size_bytes, 100)

    def test_reading_an_entry_keeps_it(self) -> None:
        for index in range(3):
            self.cache.set(f"k{index}", "x" * 20, 10)
        self.cache.get("k0")
        self.cache.set("k3", "x" * 20, 10)
        self.assertIsNotNone(self.cache.get("k0"))
        self.assertIsNone(self.cache.get("k1"))

    def test_expired_entries_go_before_live_ones(self) -> None:
        self.cache.set("old", "x" * 20, 100)
        self.cache.set("short", "x" * 20, 1)
        self.cache.set("mid", "x" * 20, 100)
        self.clock.now += 5
        self.cache.set("new", "x" * 20, 100)
        self.assertIsNotNone(self.cache.get("old"))
        self.assertIsNone(self.cache.get("short"))

    def test_entry_larger_than_the_budget_is_refused(self) -> None:
        self.cache.set("kept", 1, 10)
        with self.assertRaises(memory.ValueTooLargeError) as caught:
            self.cache.set("huge", "x" * 200, 10)
        self.assertIn("cache_max_size_bytes = 100", str(caught.exception))
        self.assertIn("'huge'", str(caught.exception))
        self.assertEqual(self.cache.get("kept"), 1)
        self.assertIsNone(self.cache.get("huge"))

    def test_expiry_follows_the_clock(self) -> None:
        self.cache.set("key", "v", 30)
        self.clock.now += 29.5
        self.assertEqual(self.cache.ttl("key"), 0.5)
        self.clock.now += 0.5
        self.assertIsNone(self.cache.get("key"))
        self.assertEqual(self.cache.size_bytes, 0)

    def test_ping_fails_when_nothing_fits(self) -> None:
        self.assertIs(memory.Cache(max_size_bytes=10).ping(), False)


def test_load_from_config_reads_the_settings():
    from cliquetish.interfaces import ICache
    from tests.auth.app import make_auth_app

    app = make_auth_app({
        "cache_backend": "cliquetish.cache.memory",
        "cache_prefix": "demo:",
        "cache_max_size_bytes": "2048",
    })
    cache = app.app.registry.getUtility(ICache)
    assert isinstance(cache, memory.Cache)
    assert (cache.prefix, cache.max_size_bytes) == ("demo:", 2048)


def test_the_contract_hooks_must_be_implemented():
    import pytest

    contract = CacheContract()
    with pytest.raises(NotImplementedError):
        contract.make_backend()
    with pytest.raises(NotImplementedError):
        CacheServerContract().make_unreachable_backend()
