"""The in-memory permission backend: for tests and the zero-setup demo.

Thread-safe (one lock). Writes made inside a ``transaction`` (as every request is, through
``pyramid_tm``) are undone when it aborts, so a failed request leaves no entry behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from cliquetish import undo
from cliquetish.permission import PermissionBase, Permissions

__all__ = ["Permission", "load_from_config"]


class Permission(PermissionBase):
    """Access-control entries and user principals kept in dictionaries."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._aces: dict[str, dict[str, set[str]]] = {}
        self._user_principals: dict[str, set[str]] = {}

    # Undo journal: each write first records how to restore what it changes (see undo.py)

    def _journal_object(self, object_id: str) -> None:
        """Remember the entries of ``object_id`` so that an abort puts them back."""
        saved = {perm: set(names) for perm, names in self._aces.get(object_id, {}).items()}

        def restore() -> None:
            with self._lock:
                if saved:
                    self._aces[object_id] = saved
                else:
                    self._aces.pop(object_id, None)

        undo.record(self, restore)

    def _journal_user(self, user_id: str) -> None:
        """Remember the principals of ``user_id`` so that an abort puts them back."""
        saved = set(self._user_principals.get(user_id, ()))

        def restore() -> None:
            with self._lock:
                if saved:
                    self._user_principals[user_id] = saved
                else:
                    self._user_principals.pop(user_id, None)

        undo.record(self, restore)

    # Contract -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Delete everything, at once (not undone by an abort)."""
        with self._lock:
            self._aces.clear()
            self._user_principals.clear()

    def ping(self) -> bool:
        """Always True: memory is always there."""
        return True

    def add_user_principal(self, user_id: str, principal: str) -> None:
        """Give ``user_id`` the extra principal."""
        with self._lock:
            self._journal_user(user_id)
            self._user_principals.setdefault(user_id, set()).add(principal)

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        """Take the extra principal away (nothing happens when it was not there)."""
        with self._lock:
            principals = self._user_principals.get(user_id)
            if not principals or principal not in principals:
                return
            self._journal_user(user_id)
            principals.discard(principal)
            if not principals:
                del self._user_principals[user_id]

    def get_user_principals(self, user_id: str) -> set[str]:
        """A copy of the extra principals of ``user_id``."""
        with self._lock:
            return set(self._user_principals.get(user_id, ()))

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Add one entry."""
        with self._lock:
            self._journal_object(object_id)
            self._aces.setdefault(object_id, {}).setdefault(permission, set()).add(principal)

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Remove one entry (nothing happens when it was not there)."""
        with self._lock:
            principals = self._aces.get(object_id, {}).get(permission)
            if not principals or principal not in principals:
                return
            self._journal_object(object_id)
            principals.discard(principal)
            self._drop_empty(object_id)

    def _drop_empty(self, object_id: str) -> None:
        """Forget the empty permissions of ``object_id`` (and the object when none is left)."""
        entries = self._aces[object_id]
        for permission in [perm for perm, names in entries.items() if not names]:
            del entries[permission]
        if not entries:
            del self._aces[object_id]

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        """A copy of the principals having ``permission`` on ``object_id``."""
        with self._lock:
            return set(self._aces.get(object_id, {}).get(permission, ()))

    def check_permission(
        self, object_id: str, permissions: Iterable[str], principals: Iterable[str]
    ) -> bool:
        """True when one of ``principals`` has one of ``permissions`` on ``object_id``."""
        wanted = set(principals)
        with self._lock:
            entries = self._aces.get(object_id, {})
            return any(not wanted.isdisjoint(entries.get(perm, ())) for perm in set(permissions))

    def accessible_objects(
        self, principals: Iterable[str], permissions: Iterable[str], object_id_prefix: str = ""
    ) -> set[str]:
        """Object ids starting with ``object_id_prefix`` granted to one of ``principals``."""
        wanted = set(principals)
        wanted_permissions = set(permissions)
        with self._lock:
            return {
                object_id
                for object_id, entries in self._aces.items()
                if object_id.startswith(object_id_prefix)
                and any(not wanted.isdisjoint(entries.get(p, ())) for p in wanted_permissions)
            }

    def object_permissions(
        self, object_id: str, permissions: Iterable[str] | None = None
    ) -> Permissions:
        """``{permission: {principals}}`` of ``object_id`` (copies; empty ones left out)."""
        wanted = None if permissions is None else set(permissions)
        with self._lock:
            return {
                perm: set(names)
                for perm, names in self._aces.get(object_id, {}).items()
                if names and (wanted is None or perm in wanted)
            }

    def replace_object_permissions(self, object_id: str, permissions: Permissions) -> None:
        """Set the principals of each permission named in ``permissions`` (empty: none)."""
        with self._lock:
            self._journal_object(object_id)
            entries = self._aces.setdefault(object_id, {})
            for permission, principals in permissions.items():
                entries[permission] = set(principals)
            self._drop_empty(object_id)

    def delete_object_permissions(self, *object_ids: str) -> None:
        """Remove every entry of these objects."""
        with self._lock:
            for object_id in set(object_ids):
                if object_id in self._aces:
                    self._journal_object(object_id)
                    del self._aces[object_id]


def load_from_config(config: Any) -> Permission:
    """A new, empty in-memory permission backend."""
    return Permission()
