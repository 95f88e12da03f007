"""The memory storage passes the storage contract."""

from __future__ import annotations

import threading
import unittest

from cliquetish.storage.memory import MemoryStorage, load_from_config
from cliquetish.storage.testing import COLLECTION, PARENT, StorageContractTests


class MemoryStorageTest(StorageContractTests, unittest.TestCase):
    def make_storage(self) -> MemoryStorage:
        return MemoryStorage()

    def test_load_from_config(self) -> None:
        self.assertIsInstance(load_from_config(None), MemoryStorage)

    def test_concurrent_threads_get_distinct_timestamps(self) -> None:
        stamps: list[int] = []

        def write() -> None:
            for _ in range(100):
                stamps.append(self.storage.create(COLLECTION, PARENT, {})["last_modified"])

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(set(stamps)), 400)
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, PARENT), max(stamps))
