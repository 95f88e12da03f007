"""The model: a resource's records (and their permissions) for one parent; no HTTP here.

A :class:`Model` binds a storage backend (and a permission backend for resources with
per-record permissions) to one ``(collection_id, parent_id)`` pair, and speaks of records by id.
Object URIs, under which the permission backend keeps entries, are ``<prefix><id>``
(``/articles/<id>``).
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Sequence
from typing import Any

from cliquetish.storage import (
    Filter,
    Keyset,
    ReadFilter,
    Record,
    RecordNotFoundError,
    Sort,
    StorageBase,
)

__all__ = ["IdGenerator", "Model", "UUID4Generator", "supports_conditional_writes"]


class IdGenerator:
    """Makes record ids and recognises them. Subclass with a ``regexp`` and ``__call__``."""

    regexp = r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$"
    """Ids this generator accepts in URLs and bodies."""

    def __init__(self) -> None:
        self._pattern = re.compile(self.regexp)

    def __call__(self) -> str:
        """A new id."""
        raise NotImplementedError

    def match(self, object_id: str) -> bool:
        """True when ``object_id`` is a valid id."""
        return bool(self._pattern.match(object_id))


class UUID4Generator(IdGenerator):
    """Random UUID4 ids in their canonical text form (the default)."""

    regexp = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

    def __call__(self) -> str:
        return str(uuid.uuid4())


_CONDITIONAL_SUPPORT: dict[type, bool] = {}


def supports_conditional_writes(storage: StorageBase) -> bool:
    """True when the backend's ``update`` and ``delete`` take ``expected_last_modified``."""
    kind = type(storage)
    known = _CONDITIONAL_SUPPORT.get(kind)
    if known is None:
        known = all(
            "expected_last_modified" in inspect.signature(getattr(storage, name)).parameters
            for name in ("update", "delete")
        )
        _CONDITIONAL_SUPPORT[kind] = known
    return known


class Model:
    """Records of one resource and parent in ``storage`` (and their permissions)."""

    def __init__(
        self,
        storage: StorageBase,
        collection_id: str,
        parent_id: str,
        permission: Any = None,
        object_uri_prefix: str = "",
        unique_fields: Sequence[str] = (),
        record_permissions: bool = False,
    ) -> None:
        self.storage = storage
        self.collection_id = collection_id
        self.parent_id = parent_id
        self.permission = permission
        self.object_uri_prefix = object_uri_prefix
        self.unique_fields = tuple(unique_fields)
        self.conditional = supports_conditional_writes(storage)
        self.record_permissions = record_permissions and permission is not None
        self._fetched_permissions: dict[str, dict[str, set[str]]] = {}

    def object_uri(self, object_id: str) -> str:
        """The URI under which the permission backend knows the record."""
        return self.object_uri_prefix + object_id

    # Reads
    def timestamp(self) -> int:
        """The collection timestamp of the parent."""
        return self.storage.collection_timestamp(self.collection_id, self.parent_id)

    def get_records(
        self,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination: Keyset | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        read_filter: ReadFilter | None = None,
        count: bool = False,
    ) -> tuple[list[Record], int | None]:
        """A page of records (and the count of matching live records when ``count``)."""
        return self.storage.get_all(
            self.collection_id, self.parent_id, filters=filters, sorting=sorting,
            pagination_rules=pagination, limit=limit, include_deleted=include_deleted,
            read_filter=read_filter, count=count,
        )

    def get_records_and_timestamp(
        self,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination: Keyset | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        read_filter: ReadFilter | None = None,
    ) -> tuple[list[Record], int]:
        """A page of records and the collection timestamp, read together."""
        return self.storage.get_all_with_timestamp(
            self.collection_id, self.parent_id, filters=filters, sorting=sorting,
            pagination_rules=pagination, limit=limit, include_deleted=include_deleted,
            read_filter=read_filter,
        )

    def get_record(self, object_id: str) -> Record | None:
        """The live record, or None.

        With ``record_permissions``, a storage that can read the record's permissions in the
        same round trip (``get_with_permissions``) does so; the next :meth:`get_permissions`
        of that record answers them without asking the permission backend again.
        """
        fetch = getattr(self.storage, "get_with_permissions", None)
        if self.record_permissions and fetch is not None:
            found = fetch(self.collection_id, self.parent_id, object_id,
                          self.object_uri(object_id), self.permission)
            if found is not None:
                record, permissions = found
                if record is not None:
                    self._fetched_permissions[object_id] = permissions
                return record
        try:
            return self.storage.get(self.collection_id, self.parent_id, object_id)
        except RecordNotFoundError:
            return None

    # Writes
    def _condition(self, expected: int | None) -> dict[str, int]:
        if self.conditional and expected is not None:
            return {"expected_last_modified": expected}
        return {}

    def create_record(self, record: Record) -> Record:
        """Store a new record (its ``id`` given). :raises UnicityError:"""
        return self.storage.create(
            self.collection_id, self.parent_id, record, unique_fields=self.unique_fields
        )

    def update_record(self, object_id: str, record: Record, expected: int | None = None
                      ) -> Record:
        """Replace the record; when ``expected`` is given, only if it still has that
        ``last_modified``. :raises UnicityError: :raises ModifiedMeanwhileError:"""
        return self.storage.update(
            self.collection_id, self.parent_id, object_id, record,
            unique_fields=self.unique_fields, **self._condition(expected),
        )

    def delete_record(self, object_id: str, expected: int | None = None) -> Record:
        """Delete the record, leaving a tombstone (its permissions are kept until purged)."""
        return self.storage.delete(
            self.collection_id, self.parent_id, object_id, **self._condition(expected)
        )

    def delete_records(
        self,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        limit: int | None = None,
        read_filter: ReadFilter | None = None,
    ) -> list[Record]:
        """Delete the matching live records; return their tombstones."""
        return self.storage.delete_all(
            self.collection_id, self.parent_id, filters=filters, sorting=sorting, limit=limit,
            read_filter=read_filter,
        )

    # Permissions
    def get_permissions(self, object_id: str) -> dict[str, set[str]]:
        """``{permission: {principals}}`` of the record (read with it by
        :meth:`get_record` when possible)."""
        fetched = self._fetched_permissions.pop(object_id, None)
        if fetched is not None:
            return fetched
        return self.permission.object_permissions(self.object_uri(object_id))

    def set_permissions(self, object_id: str, permissions: dict[str, set[str]]) -> None:
        """Replace the principals of each permission named in ``permissions``."""
        self._fetched_permissions.pop(object_id, None)
        self.permission.replace_object_permissions(self.object_uri(object_id), permissions)
