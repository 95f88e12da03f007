"""One pooled database connection taking part in a zope transaction.

:class:`ConnectionDataManager` is what :meth:`PostgreSQLClient.connect
<cliquetish.storage.postgresql.client.PostgreSQLClient.connect>` joins to the active zope
transaction (a request's, begun by pyramid_tm) on the first use of an engine in it: a SQLAlchemy
Core :class:`~sqlalchemy.engine.Connection` checked out of the pool with a database transaction
begun, used by every backend on that engine until the zope transaction ends.

* reads come first without any database transaction (the connection is in autocommit mode:
  each statement sees the data committed when it starts, as in a ``READ COMMITTED``
  transaction), so a request that only reads costs no ``BEGIN`` and no ``COMMIT``;
  :meth:`ConnectionDataManager.for_writes` (called before any write and any savepoint) begins
  the database transaction that every later statement of the zope transaction belongs to;
* that database transaction is committed in ``tpc_vote``, so a failed commit (a lost
  connection, a deferred constraint) makes the zope transaction fail and abort the other data
  managers;
* it is rolled back on ``abort``/``tpc_abort``; in both cases the connection returns to the
  pool and the manager leaves the transaction (a later use joins a new one);
* :meth:`ConnectionDataManager.savepoint` opens a ``SAVEPOINT`` that can be rolled back (the
  batch view undoes a failed sub-request this way).

It replaces an ORM ``Session`` registered with zope.sqlalchemy, with the same behaviour and
much less work per request.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import psycopg2
import sqlalchemy
from sqlalchemy.engine import Connection, Engine, NestedTransaction
from transaction.interfaces import IDataManager, IDataManagerSavepoint
from zope.interface import implementer

from cliquetish.storage.exceptions import BackendError

__all__ = ["ConnectionDataManager", "ConnectionSavepoint", "joined_connection", "joined_manager"]

logger = logging.getLogger(__name__)

_JOINED: weakref.WeakKeyDictionary[Any, dict[Engine, ConnectionDataManager]] = (
    weakref.WeakKeyDictionary())
"""The managers joined to each live zope transaction, by engine. Looked up by every read (where
``Transaction.data`` would raise and catch a ``KeyError`` twice); a transaction that is dropped
takes its entry with it."""


@implementer(IDataManager)
class ConnectionDataManager:
    """A pooled connection of ``engine`` whose database transaction follows ``txn``."""

    def __init__(self, engine: Engine, txn: Any, transaction_manager: Any) -> None:
        self.engine = engine
        self.transaction_manager = transaction_manager
        self._txn = txn
        self.connection: Connection = engine.connect()
        self.writing = False
        try:
            self._driver_connection().autocommit = True
            txn.join(self)
        except BaseException:
            self.connection.close()
            raise
        _JOINED.setdefault(txn, {})[engine] = self

    def _driver_connection(self) -> Any:
        return self.connection.connection.dbapi_connection

    def for_writes(self) -> Connection:
        """The connection, in the database transaction (begun by its next statement)."""
        if not self.writing:
            self._driver_connection().autocommit = False
            self.writing = True
        return self.connection

    def sortKey(self) -> str:  # noqa: N802 (the IDataManager name)
        """Vote after the in-memory undo logs: the database commit is the last to fail."""
        return f"~cliquetish-postgresql:{id(self)}"

    def abort(self, txn: Any) -> None:
        """Roll back and give the connection back to the pool."""
        self._finish()

    def tpc_begin(self, txn: Any) -> None:
        """Nothing to prepare."""

    def commit(self, txn: Any) -> None:
        """Nothing to do before the vote (statements ran already)."""

    def tpc_vote(self, txn: Any) -> None:
        """Commit the database transaction (raises :class:`BackendError` when it fails);
        nothing to do when the zope transaction only read."""
        if self.writing:
            self.connection.commit()

    def tpc_finish(self, txn: Any) -> None:
        """Give the connection back to the pool."""
        self._finish()

    def tpc_abort(self, txn: Any) -> None:
        """Roll back what was not committed; give the connection back to the pool."""
        self._finish()

    def savepoint(self) -> ConnectionSavepoint:
        """A ``SAVEPOINT`` in the database transaction."""
        return ConnectionSavepoint(self.for_writes().begin_nested())

    def _finish(self) -> None:
        """Leave the transaction; close the connection (rolling back anything uncommitted)."""
        joined = _JOINED.get(self._txn)
        if joined is not None and joined.get(self.engine) is self:
            del joined[self.engine]
        try:
            if not self.writing:
                self.connection.rollback()  # nothing to roll back: SQLAlchemy's record only
                self._driver_connection().autocommit = False
            self.connection.close()
        except (BackendError, sqlalchemy.exc.SQLAlchemyError, psycopg2.Error):
            # A dead connection cannot roll back; the server drops its transaction anyway.
            logger.warning("Closing a PostgreSQL connection failed", exc_info=True)
            self.connection.invalidate()


@implementer(IDataManagerSavepoint)
class ConnectionSavepoint:
    """Rolls the connection back to a ``SAVEPOINT``."""

    def __init__(self, nested: NestedTransaction) -> None:
        self.nested = nested

    def rollback(self) -> None:
        """``ROLLBACK TO SAVEPOINT`` (nothing when already rolled back or released)."""
        if self.nested.is_active:
            self.nested.rollback()


def joined_manager(engine: Engine, txn: Any) -> ConnectionDataManager | None:
    """The data manager of ``engine`` in the zope transaction ``txn``, if it joined one."""
    joined = _JOINED.get(txn)
    return None if joined is None else joined.get(engine)


def joined_connection(engine: Engine, txn: Any, transaction_manager: Any,
                      read_only: bool = False) -> Connection:
    """The connection of ``engine`` in the zope transaction ``txn``, joined on first use.

    ``read_only``: the caller only reads; its statements may run before the database
    transaction begins (see the module docstring).
    """
    manager = joined_manager(engine, txn)
    if manager is None:
        manager = ConnectionDataManager(engine, txn, transaction_manager)
    return manager.connection if read_only else manager.for_writes()
