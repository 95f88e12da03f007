"""Undo logs: make in-memory writes follow the zope ``transaction`` they happen in.

A backend that keeps its state in Python objects (the memory storage, cache and permission
backends, the Redis storage) cannot roll back like a database. Instead, each write records an
*undo* callable that restores what the write changed. While a zope transaction is active (in a
request, pyramid_tm begins one), the first write of an owner joins that transaction with an
:class:`UndoLog`; when the transaction aborts (or rolls back to a savepoint) the undos run in
reverse order, when it commits they are dropped. Outside any active transaction writes are
simply immediate and nothing is recorded.

Usage in a backend::

    from cliquetish import undo

    def set(self, key, value):
        with self._lock:
            previous = self._data.get(key, MISSING)
            self._data[key] = value
        undo.record(self, lambda: self._restore(key, previous))

The undo callable must be self-contained (take its own lock) and must not raise; an exception
raised by one undo is logged and the others still run.

Isolation is not provided: a concurrent transaction sees uncommitted writes, and an abort
restores the previous values even over a concurrent write made in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import transaction
from transaction.interfaces import IDataManager, IDataManagerSavepoint, NoTransaction
from zope.interface import implementer

__all__ = ["Undo", "UndoLog", "active_transaction", "record"]

logger = logging.getLogger(__name__)

Undo = Callable[[], None]
"""A callable that reverts one write. Takes no argument, returns nothing, must not raise."""


_UNKNOWN = object()


def active_transaction(manager: Any = None) -> Any:
    """The zope transaction currently begun in ``manager`` (default: the thread's), or None.

    A transaction is active from ``manager.begin()`` (or, in the implicit mode of ``transaction``,
    from the first ``manager.get()``) until its commit or abort.
    """
    manager = manager if manager is not None else transaction.manager
    # ``transaction``'s managers keep the current transaction (or None) in ``_txn``, in both
    # modes (a thread-local manager wraps one): looking there costs no exception, where an
    # explicit manager's get() raises NoTransaction, and creates none, where an implicit
    # manager's get() would begin one.
    current = getattr(getattr(manager, "manager", manager), "_txn", _UNKNOWN)
    if current is not _UNKNOWN:
        return current
    if manager.explicit:  # another implementation of the interface
        try:
            return manager.get()
        except NoTransaction:
            return None
    return None


@implementer(IDataManager)
class UndoLog:
    """A data manager holding the undos of one owner within one transaction.

    Get it through :func:`record`; it is created and joined on the owner's first write in the
    transaction and forgotten once the transaction ends.
    """

    def __init__(self, owner: object, transaction_manager: Any) -> None:
        self.owner = owner
        self.transaction_manager = transaction_manager
        self._undos: list[Undo] = []

    def __len__(self) -> int:
        return len(self._undos)

    def add(self, undo: Undo) -> None:
        """Remember ``undo``; it runs if the transaction aborts."""
        self._undos.append(undo)

    def rollback_to(self, size: int) -> None:
        """Run, newest first, the undos recorded after the first ``size`` ones, and drop them."""
        while len(self._undos) > size:
            undo = self._undos.pop()
            try:
                undo()
            except Exception:  # one failed undo must not prevent the others
                logger.exception("Undo of %r failed", self.owner)

    # IDataManager
    def abort(self, txn: Any) -> None:
        """The transaction aborted before voting: revert everything."""
        self.rollback_to(0)

    def tpc_begin(self, txn: Any) -> None:
        """Nothing to prepare: the writes are already applied."""

    def commit(self, txn: Any) -> None:
        """Nothing to do: the writes are already applied."""

    def tpc_vote(self, txn: Any) -> None:
        """Always ready to commit."""

    def tpc_finish(self, txn: Any) -> None:
        """Committed: forget the undos."""
        self._undos.clear()

    def tpc_abort(self, txn: Any) -> None:
        """The commit failed (another data manager refused): revert everything."""
        self.rollback_to(0)

    def sortKey(self) -> str:  # noqa: N802 (zope interface name)
        """Vote early: this data manager never refuses a commit."""
        return f"cliquetish.undo:{id(self)}"

    def savepoint(self) -> UndoSavepoint:
        """A savepoint that can revert the writes made after it."""
        return UndoSavepoint(self, len(self._undos))


@implementer(IDataManagerSavepoint)
class UndoSavepoint:
    """Reverts the writes an :class:`UndoLog` recorded after the savepoint was taken."""

    def __init__(self, log: UndoLog, size: int) -> None:
        self.log = log
        self.size = size

    def rollback(self) -> None:
        """Run the undos recorded since the savepoint, newest first."""
        self.log.rollback_to(self.size)


_LOGS_KEY = object()
"""Key of the ``{id(owner): UndoLog}`` map kept in each transaction's data."""


def record(owner: object, undo: Undo, manager: Any = None) -> bool:
    """Register ``undo`` for a write ``owner`` just made.

    Inside an active transaction, joins it (once per owner) and returns True. Outside one, does
    nothing and returns False: the write stays.
    """
    manager = manager if manager is not None else transaction.manager
    txn = active_transaction(manager)
    if txn is None:
        return False
    try:
        logs = txn.data(_LOGS_KEY)
    except KeyError:
        logs = {}
        txn.set_data(_LOGS_KEY, logs)
    log = logs.get(id(owner))
    if log is None:
        log = logs[id(owner)] = UndoLog(owner, manager)
        txn.join(log)
    log.add(undo)
    return True
