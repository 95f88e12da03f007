"""The PostgreSQL client shared by the storage, permission and cache backends.

API::

    from cliquetish.storage.postgresql.client import create_client

    client = create_client(settings, "storage")   # reads storage_url, storage_pool_size, ...
    with client.connect() as connection:           # a SQLAlchemy Core Connection
        connection.execute(sqlalchemy.text("SELECT ..."), {"param": value})
    client.ping()                                  # True / False, never raises

* :func:`create_client` reads ``<kind>_url`` (``postgresql://user:password@host:port/db``;
  ``postgres://`` is accepted too), ``<kind>_pool_size``, ``<kind>_max_overflow`` and
  ``<kind>_pool_timeout_seconds`` from the typed settings. Engines (and so pools) are **shared
  per URL**: the storage and the permission backend on the same database use one pool and, in a
  request, one database transaction. The first client created for a URL sets the pool's size.
* :meth:`PostgreSQLClient.connect` is a context manager yielding a Connection:

  - while a zope transaction is active (in a request: pyramid_tm; in a script:
    ``with transaction.manager:``), the connection belongs to that transaction, through a
    :class:`~cliquetish.storage.postgresql.datamanager.ConnectionDataManager`: every
    ``connect()`` of the transaction gets the same connection and database transaction,
    committed or rolled back with the zope one (savepoints included);
  - otherwise (or with ``join_transaction=False``) the block is its own database transaction,
    committed when the block ends, rolled back when it raises.

* Every SQLAlchemy or driver error is raised as
  :class:`~cliquetish.storage.exceptions.BackendError` (the original is its ``original`` and
  ``__cause__``). A pool with no free connection after ``pool_timeout_seconds`` fails the same
  way; a server that does not answer the connection within the connect timeout too.
* After a server restart the pooled connections are dead: a connection that waited in the pool
  for more than a second is pinged before use and replaced when dead, so the first request
  after a restart succeeds; a statement that still meets a dead connection fails
  (``BackendError``) and makes the pool drop all of them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg2
import sqlalchemy
import transaction
from sqlalchemy.engine import Connection, Engine

from cliquetish.errors import ConfigurationError
from cliquetish.storage.exceptions import BackendError
from cliquetish.storage.postgresql.datamanager import joined_connection, joined_manager
from cliquetish.storage.postgresql.prepared import run_prepared
from cliquetish.storage.postgresql.readpool import ReadConnections
from cliquetish.undo import active_transaction

__all__ = [
    "PING_TIMEOUT_MILLISECONDS",
    "PostgreSQLClient",
    "create_client",
    "dispose_engines",
    "driver_sql",
    "execute",
]

logger = logging.getLogger(__name__)

PING_TIMEOUT_MILLISECONDS = 2000
"""Longest time the server may take to answer a ping."""

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()
_READ_CONNECTIONS: dict[Engine, ReadConnections] = {}


def _normalize_url(url: str, key: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    if url.startswith("postgresql+psycopg2://"):
        return url
    raise ConfigurationError(
        f"Invalid setting {key} = {url!r}: a postgresql:// URL is needed", key=key
    )


IDLE_PING_SECONDS = 1.0
"""A pooled connection idle for longer is checked with a ping before use."""


def _check_idle_connections(engine: Engine) -> None:
    """Ping connections that waited in the pool, so a restarted server costs no error.

    Busy connections (back in use within :data:`IDLE_PING_SECONDS`) are not pinged: a
    request keeps its single round trip. A failed ping makes the pool drop the connection
    and open a new one.
    """

    @sqlalchemy.event.listens_for(engine, "checkin")
    def remember_idle(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sqlalchemy.event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()  # the connection is handed over outside a transaction
        except Exception as error:  # noqa: BLE001 (any failure means a dead connection)
            raise sqlalchemy.exc.DisconnectionError(str(error)) from error


def _raise_backend_errors_outside_statements(engine: Engine) -> None:
    """Driver errors of COMMIT and ROLLBACK (run by the zope transaction, outside
    :meth:`PostgreSQLClient.connect`) are raised as :class:`BackendError` too, so a connection
    lost at commit time answers 503 errno 201, not 500."""

    @sqlalchemy.event.listens_for(engine, "handle_error")
    def as_backend_error(context: Any) -> BaseException | None:
        if context.statement is not None:  # statements: wrapped by backend_errors()
            return None
        return BackendError(context.original_exception)


def _create_engine(url: str, pool_size: int, max_overflow: int, timeout: float) -> Engine:
    connect_timeout = max(2, int(round(timeout)))
    engine = sqlalchemy.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": connect_timeout,
            "application_name": "cliquetish",
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    )
    _check_idle_connections(engine)
    _raise_backend_errors_outside_statements(engine)
    return engine


def shared_engine(url: str, pool_size: int, max_overflow: int, timeout: float) -> Engine:
    """The engine of ``url``, created on first use with these pool parameters."""
    url = _normalize_url(url, "url")
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = _create_engine(url, pool_size, max_overflow, timeout)
        return engine


def read_connections(engine: Engine) -> ReadConnections:
    """The connections threads keep for their reads through ``engine`` (one set per engine,
    shared by its clients; closed whenever the engine is disposed)."""
    with _ENGINES_LOCK:
        reads = _READ_CONNECTIONS.get(engine)
        if reads is None:
            reads = _READ_CONNECTIONS[engine] = ReadConnections(engine, IDLE_PING_SECONDS)
            sqlalchemy.event.listen(engine, "engine_disposed",
                                    lambda disposed: reads.release_all())
        return reads


def dispose_engines() -> None:
    """Close every pooled connection of every shared engine (tests, forked processes)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()


