"""The permission contract shared by every permission backend.

An access-control entry (ACE) is ``(object_id, permission, principal)``: ``principal`` may do
``permission`` on ``object_id``. Object ids are record URIs without the version prefix
(``/articles/<id>``). Principals are strings such as ``system.Everyone``,
``system.Authenticated``, ``basicauth:<hmac>`` or a group name; user principals map a user id to
extra principals (groups). A backend module exposes ``load_from_config(config) -> PermissionBase``.

The PostgreSQL backend keeps entries in the table ``access_control_entries(object_id,
permission, principal)`` and user principals in ``user_principals(user_id, principal)``, so the
PostgreSQL storage can filter listings by permission inside its query.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PermissionBase"]

Permissions = dict[str, set[str]]


class PermissionBase:
    """Access-control entries and user principals. Methods may raise ``BackendError``."""

    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Create or upgrade what the backend needs; idempotent. Returns what it did (or would)."""
        return []

    def flush(self) -> None:
        """Delete everything."""
        raise NotImplementedError

    def ping(self) -> bool:
        """True when the backend answers; never raises."""
        raise NotImplementedError

    def add_user_principal(self, user_id: str, principal: str) -> None:
        """Give ``user_id`` the extra principal (a group)."""
        raise NotImplementedError

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        """Take the extra principal away."""
        raise NotImplementedError

    def get_user_principals(self, user_id: str) -> set[str]:
        """The extra principals of ``user_id``."""
        raise NotImplementedError

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Add one entry."""
        raise NotImplementedError

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Remove one entry."""
        raise NotImplementedError

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        """The principals having ``permission`` on ``object_id``."""
        raise NotImplementedError

    def check_permission(
        self, object_id: str, permissions: Iterable[str], principals: Iterable[str]
    ) -> bool:
        """True when one of ``principals`` has one of ``permissions`` on ``object_id``."""
        raise NotImplementedError

    def accessible_objects(
        self, principals: Iterable[str], permissions: Iterable[str], object_id_prefix: str = ""
    ) -> set[str]:
        """Object ids under ``object_id_prefix`` on which a principal has one of ``permissions``."""
        raise NotImplementedError

    def object_permissions(
        self, object_id: str, permissions: Iterable[str] | None = None
    ) -> Permissions:
        """``{permission: {principals}}`` of one object (restricted to ``permissions``)."""
        raise NotImplementedError

    def replace_object_permissions(self, object_id: str, permissions: Permissions) -> None:
        """For each permission named in ``permissions``, replace its principals."""
        raise NotImplementedError

    def delete_object_permissions(self, *object_ids: str) -> None:
        """Remove every entry of these objects."""
        raise NotImplementedError
