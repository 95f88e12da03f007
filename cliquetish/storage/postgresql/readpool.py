"""Connections that threads keep between autocommit reads.

Taking a connection from SQLAlchemy's pool and giving it back (events, the idle check, the
reset, the switch to autocommit and back) costs about as much CPU as the statement of a key
lookup. A thread that reads outside a transaction therefore keeps its connection, in
autocommit mode, for its next read, within these bounds:

* at most half of the pool (``pool_size + max_overflow``) is kept, so writes, which take their
  connections from the pool, always find some, and an exhausted pool still answers fast;
* a connection not used for :data:`~cliquetish.storage.postgresql.client.IDLE_PING_SECONDS`
  is pinged before its next read, as the pool pings its idle connections, and replaced if the
  ping fails: after a database restart the first request still gets no error;
* a connection is only used by the process that opened it (a forked child takes its own);
* a read that fails drops its connection; when the engine is disposed (after a disconnection,
  or by :func:`~cliquetish.storage.postgresql.client.dispose_engines`) every kept connection is
  closed, at once when idle, after its read when in use.

The pool still counts a kept connection as checked out.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

__all__ = ["KeptConnection", "ReadConnections", "keep_limit"]

_PROCESS = {"pid": os.getpid()}
"""This process's id, kept up to date in forked children (``os.getpid()`` is a system call:
a read asks for it every time)."""


def _forked() -> None:
    _PROCESS["pid"] = os.getpid()


os.register_at_fork(after_in_child=_forked)

_FOREIGN: list[Any] = []
"""Connections opened by a parent process: never used nor closed here (closing one would end
the parent's session), only kept referenced so that no garbage collection closes them."""


def _answers(kept: KeptConnection) -> bool:
    """True when the connection's server answers ``SELECT 1``."""
    try:
        with kept.driver.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except psycopg2.Error:
        return False


def keep_limit(engine: Engine) -> int:
    """How many connections the threads may keep: half of what the pool may open (none for
    pools that do not queue, such as ``NullPool``)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return 0
    overflow = max(pool._max_overflow, 0)  # noqa: SLF001 (no public accessor; -1: unbounded)
    return (pool.size() + overflow) // 2


@dataclass
class KeptConnection:
    """A pooled connection in autocommit mode, and what decides whether it may be reused."""

    pooled: Any
    pid: int
    generation: int
    counted: bool = False
    used_at: float = field(default_factory=time.monotonic)
    driver: Any = field(init=False, repr=False)
    """The psycopg2 connection (the pooled one's, for as long as it is kept)."""

    def __post_init__(self) -> None:
        self.driver = self.pooled.dbapi_connection


class ReadConnections:
    """The connections kept by the threads reading through one engine."""

    def __init__(self, engine: Engine, idle_seconds: float) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds
        self.limit = keep_limit(engine)
        self._idle: dict[int, KeptConnection] = {}
        self._kept = 0
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def kept(self) -> int:
        """Connections kept at this moment (idle or in use)."""
        return self._kept

    def take(self) -> KeptConnection:
        """The thread's kept connection when it is still fresh, else one from the pool.

        :raises sqlalchemy.exc.SQLAlchemyError: the pool could not give a connection.
        """
        with self._lock:
            kept = self._idle.pop(threading.get_ident(), None)
        if kept is not None:
            if kept.generation != self._generation:
                self._let_go(kept, close=True)
            elif kept.pid != _PROCESS["pid"]:
                self._let_go(kept)
            elif time.monotonic() - kept.used_at < self.idle_seconds or _answers(kept):
                return kept
            else:
                self.drop(kept)
        pooled = self.engine.raw_connection()
        pooled.dbapi_connection.autocommit = True
        return KeptConnection(pooled, _PROCESS["pid"], self._generation)

    def give_back(self, kept: KeptConnection) -> None:
        """After a read that worked: keep the connection for the thread's next read if the
        bounds allow it (first reclaiming connections idle for too long, whose threads may have
        ended), else give it back to the pool."""
        stale: list[KeptConnection] = []
        with self._lock:
            current = kept.generation == self._generation
            if current and not kept.counted and self._kept >= self.limit:
                stale = self._stale_idle()
            if current and (kept.counted or self._kept < self.limit):
                if not kept.counted:
                    kept.counted = True
                    self._kept += 1
                kept.used_at = time.monotonic()
                self._idle[threading.get_ident()] = kept
                kept = None
        for connection in stale:
            self._let_go(connection)
        if kept is not None:
            self._let_go(kept, close=not current)

    def drop(self, kept: KeptConnection, error: BaseException | None = None) -> None:
        """After a read that failed: the connection's state is unknown, the pool replaces it."""
        if kept.counted:
            with self._lock:
                self._kept -= 1
            kept.counted = False
        kept.pooled.invalidate(error)
        kept.pooled.close()

    def release_all(self) -> None:
        """Close every kept connection (the engine was disposed): the idle ones now, those in
        use after their read."""
        with self._lock:
            idle = list(self._idle.values())
            self._idle.clear()
            self._generation += 1
        for kept in idle:
            self._let_go(kept, close=True)

    def _stale_idle(self) -> list[KeptConnection]:
        """Take out of the kept connections the idle ones not used for ``idle_seconds``.
        Called with the lock held."""
        deadline = time.monotonic() - self.idle_seconds
        stale = [self._idle.pop(ident) for ident, kept in list(self._idle.items())
                 if kept.used_at < deadline]
        for kept in stale:
            kept.counted = False
        self._kept -= len(stale)
        return stale

    def _let_go(self, kept: KeptConnection, close: bool = False) -> None:
        """Give a connection back to the pool, switched out of autocommit as the pool hands
        them out; with ``close``, close it instead (its pool was disposed)."""
        if kept.counted:
            with self._lock:
                self._kept -= 1
            kept.counted = False
        if kept.pid != _PROCESS["pid"]:
            _FOREIGN.append(kept.pooled)
            return
        if close:
            kept.pooled.invalidate()
        else:
            try:
                kept.driver.autocommit = False
            except psycopg2.Error as error:
                kept.pooled.invalidate(error)
        kept.pooled.close()