def create_client(settings: Mapping[str, Any], prefix_kind: str) -> PostgreSQLClient:
    """A client for the ``<prefix_kind>_url`` database, with that kind's pool settings.

    :raises ConfigurationError: the URL is missing or not a PostgreSQL URL.
    """
    key = f"{prefix_kind}_url"
    url = settings.get(key) or ""
    if not url:
        raise ConfigurationError(f"Missing setting {key}: a postgresql:// URL", key=key)
    engine = shared_engine(
        _normalize_url(url, key),  # checked here to name the setting
        int(settings.get(f"{prefix_kind}_pool_size", 10)),
        int(settings.get(f"{prefix_kind}_max_overflow", 10)),
        float(settings.get(f"{prefix_kind}_pool_timeout_seconds", 5.0)),
    )
    return PostgreSQLClient(engine)


_DATABASE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, psycopg2.Error)
"""What :func:`backend_errors` turns into :class:`BackendError` (the driver's errors: a
connection used directly, switched to autocommit for instance)."""


def _backend_error(error: BaseException) -> BackendError:
    """The :class:`BackendError` of one of :data:`_DATABASE_ERRORS` (SQLAlchemy's carries the
    driver's error)."""
    return BackendError(getattr(error, "orig", None) or error)


@contextlib.contextmanager
def backend_errors() -> Iterator[None]:
    """Turn SQLAlchemy and driver errors raised in the block into :class:`BackendError`."""
    try:
        yield
    except _DATABASE_ERRORS as error:
        raise _backend_error(error) from error


_BIND_PARAMETER = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")
"""A ``:name`` placeholder, found as :func:`sqlalchemy.text` finds them."""


@functools.lru_cache(maxsize=4096)
def driver_sql(statement: str) -> str:
    """``statement`` with its ``:name`` placeholders written ``%(name)s`` for psycopg2 (and
    any ``%`` doubled). Statements are built from a bounded set of shapes, so they are
    converted once per process."""
    return _BIND_PARAMETER.sub(r"%(\1)s", statement.replace("%", "%%"))


def execute(connection: Connection, statement: str, params: Mapping[str, Any] | None = None
            ) -> sqlalchemy.CursorResult[Any]:
    """Run ``statement`` (``:name`` placeholders) with ``params`` on ``connection``.

    What :meth:`Connection.execute` of a :func:`sqlalchemy.text` does, without building,
    compiling and caching a SQL construct on every call: the driver gets the statement as is.
    """
    if not params:
        return connection.exec_driver_sql(statement)
    return connection.exec_driver_sql(driver_sql(statement), dict(params))


