"""The PostgreSQL storage passes the storage contract, against a real server."""

from __future__ import annotations

import unittest
from collections.abc import Iterable

from pyramid.config import Configurator

from cliquetish.permission import PermissionBase
from cliquetish.permission.memory import Permission as MemoryPermission
from cliquetish.permission.postgresql import Permission
from cliquetish.storage.postgresql import PostgreSQLStorage, load_from_config
from cliquetish.storage.postgresql.client import create_client
from cliquetish.storage.testing import StorageContractTests
from tests.servers import require_postgresql


class InQueryPermission(Permission):
    """The PostgreSQL permission backend, refusing to list objects: the storage must read its
    table inside the listing query."""

    def accessible_objects(
        self, principals: Iterable[str], permissions: Iterable[str], object_id_prefix: str = ""
    ) -> set[str]:
        raise AssertionError("the read filter should be evaluated in SQL")


class PostgreSQLStorageTest(StorageContractTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_postgresql()

    def make_storage(self) -> PostgreSQLStorage:
        storage = load_from_config(Configurator(settings={"storage_url": self.url}))
        storage.initialize_schema()
        return storage

    def make_permission(self) -> PermissionBase:
        permission = InQueryPermission(create_client({"permission_url": self.url}, "permission"))
        permission.initialize_schema()
        return permission

    def test_read_filter_through_accessible_objects(self) -> None:
        self.make_permission = MemoryPermission  # type: ignore[method-assign]
        self.test_read_filter()
