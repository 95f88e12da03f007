"""The PostgreSQL permission backend (``cliquetish.permission_backend =
cliquetish.permission.postgresql``).

Entries live in ``access_control_entries(object_id, permission, principal)`` and groups in
``user_principals(user_id, principal)`` (``schema/001_initial.sql``, applied by
:meth:`Permission.initialize_schema`, i.e. ``cliquetish migrate``). Every method is one SQL
statement (two for a replacement) on the shared client of
:mod:`cliquetish.storage.postgresql.client`: inside a request it runs in the request's
transaction, so an aborted request leaves no entry behind, and a PostgreSQL storage on the same
database can join these tables inside its listing queries.

User principals are read on most requests, and change rarely: :meth:`Permission.get_user_principals`
keeps them per process for ``permission_principals_cache_seconds`` (2 by default, 0 turns it
off; see :class:`PrincipalsCache`). A
change made through this backend is seen at once by the process that made it; other processes
see it within that delay.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from cliquetish.permission import PermissionBase, Permissions
from cliquetish.storage.postgresql.client import PostgreSQLClient, create_client, execute
from cliquetish.storage.postgresql.migrations import apply_migrations
from cliquetish.undo import active_transaction

__all__ = [
    "PRINCIPALS_CACHE_SECONDS",
    "SCHEMA_FOLDER",
    "Permission",
    "PrincipalsCache",
    "escape_like",
    "load_from_config",
]

SCHEMA_FOLDER = Path(__file__).parent / "schema"
"""Numbered schema files (``001_initial.sql``, ...), applied in order by ``migrate``."""


def _sql(text: str) -> str:
    return text


def escape_like(text: str) -> str:
    """``text`` with the ``LIKE`` wildcards (and the escape character) escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


ADD_USER_PRINCIPAL = _sql(
    "INSERT INTO user_principals (user_id, principal) VALUES (:user_id, :principal) "
    "ON CONFLICT DO NOTHING"
)
REMOVE_USER_PRINCIPAL = _sql(
    "DELETE FROM user_principals WHERE user_id = :user_id AND principal = :principal"
)
GET_USER_PRINCIPALS = _sql("SELECT principal FROM user_principals WHERE user_id = :user_id")
ADD_ACE = _sql(
    "INSERT INTO access_control_entries (object_id, permission, principal) "
    "VALUES (:object_id, :permission, :principal) ON CONFLICT DO NOTHING"
)
REMOVE_ACE = _sql(
    "DELETE FROM access_control_entries "
    "WHERE object_id = :object_id AND permission = :permission AND principal = :principal"
)
GET_PRINCIPALS = _sql(
    "SELECT principal FROM access_control_entries "
    "WHERE object_id = :object_id AND permission = :permission"
)
CHECK_PERMISSION = _sql(
    "SELECT EXISTS (SELECT 1 FROM access_control_entries "
    "WHERE object_id = :object_id AND permission = ANY(CAST(:permissions AS TEXT[])) "
    "AND principal = ANY(CAST(:principals AS TEXT[])))"
)
ACCESSIBLE_OBJECTS = _sql(
    "SELECT DISTINCT object_id FROM access_control_entries "
    "WHERE principal = ANY(CAST(:principals AS TEXT[])) "
    "AND permission = ANY(CAST(:permissions AS TEXT[])) AND object_id LIKE :pattern"
)
OBJECT_PERMISSIONS = _sql(
    "SELECT permission, principal FROM access_control_entries WHERE object_id = :object_id"
)
OBJECT_SOME_PERMISSIONS = _sql(
    "SELECT permission, principal FROM access_control_entries "
    "WHERE object_id = :object_id AND permission = ANY(CAST(:permissions AS TEXT[]))"
)
DELETE_REPLACED = _sql(
    "DELETE FROM access_control_entries WHERE object_id = :object_id "
    "AND permission = ANY(CAST(:permissions AS TEXT[])) "
    "AND (permission, principal) NOT IN "
    "(SELECT * FROM unnest(CAST(:new_permissions AS TEXT[]), CAST(:new_principals AS TEXT[])))"
)
REPLACE = _sql(
    "WITH removed AS ("
    "DELETE FROM access_control_entries WHERE object_id = :object_id "
    "AND permission = ANY(CAST(:permissions AS TEXT[])) "
    "AND (permission, principal) NOT IN "
    "(SELECT * FROM unnest(CAST(:new_permissions AS TEXT[]), CAST(:new_principals AS TEXT[])))"
    ") INSERT INTO access_control_entries (object_id, permission, principal) "
    "SELECT :object_id, permission, principal "
    "FROM unnest(CAST(:new_permissions AS TEXT[]), CAST(:new_principals AS TEXT[])) "
    "AS new (permission, principal) ON CONFLICT DO NOTHING"
)
"""Both at once: the rows deleted and the rows inserted never overlap (a kept entry is not
deleted, and its insert does nothing)."""
DELETE_OBJECTS = _sql(
    "DELETE FROM access_control_entries WHERE object_id = ANY(CAST(:object_ids AS TEXT[]))"
)
FLUSH = (_sql("DELETE FROM access_control_entries"), _sql("DELETE FROM user_principals"))