class PostgreSQLClient:
    """Connections to one PostgreSQL database, tied to the zope transaction when one is active."""

    def __init__(self, engine: Engine, transaction_manager: Any = None) -> None:
        self.engine = engine
        self.transaction_manager = transaction_manager or transaction.manager
        self.read_connections = read_connections(engine)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def same_database(self, other: PostgreSQLClient) -> bool:
        """True when both clients use the same engine (so the same database and transaction)."""
        return self.engine is other.engine

    @contextlib.contextmanager
    def connect(self, join_transaction: bool = True, read_only: bool = False
                ) -> Iterator[Connection]:
        """A connection in the active zope transaction, else in a transaction of its own.

        ``read_only``: the block only reads. In a zope transaction that has not written yet,
        its statements then run without a database transaction (no ``BEGIN``/``COMMIT`` for a
        request that only reads; each statement sees what was committed when it starts).

        :raises BackendError: on any database error.
        """
        txn = active_transaction(self.transaction_manager) if join_transaction else None
        if txn is not None:
            with backend_errors():
                yield joined_connection(self.engine, txn, self.transaction_manager, read_only)
            return
        with backend_errors(), self.engine.connect() as connection, connection.begin():
            yield connection

    def read(self, statement: str, params: Mapping[str, Any] | None = None,
             prepare: bool = False) -> list[Any]:
        """The rows of a read-only ``statement`` (``:name`` placeholders).

        When the active zope transaction already holds a connection to this database (it
        wrote, or began a savepoint), the statement runs there and sees what was written.
        Otherwise it runs on a connection in autocommit mode, which the thread keeps for its
        next read within bounds (see :mod:`.readpool`): no ``BEGIN``, no ``COMMIT``, and no
        transaction open while the view works. With
        ``prepare`` (for statements whose best plan does not depend on their values) it is
        prepared once per connection (see :mod:`.prepared`).

        :raises BackendError: on any database error.
        """
        txn = active_transaction(self.transaction_manager)
        if txn is not None:
            manager = joined_manager(self.engine, txn)
            if manager is not None:
                with backend_errors():
                    return execute(manager.connection, statement, params).all()
        return self._pooled_read(statement, params, prepare)

    def _pooled_read(self, statement: str, params: Mapping[str, Any] | None,
                     prepare: bool) -> list[Any]:
        reads = self.read_connections
        try:  # backend_errors(), inline on the path of every read
            kept = reads.take()
        except _DATABASE_ERRORS as error:
            raise _backend_error(error) from error
        driver = kept.driver
        try:
            if prepare:
                rows = run_prepared(kept.pooled.info, driver, statement, params)
            else:
                with driver.cursor() as cursor:
                    if params:
                        cursor.execute(driver_sql(statement), dict(params))
                    else:
                        cursor.execute(statement)
                    rows = cursor.fetchall() if cursor.description is not None else []
        except BaseException as error:
            reads.drop(kept, error)  # its state is unknown: the pool opens a new one
            if isinstance(error, psycopg2.Error):
                if self.engine.dialect.is_disconnect(error, driver, None):
                    self.engine.dispose()  # the server went away: drop the idle ones too
                raise BackendError(error) from error
            raise
        reads.give_back(kept)
        return rows

    def ping(self, timeout_ms: int = PING_TIMEOUT_MILLISECONDS) -> bool:
        """True when the server answers ``SELECT 1`` within ``timeout_ms``; never raises.

        One round trip on a pooled connection, outside any zope transaction (see
        :meth:`probe`).
        """
        return self.probe("SELECT 1", timeout_ms=timeout_ms)

    def probe(self, statement: str, params: Mapping[str, Any] | None = None,
              timeout_ms: int = PING_TIMEOUT_MILLISECONDS) -> bool:
        """True when ``statement`` (``:name`` placeholders) runs within ``timeout_ms``, in a
        transaction rolled back at once (a write leaves nothing); never raises.

        ``BEGIN``, the timeout, the statement and ``ROLLBACK`` travel in one round trip on a
        pooled connection, outside any zope transaction; a connection that failed is dropped
        from the pool.
        """
        text = driver_sql(statement) if params else statement
        script = (f"BEGIN; SET LOCAL statement_timeout = {int(timeout_ms)}; {text}; ROLLBACK")
        try:
            with self.engine.connect() as connection:
                driver = connection.connection.dbapi_connection
                try:
                    driver.autocommit = True
                    with driver.cursor() as cursor:
                        cursor.execute(script, dict(params) if params else None)
                    driver.autocommit = False
                except BaseException:
                    connection.invalidate()
                    raise
            return True
        except Exception:  # noqa: BLE001 (a heartbeat reports, it never raises)
            logger.warning("PostgreSQL ping failed on %s", self.url, exc_info=True)
            return False
