"""The Redis storage passes the storage contract, against a real server."""

from __future__ import annotations

import unittest

from pyramid.config import Configurator

from cliquetish.errors import ConfigurationError
from cliquetish.storage.redis import RedisStorage, load_from_config
from cliquetish.storage.testing import StorageContractTests
from tests.servers import require_redis


class RedisStorageTest(StorageContractTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_redis()

    def make_storage(self) -> RedisStorage:
        return load_from_config(Configurator(settings={"storage_url": self.url}))

    def test_flush_leaves_other_keys_alone(self) -> None:
        self.storage.client.set("someone:else", "1")
        self.addCleanup(self.storage.client.delete, "someone:else")
        self.storage.flush()
        self.assertEqual(self.storage.client.get("someone:else"), "1")

    def test_bad_url_is_a_configuration_error(self) -> None:
        with self.assertRaises(ConfigurationError):
            load_from_config(Configurator(settings={"storage_url": "http://x"}))
