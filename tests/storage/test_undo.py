"""The undo log follows the zope transaction: undone on abort, kept on commit."""

from __future__ import annotations

import unittest

import transaction

from cliquetish import undo


class Box:
    """A tiny undoable store."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def append(self, value: str) -> bool:
        self.values.append(value)
        return undo.record(self, lambda: self.values.remove(value))


class UndoTest(unittest.TestCase):
    def tearDown(self) -> None:
        transaction.abort()

    def test_outside_a_transaction_writes_are_immediate(self) -> None:
        box = Box()
        self.assertFalse(box.append("a"))
        transaction.abort()
        self.assertEqual(box.values, ["a"])

    def test_abort_reverts_in_reverse_order(self) -> None:
        box = Box()
        order: list[str] = []
        transaction.begin()
        box.append("a")
        undo.record(box, lambda: order.append("first"))
        undo.record(box, lambda: order.append("second"))
        transaction.abort()
        self.assertEqual(box.values, [])
        self.assertEqual(order, ["second", "first"])

    def test_commit_keeps_writes_and_forgets_undos(self) -> None:
        box = Box()
        transaction.begin()
        self.assertTrue(box.append("a"))
        transaction.commit()
        transaction.begin()
        transaction.abort()
        self.assertEqual(box.values, ["a"])

    def test_one_log_per_owner_per_transaction(self) -> None:
        first, second = Box(), Box()
        txn = transaction.begin()
        first.append("a")
        first.append("b")
        second.append("c")
        logs = [r for r in txn._resources if isinstance(r, undo.UndoLog)]
        self.assertEqual(sorted(len(log) for log in logs), [1, 2])
        transaction.abort()
        self.assertEqual((first.values, second.values), ([], []))

    def test_savepoint_rollback_reverts_only_later_writes(self) -> None:
        box = Box()
        transaction.begin()
        box.append("a")
        savepoint = transaction.savepoint()
        box.append("b")
        savepoint.rollback()
        self.assertEqual(box.values, ["a"])
        transaction.commit()
        self.assertEqual(box.values, ["a"])

    def test_a_failing_undo_does_not_stop_the_others(self) -> None:
        box = Box()
        transaction.begin()
        box.append("a")

        def broken() -> None:
            raise RuntimeError("broken undo")

        undo.record(box, broken)
        with self.assertLogs("cliquetish.undo", "ERROR"):
            transaction.abort()
        self.assertEqual(box.values, [])

    def test_failed_commit_reverts(self) -> None:
        box = Box()
        transaction.begin()
        box.append("a")

        class Refusing(undo.UndoLog):
            def tpc_vote(self, txn: object) -> None:
                raise RuntimeError("refused")

            def sortKey(self) -> str:  # noqa: N802
                return "~last"

        transaction.get().join(Refusing(object(), transaction.manager))
        with self.assertRaises(RuntimeError):
            transaction.commit()
        self.assertEqual(box.values, [])

    def test_active_transaction_in_every_kind_of_manager(self) -> None:
        threaded = transaction.ThreadTransactionManager()
        threaded.explicit = True
        self.assertIsNone(undo.active_transaction(threaded))
        txn = threaded.begin()
        self.assertIs(undo.active_transaction(threaded), txn)
        threaded.abort()
        self.assertIsNone(undo.active_transaction(threaded))
        implicit = transaction.TransactionManager()
        self.assertIsNone(undo.active_transaction(implicit))
        self.assertIsNone(implicit._txn)  # looking began no transaction  # noqa: SLF001

        class Foreign:  # the interface only: no ``_txn`` to look at
            explicit = True

            def __init__(self) -> None:
                self.current: object | None = None

            def get(self) -> object:
                if self.current is None:
                    raise transaction.interfaces.NoTransaction()
                return self.current

        foreign = Foreign()
        self.assertIsNone(undo.active_transaction(foreign))
        foreign.current = marker = object()
        self.assertIs(undo.active_transaction(foreign), marker)
        foreign.explicit = False
        self.assertIsNone(undo.active_transaction(foreign))

    def test_explicit_manager(self) -> None:
        manager = transaction.TransactionManager(explicit=True)
        self.assertIsNone(undo.active_transaction(manager))
        box = Box()
        txn = manager.begin()
        self.assertIs(undo.active_transaction(manager), txn)
        self.assertTrue(undo.record(box, lambda: box.values.clear(), manager))
        box.values.append("x")
        manager.abort()
        self.assertEqual(box.values, [])