PRINCIPALS_CACHE_SECONDS = 2.0
"""How long a process keeps a user's principals read from the database."""


class PrincipalsCache:
    """Users' principals read from one database, kept per process for a short time.

    Shared by every backend on the same engine, so a change made through any of them in this
    process drops the user's entry at once (and again after the change commits). A transaction
    that changed principals reads them from the database until it ends (it sees its own
    uncommitted writes, which must not be cached); a read that started before a change is not
    kept.
    """

    def __init__(self, seconds: float = PRINCIPALS_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, frozenset[str]]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._changing: weakref.WeakSet[Any] = weakref.WeakSet()

    def changed_in(self, txn: Any) -> bool:
        """Mark ``txn`` as having changed principals; True the first time."""
        with self._lock:
            if txn in self._changing:
                return False
            self._changing.add(txn)
            return True

    def any_changing(self) -> bool:
        """True while a transaction that changed principals is still alive (most reads need
        not look up their own)."""
        return bool(self._changing)

    def is_changing(self, txn: Any | None) -> bool:
        """True when ``txn`` changed principals."""
        return txn is not None and txn in self._changing

    def get(self, user_id: str) -> tuple[frozenset[str] | None, int]:
        """The fresh cached principals (or None) and the generation to pass to :meth:`put`."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1], self._generation
            return None, self._generation

    def put(
        self, user_id: str, principals: frozenset[str], generation: int,
        seconds: float | None = None,
    ) -> None:
        """Keep ``principals`` for ``seconds`` (default: this cache's delay) unless something
        changed since ``generation`` was read."""
        seconds = self.seconds if seconds is None else seconds
        if seconds <= 0:
            return
        with self._lock:
            if generation == self._generation:
                self._entries[user_id] = (time.monotonic() + seconds, principals)

    def invalidate(self, user_id: str | None = None) -> None:
        """Forget one user's principals (everyone's when ``user_id`` is None)."""
        with self._lock:
            self._generation += 1
            if user_id is None:
                self._entries.clear()
            else:
                self._entries.pop(user_id, None)


_CACHES: dict[Engine, PrincipalsCache] = {}
_CACHES_LOCK = threading.Lock()


def principals_cache(engine: Engine) -> PrincipalsCache:
    """The principals cache of ``engine`` (one per database and process)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = PrincipalsCache()
        return cache


