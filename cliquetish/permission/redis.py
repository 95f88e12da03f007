"""The Redis permission backend (``cliquetish.permission_backend = cliquetish.permission.redis``).

Keys, all under the ``permission:`` namespace:

* ``permission:user:<user_id>``: set of the user's extra principals;
* ``permission:ace:<permission>:<object_id>``: set of the principals having it;
* ``permission:object:<object_id>``: set of the permissions the object has entries for;
* ``permission:principal:<principal>``: set of ``<permission>:<object_id>`` granted to it, so
  that :meth:`Permission.accessible_objects` reads one set per principal, never scans keys.

Permission names hold no ``:``. Multi-key changes run in ``MULTI``/``EXEC`` with ``WATCH`` on the
sets they read. Redis cannot roll back, so writes made inside a zope transaction record an undo
(see :mod:`cliquetish.undo`): an aborted request puts the previous entries back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from cliquetish import undo
from cliquetish.cache.redis import backend_errors, delete_matching, redis_client
from cliquetish.permission import PermissionBase, Permissions

__all__ = ["Permission", "load_from_config"]

NAMESPACE = "permission:"


def _decode(members: Iterable[bytes]) -> set[str]:
    return {member.decode("utf-8") for member in members}


class Permission(PermissionBase):
    """Access-control entries and user principals in Redis sets."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    # Key names ----------------------------------------------------------------------------

    @staticmethod
    def _user_key(user_id: str) -> str:
        return f"{NAMESPACE}user:{user_id}"

    @staticmethod
    def _ace_key(object_id: str, permission: str) -> str:
        if ":" in permission:
            raise ValueError(f"Permission names cannot hold ':' ({permission!r})")
        return f"{NAMESPACE}ace:{permission}:{object_id}"

    @staticmethod
    def _object_key(object_id: str) -> str:
        return f"{NAMESPACE}object:{object_id}"

    @staticmethod
    def _principal_key(principal: str) -> str:
        return f"{NAMESPACE}principal:{principal}"

    # Undo journal -------------------------------------------------------------------------

    def _journal_object(self, object_id: str) -> None:
        if undo.active_transaction() is None:
            return
        saved = self.object_permissions(object_id)

        def restore() -> None:
            current = self.object_permissions(object_id)
            names = set(current) | set(saved)
            self._replace(object_id, {name: saved.get(name, set()) for name in names})

        undo.record(self, restore)

    def _journal_user(self, user_id: str) -> None:
        if undo.active_transaction() is None:
            return
        saved = self.get_user_principals(user_id)
        key = self._user_key(user_id)

        def restore() -> None:
            with backend_errors(), self.client.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if saved:
                    pipe.sadd(key, *saved)
                pipe.execute()

        undo.record(self, restore)

    # Contract -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Delete every key of the namespace, at once (not undone by an abort)."""
        with backend_errors():
            delete_matching(self.client, NAMESPACE + "*")

    def ping(self) -> bool:
        """True when Redis answers ``PING``."""
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def add_user_principal(self, user_id: str, principal: str) -> None:
        """Give ``user_id`` the extra principal."""
        with backend_errors():
            self._journal_user(user_id)
            self.client.sadd(self._user_key(user_id), principal)

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        """Take the extra principal away."""
        with backend_errors():
            self._journal_user(user_id)
            self.client.srem(self._user_key(user_id), principal)

    def get_user_principals(self, user_id: str) -> set[str]:
        """The extra principals of ``user_id``."""
        with backend_errors():
            return _decode(self.client.smembers(self._user_key(user_id)))

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Add one entry."""
        ace_key = self._ace_key(object_id, permission)
        with backend_errors():
            self._journal_object(object_id)
            with self.client.pipeline(transaction=True) as pipe:
                pipe.sadd(ace_key, principal)
                pipe.sadd(self._object_key(object_id), permission)
                pipe.sadd(self._principal_key(principal), f"{permission}:{object_id}")
                pipe.execute()

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Remove one entry."""
        ace_key = self._ace_key(object_id, permission)
        with backend_errors():
            self._journal_object(object_id)
            with self.client.pipeline(transaction=True) as pipe:
                pipe.srem(ace_key, principal)
                pipe.srem(self._principal_key(principal), f"{permission}:{object_id}")
                pipe.execute()

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        """The principals having ``permission`` on ``object_id``."""
        with backend_errors():
            return _decode(self.client.smembers(self._ace_key(object_id, permission)))

    def check_permission(
        self, object_id: str, permissions: Iterable[str], principals: Iterable[str]
    ) -> bool:
        """One round trip: ``SMISMEMBER`` of the principals in each permission's set."""
        wanted = list(set(principals))
        names = set(permissions)
        if not wanted or not names:
            return False
        with backend_errors(), self.client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.smismember(self._ace_key(object_id, name), wanted)
            return any(any(flags) for flags in pipe.execute())

    def accessible_objects(
        self, principals: Iterable[str], permissions: Iterable[str], object_id_prefix: str = ""
    ) -> set[str]:
        """Object ids starting with ``object_id_prefix`` granted to one of ``principals``."""
        wanted = list(set(principals))
        names = set(permissions)
        if not wanted or not names:
            return set()
        with backend_errors():
            grants = self.client.sunion([self._principal_key(p) for p in wanted])
        found = set()
        for grant in _decode(grants):
            name, _, object_id = grant.partition(":")
            if name in names and object_id.startswith(object_id_prefix):
                found.add(object_id)
        return found

    def object_permissions(
        self, object_id: str, permissions: Iterable[str] | None = None
    ) -> Permissions:
        """``{permission: {principals}}`` of ``object_id`` (empty ones left out)."""
        with backend_errors():
            if permissions is None:
                names = sorted(_decode(self.client.smembers(self._object_key(object_id))))
            else:
                names = sorted(set(permissions))
            with self.client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.smembers(self._ace_key(object_id, name))
                members = pipe.execute()
        return {name: _decode(found) for name, found in zip(names, members, strict=True) if found}

    def replace_object_permissions(self, object_id: str, permissions: Permissions) -> None:
        """Set the principals of each permission named in ``permissions`` (empty: none)."""
        with backend_errors():
            self._journal_object(object_id)
            self._replace(object_id, permissions)

    def _replace(self, object_id: str, permissions: Permissions) -> None:
        """Replace atomically (retried when a watched set changes meanwhile); no journal."""
        new = {name: set(principals) for name, principals in permissions.items()}
        if not new:
            return
        ace_keys = {name: self._ace_key(object_id, name) for name in new}
        object_key = self._object_key(object_id)

        def apply(pipe: Any) -> None:
            old = {name: _decode(pipe.smembers(key)) for name, key in ace_keys.items()}
            pipe.multi()
            for name, principals in new.items():
                self._queue_changes(pipe, object_id, name, old[name], principals)
            for name, principals in new.items():
                (pipe.sadd if principals else pipe.srem)(object_key, name)

        with backend_errors():
            self.client.transaction(apply, *ace_keys.values())

    def _queue_changes(
        self, pipe: Any, object_id: str, name: str, old: set[str], new: set[str]
    ) -> None:
        ace_key = self._ace_key(object_id, name)
        grant = f"{name}:{object_id}"
        for principal in old - new:
            pipe.srem(ace_key, principal)
            pipe.srem(self._principal_key(principal), grant)
        for principal in new - old:
            pipe.sadd(ace_key, principal)
            pipe.sadd(self._principal_key(principal), grant)

    def delete_object_permissions(self, *object_ids: str) -> None:
        """Remove every entry of these objects."""
        with backend_errors():
            for object_id in dict.fromkeys(object_ids):
                self._journal_object(object_id)
                self._delete_object(object_id)

    def _delete_object(self, object_id: str) -> None:
        object_key = self._object_key(object_id)

        def apply(pipe: Any) -> None:
            names = _decode(pipe.smembers(object_key))
            if names:
                pipe.watch(object_key, *(self._ace_key(object_id, name) for name in names))
            old = {name: _decode(pipe.smembers(self._ace_key(object_id, name))) for name in names}
            pipe.multi()
            for name, principals in old.items():
                self._queue_changes(pipe, object_id, name, principals, set())
            pipe.delete(object_key)

        self.client.transaction(apply, object_key)


def load_from_config(config: Any) -> Permission:
    """A Redis permission backend from ``permission_url`` and the ``permission_pool_*`` settings."""
    settings = config.get_settings()
    client = redis_client(
        settings.get("permission_url") or "redis://localhost:6379/0",
        max_connections=settings.get("permission_pool_size", 10)
        + settings.get("permission_max_overflow", 10),
        timeout_seconds=settings.get("permission_pool_timeout_seconds", 5.0),
    )
    return Permission(client)
