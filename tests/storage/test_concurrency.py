"""Timestamps stay strictly increasing with writers in several OS processes."""

from __future__ import annotations

import importlib
import multiprocessing
import unittest
from typing import Any

from pyramid.config import Configurator

from tests.servers import require_postgresql, require_redis

PROCESSES = 4
CREATES = 250
COLLECTION, PARENT = "races", "/users/many"


def create_many(backend: str, url: str, barrier: Any, results: Any) -> None:
    """Process body: create CREATES records as fast as possible; report stamps and errors."""
    module = importlib.import_module(backend)
    storage = module.load_from_config(Configurator(settings={"storage_url": url}))
    stamps: list[int] = []
    errors: list[str] = []
    barrier.wait()
    for index in range(CREATES):
        try:
            stamps.append(storage.create(COLLECTION, PARENT, {"index": index})["last_modified"])
        except Exception as error:  # noqa: BLE001 (reported to the test, which fails on it)
            errors.append(repr(error))
    results.put((stamps, errors))


class ConcurrentWritersMixin:
    backend = ""

    def make_storage(self) -> Any:
        raise NotImplementedError

    def test_concurrent_processes_get_distinct_increasing_timestamps(self) -> None:
        storage = self.make_storage()
        storage.flush()
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        processes = [
            context.Process(target=create_many, args=(self.backend, self.url, barrier, results))
            for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        reports = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        stamps = [stamp for report in reports for stamp in report[0]]
        errors = [error for report in reports for error in report[1]]
        self.assertEqual(errors, [])
        self.assertEqual(len(stamps), PROCESSES * CREATES)
        self.assertEqual(len(set(stamps)), len(stamps))
        self.assertEqual(storage.collection_timestamp(COLLECTION, PARENT), max(stamps))
        records, total = storage.get_all(COLLECTION, PARENT, count=True)
        self.assertEqual(total, PROCESSES * CREATES)
        self.assertEqual(sorted(r["last_modified"] for r in records), sorted(stamps))
        storage.flush()


class PostgreSQLConcurrencyTest(ConcurrentWritersMixin, unittest.TestCase):
    backend = "cliquetish.storage.postgresql"

    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_postgresql()

    def make_storage(self) -> Any:
        storage = importlib.import_module(self.backend).load_from_config(
            Configurator(settings={"storage_url": self.url}))
        storage.initialize_schema()
        return storage


class RedisConcurrencyTest(ConcurrentWritersMixin, unittest.TestCase):
    backend = "cliquetish.storage.redis"

    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_redis()

    def make_storage(self) -> Any:
        return importlib.import_module(self.backend).load_from_config(
            Configurator(settings={"storage_url": self.url}))