class Permission(PermissionBase):
    """Access-control entries and user principals in two PostgreSQL tables."""

    def __init__(
        self, client: PostgreSQLClient, principals_cache_seconds: float = PRINCIPALS_CACHE_SECONDS
    ) -> None:
        self.client = client
        self.principals_cache = principals_cache(client.engine)
        self.principals_cache_seconds = principals_cache_seconds

    def _principals_changed(self, user_id: str | None) -> None:
        """Drop the cached principals now, and again once the change is committed; the
        writing transaction reads them from the database from now on."""
        cache = self.principals_cache
        cache.invalidate(user_id)
        txn = active_transaction(self.client.transaction_manager)
        if txn is not None and cache.changed_in(txn):
            txn.addAfterCommitHook(lambda _ok: cache.invalidate())

    def _principals_changed_in_transaction(self) -> bool:
        cache = self.principals_cache
        return cache.any_changing() and cache.is_changing(
            active_transaction(self.client.transaction_manager))

    def _execute(self, statement: str, **params: Any) -> Any:
        """Run a read (prepared: every read here looks up one key, whatever its values)."""
        return self.client.read(statement, params, prepare=statement != ACCESSIBLE_OBJECTS)

    def _write(self, statement: str, **params: Any) -> None:
        with self.client.connect() as connection:
            execute(connection, statement, params)

    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Apply the pending ``schema/*.sql`` files; say what was (or would be) done."""
        return apply_migrations(self.client, "permission", SCHEMA_FOLDER, dry_run)

    def flush(self) -> None:
        """Delete every entry and user principal (``DELETE``: no lock waits on readers)."""
        with self.client.connect() as connection:
            for statement in FLUSH:
                execute(connection, statement)
        self._principals_changed(None)

    def ping(self) -> bool:
        """True when the server answers (on a connection of its own); never raises."""
        return self.client.ping()

    def add_user_principal(self, user_id: str, principal: str) -> None:
        """Give ``user_id`` the extra principal."""
        self._write(ADD_USER_PRINCIPAL, user_id=user_id, principal=principal)
        self._principals_changed(user_id)

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        """Take the extra principal away."""
        self._write(REMOVE_USER_PRINCIPAL, user_id=user_id, principal=principal)
        self._principals_changed(user_id)

    def get_user_principals(self, user_id: str) -> set[str]:
        """The extra principals of ``user_id`` (kept per process for a short time, see
        :class:`PrincipalsCache`)."""
        if self._principals_changed_in_transaction():
            return {row[0] for row in self._execute(GET_USER_PRINCIPALS, user_id=user_id)}
        cached, generation = self.principals_cache.get(user_id)
        if cached is not None:
            return set(cached)
        principals = {row[0] for row in self._execute(GET_USER_PRINCIPALS, user_id=user_id)}
        self.principals_cache.put(
            user_id, frozenset(principals), generation, self.principals_cache_seconds
        )
        return principals

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Add one entry."""
        self._write(ADD_ACE, object_id=object_id, permission=permission, principal=principal)

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Remove one entry."""
        self._write(REMOVE_ACE, object_id=object_id, permission=permission, principal=principal)

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        """The principals having ``permission`` on ``object_id``."""
        rows = self._execute(GET_PRINCIPALS, object_id=object_id, permission=permission)
        return {row[0] for row in rows}

    def check_permission(
        self, object_id: str, permissions: Iterable[str], principals: Iterable[str]
    ) -> bool:
        """One primary-key lookup."""
        names, wanted = sorted(set(permissions)), sorted(set(principals))
        if not names or not wanted:
            return False
        rows = self._execute(
            CHECK_PERMISSION, object_id=object_id, permissions=names, principals=wanted
        )
        return bool(rows[0][0])

    def accessible_objects(
        self, principals: Iterable[str], permissions: Iterable[str], object_id_prefix: str = ""
    ) -> set[str]:
        """One index range scan per (principal, permission) under the prefix."""
        names, wanted = sorted(set(permissions)), sorted(set(principals))
        if not names or not wanted:
            return set()
        rows = self._execute(
            ACCESSIBLE_OBJECTS,
            principals=wanted,
            permissions=names,
            pattern=escape_like(object_id_prefix) + "%",
        )
        return {row[0] for row in rows}

    def object_permissions(
        self, object_id: str, permissions: Iterable[str] | None = None
    ) -> Permissions:
        """``{permission: {principals}}`` of ``object_id``."""
        if permissions is None:
            rows = self._execute(OBJECT_PERMISSIONS, object_id=object_id)
        else:
            rows = self._execute(
                OBJECT_SOME_PERMISSIONS, object_id=object_id, permissions=sorted(set(permissions))
            )
        result: Permissions = {}
        for permission, principal in rows:
            result.setdefault(permission, set()).add(principal)
        return result

    def replace_object_permissions(self, object_id: str, permissions: Permissions) -> None:
        """Delete the entries no longer wanted and insert the new ones, in one statement."""
        if not permissions:
            return
        pairs = sorted(
            (permission, principal)
            for permission, principals in permissions.items()
            for principal in set(principals)
        )
        params = {
            "object_id": object_id,
            "permissions": sorted(permissions),
            "new_permissions": [permission for permission, _ in pairs],
            "new_principals": [principal for _, principal in pairs],
        }
        with self.client.connect() as connection:
            execute(connection, REPLACE if pairs else DELETE_REPLACED, params)

    def delete_object_permissions(self, *object_ids: str) -> None:
        """Remove every entry of these objects."""
        if object_ids:
            self._write(DELETE_OBJECTS, object_ids=sorted(set(object_ids)))


def load_from_config(config: Any) -> Permission:
    """A permission backend on ``permission_url`` (the pool shared with the storage when the
    URL is the same)."""
    settings = config.get_settings()
    return Permission(
        create_client(settings, "permission"),
        principals_cache_seconds=settings.get(
            "permission_principals_cache_seconds", PRINCIPALS_CACHE_SECONDS
        ),
    )
