"""The two usual access rules: records per user, and shared records with permissions.

:class:`UserResource`
    Authentication required (401 otherwise); each user has their own records (the parent id
    is the prefixed user id); no per-record permissions.

:class:`ShareableResource`
    Records shared by everyone (parent id ``""``) with per-record ``read`` and ``write``
    permissions kept by the permission backend under ``/<plural>/<id>``. Settings
    ``<name>_create_principals``, ``<name>_read_principals`` and ``<name>_write_principals``
    grant a permission on every record (``write`` implies ``read``). Creating needs ``create``;
    reading a record needs ``read`` on it; PUT, PATCH and DELETE need ``write``. The creator (and
    whoever changes the permissions) is always kept in ``write``. Listings, counts and
    collection deletes only concern the records the request may read (write, for deletes).
    Permissions are shown to writers only. A deleted record keeps its permissions until its
    tombstone is purged, so its readers see the tombstone in ``_since`` listings.
"""

from __future__ import annotations

from typing import Any

from cliquetish.authorization import (
    forbidden,
    implied_permissions,
    is_allowed,
    require,
    require_authenticated,
    unauthorized,
)
from cliquetish.resource.base import Resource
from cliquetish.storage import ReadFilter

__all__ = ["ShareableResource", "UserResource"]

READ = "read"
WRITE = "write"
Permissions = dict[str, list[str]]


class UserResource(Resource):
    """Records isolated per authenticated user."""

    def get_parent_id(self, request: Any) -> str:
        """The prefixed user id; 401 for anonymous requests."""
        require_authenticated(request)
        return request.prefixed_userid


class ShareableResource(Resource):
    """Shared records with per-record ``read``/``write`` permissions."""

    permission_names = (READ, WRITE)

    def get_parent_id(self, request: Any) -> str:
        """Shared records: the empty parent."""
        return ""

    def _granted(self, permission: str, acl: dict[str, set[str]]) -> bool:
        """True when the settings or the record's entries ``acl`` grant ``permission``."""
        if is_allowed(self.request, self.name, permission):
            return True
        principals = self.request.principals
        for name in implied_permissions(permission):
            entries = acl.get(name)
            if entries and not entries.isdisjoint(principals):
                return True
        return False

    def _refuse(self) -> Exception:
        if self.user_id is None:
            return unauthorized(self.request)
        return forbidden(self.request)

    def collection_read_filter(self, permission: str) -> ReadFilter | None:
        """None when the settings grant ``permission`` on every record, else the filter
        keeping records the request's principals may read (or write)."""
        if is_allowed(self.request, self.name, permission):
            return None
        return ReadFilter(
            principals=tuple(self.request.principals),
            permissions=implied_permissions(permission),
            object_id_prefix=self.setup.object_uri_prefix,
            permission_backend=self.request.permission,
        )

    def authorize_create(self) -> None:
        """``<name>_create_principals`` must list one of the request's principals."""
        require(self.request, self.name, "create")

    def authorize_record(self, permission: str, object_id: str) -> Permissions | None:
        """Check ``permission`` on the record (settings, then its entries)."""
        acl = self.model.get_permissions(object_id)
        writer = self._granted(WRITE, acl)
        if permission == WRITE:
            granted = writer
        else:  # writers may read; any other permission is checked on its own
            granted = (permission == READ and writer) or self._granted(permission, acl)
        if not granted:
            raise self._refuse()
        return _as_lists(acl, self.permission_names) if writer else None

    def can_read(self, object_id: str) -> bool:
        """True when the request may read the record."""
        return self._granted(READ, self.model.get_permissions(object_id))

    def store_permissions(self, object_id: str, requested: Permissions | None,
                          current: Permissions | None) -> Permissions | None:
        """Save the permissions asked for (every permission on creation, replacing those a
        purged or deleted record left), the request's user kept in ``write``; return the
        record's permissions."""
        if requested is None and current is not None:
            return current
        asked = dict(requested or {})
        if current is None:
            asked = {name: asked.get(name, []) for name in self.permission_names}
        if self.user_id is not None:
            writers = asked.get(WRITE, [])
            if self.user_id not in writers:
                asked[WRITE] = [*writers, self.user_id]
        self.model.set_permissions(object_id, {name: set(p) for name, p in asked.items()})
        return _as_lists({**(current or {}), **asked}, self.permission_names)


def _as_lists(acl: dict[str, Any], names: tuple[str, ...]) -> Permissions:
    return {name: sorted(acl.get(name, ())) for name in names}
