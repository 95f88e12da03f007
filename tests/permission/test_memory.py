"""The memory permission backend runs the contract suite."""

from __future__ import annotations

import threading
import unittest

import transaction

from cliquetish.permission import memory
from cliquetish.permission.testing import PermissionContract, PermissionServerContract


class TestMemoryPermissionContract(PermissionContract, unittest.TestCase):
    def make_backend(self) -> memory.Permission:
        return memory.Permission()


class TestMemoryPermissionThreads(unittest.TestCase):
    def test_concurrent_writers_lose_nothing(self) -> None:
        backend = memory.Permission()

        def write(worker: int) -> None:
            for index in range(200):
                backend.add_principal_to_ace(f"/articles/{index}", "read", f"user:{worker}")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found = backend.accessible_objects([f"user:{n}" for n in range(8)], ["read"])
        self.assertEqual(len(found), 200)
        self.assertEqual(len(backend.get_object_permission_principals("/articles/7", "read")), 8)

    def test_writes_outside_a_transaction_are_immediate(self) -> None:
        transaction.abort()
        backend = memory.Permission()
        backend.add_principal_to_ace("/articles/1", "read", "user:1")
        transaction.abort()
        self.assertTrue(backend.check_permission("/articles/1", ["read"], ["user:1"]))


def test_the_contract_hooks_must_be_implemented() -> None:
    import pytest

    contract = PermissionContract()
    with pytest.raises(NotImplementedError):
        contract.make_backend()
    with pytest.raises(NotImplementedError):
        PermissionServerContract().make_unreachable_backend()
