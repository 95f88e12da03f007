"""The storage contract shared by every storage backend.

A backend module (``cliquetish.storage.memory``, ``.postgresql``, ``.redis`` or a user's own)
exposes ``load_from_config(config) -> StorageBase``. The resource layer speaks only to
:class:`StorageBase`; nothing here knows about HTTP.

Semantics every backend follows (the contract suite in :mod:`cliquetish.storage.testing` proves
them on each):

* Records are JSON objects with a string ``id`` and an integer ``last_modified`` (epoch
  milliseconds). Records live in a ``(collection_id, parent_id)`` pair.
* Timestamps: each write gives the record ``max(now_ms, collection_timestamp + 1)``, or a
  client-supplied ``last_modified`` when it is greater than that (an integer ``0 < t < 2**53``;
  other values are ignored); so the collection timestamp is
  strictly increasing, even under concurrent writers in several processes, and is the largest
  ``last_modified`` of the pair (tombstones included). An empty pair's timestamp is the current
  time, and it stays stable when read again.
* Deleting leaves a tombstone ``{"id", "last_modified", "deleted": True}``, listed only with
  ``include_deleted``; creating the id again replaces the tombstone.
* Filters (:class:`Filter`) on dotted fields: equality is JSON-typed (``5`` ≠ ``"5"``; ``true``
  ≠ ``1``). ``LT``/``GT``/``MIN``/``MAX`` only match values of the filter value's JSON type.
  ``NOT`` and ``EXCLUDE`` also match records where the field is missing. ``LIKE`` is
  case-insensitive on strings, ``*`` matches anything, and without ``*`` it is a substring match.
  ``HAS`` true matches present fields (``null`` included). ``CONTAINS`` (all of) and
  ``CONTAINS_ANY`` match array fields.
* Sorting (:class:`Sort`) follows one total order of JSON values, ascending:
  ``null < strings < numbers < booleans (false < true) < arrays < objects < missing``
  (PostgreSQL's jsonb order with missing fields last), descending being its exact reverse.
  Listings always end with ``last_modified`` as tie-breaker (it is unique in a pair), appended
  descending when ``sorting`` does not name it; an empty ``sorting`` is ``-last_modified``.
  Strings compare by code point, numbers by value (``1 == 1.0``), arrays by length then
  element by element, objects by number of keys then key by key
  (:mod:`cliquetish.storage.evaluation` is the reference implementation).
* Pagination is keyset: :class:`Keyset` holds the sort values of the last record of the previous
  page and the backend returns the records strictly after it in the listing's order; a sort
  field absent from ``Keyset.values`` counts as :data:`MISSING`.
* Any JSON value is stored and returned verbatim, NUL characters and hostile field names
  included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from cliquetish.storage.exceptions import (
    BackendError,
    ModifiedMeanwhileError,
    ReadonlyError,
    RecordNotFoundError,
    StorageError,
    UnicityError,
)

if TYPE_CHECKING:
    from cliquetish.permission import PermissionBase

__all__ = [
    "COMPARISON",
    "MISSING",
    "BackendError",
    "Filter",
    "Keyset",
    "ModifiedMeanwhileError",
    "ReadFilter",
    "ReadonlyError",
    "Record",
    "RecordNotFoundError",
    "Sort",
    "StorageBase",
    "StorageError",
    "UnicityError",
]

Record = dict[str, Any]

ID_FIELD = "id"
MODIFIED_FIELD = "last_modified"
DELETED_FIELD = "deleted"


class _Missing:
    """The value of a field a record does not have (used in :class:`Keyset`)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


class COMPARISON(Enum):
    """Filter operators. The value is the querystring prefix (``""`` for equality)."""

    EQ = "eq"
    NOT = "not"
    LT = "lt"
    GT = "gt"
    MIN = "min"
    MAX = "max"
    IN = "in"
    EXCLUDE = "exclude"
    LIKE = "like"
    HAS = "has"
    CONTAINS = "contains"
    CONTAINS_ANY = "contains_any"


@dataclass(frozen=True)
class Filter:
    """``field`` (dotted for sub-fields) compared to ``value`` with ``operator``.

    For ``IN``, ``EXCLUDE``, ``CONTAINS`` and ``CONTAINS_ANY`` the value is a list;
    for ``HAS`` a bool.
    """

    field: str
    value: Any
    operator: COMPARISON = COMPARISON.EQ


@dataclass(frozen=True)
class Sort:
    """Order by ``field`` (dotted allowed); ``direction`` is 1 (ascending) or -1 (descending)."""

    field: str
    direction: int = 1


@dataclass(frozen=True)
class Keyset:
    """Where the previous page ended: ``values`` maps each sort field to the last record's value
    (:data:`MISSING` when it had none). Records strictly after it are returned."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadFilter:
    """Restricts a listing to the records some principals may read.

    A record matches when the permission backend has an entry
    ``(object_id_prefix + record["id"], permission, principal)`` with ``permission`` in
    ``permissions`` and ``principal`` in ``principals``. Tombstones keep their entries until
    purged, so this also selects the tombstones a principal may see. A backend evaluates it the
    fastest way it can (the PostgreSQL storage, when the permission backend shares its database,
    inside the listing query); :meth:`StorageBase.get_all` falls back to asking
    ``permission_backend.accessible_objects``.
    """

    principals: tuple[str, ...]
    permissions: tuple[str, ...]
    object_id_prefix: str
    permission_backend: PermissionBase


IdGenerator = Callable[[], str]


class StorageBase:
    """The storage contract. Every method may raise :class:`BackendError`."""

    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Create or upgrade what the backend needs; idempotent. Returns what it did (or would)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Delete everything (tests and the ``flush`` command)."""
        raise NotImplementedError

    def ping(self) -> bool:
        """True when the backend answers; never raises. Leaves no transaction open."""
        raise NotImplementedError

    def collection_timestamp(self, collection_id: str, parent_id: str) -> int:
        """The pair's current timestamp (see the module docstring)."""
        raise NotImplementedError

    def create(
        self,
        collection_id: str,
        parent_id: str,
        record: Record,
        id_generator: IdGenerator | None = None,
        unique_fields: Sequence[str] = (),
    ) -> Record:
        """Store a new record and return it with ``id`` and ``last_modified``.

        The ``id`` in ``record`` is kept when given, else ``id_generator()`` (UUID4 by default).
        :raises UnicityError: a live record with the same id, or the same value of one of
            ``unique_fields``, exists (checked atomically).
        """
        raise NotImplementedError

    def get(self, collection_id: str, parent_id: str, object_id: str) -> Record:
        """The live record. :raises RecordNotFoundError: none (or only a tombstone)."""
        raise NotImplementedError

    def update(
        self,
        collection_id: str,
        parent_id: str,
        object_id: str,
        record: Record,
        unique_fields: Sequence[str] = (),
        expected_last_modified: int | None = None,
    ) -> Record:
        """Replace (or create) the record ``object_id`` with ``record``; return it stamped.

        With ``expected_last_modified``, a conditional write: it happens only when the live
        record's ``last_modified`` equals it, checked atomically with the write (a concurrent
        conditional write of the same record waits for the first, then fails).

        :raises UnicityError: another live record has the same value of a unique field.
        :raises ModifiedMeanwhileError: the condition does not hold (changed or no live record).
        """
        raise NotImplementedError

    def delete(
        self,
        collection_id: str,
        parent_id: str,
        object_id: str,
        with_deleted: bool = True,
        last_modified: int | None = None,
        expected_last_modified: int | None = None,
    ) -> Record:
        """Delete the live record; leave a tombstone unless ``with_deleted`` is false.

        ``expected_last_modified`` makes it conditional, as in :meth:`update`.
        Returns the tombstone. :raises RecordNotFoundError: no live record.
        :raises ModifiedMeanwhileError: the condition does not hold.
        """
        raise NotImplementedError

    def delete_all(
        self,
        collection_id: str,
        parent_id: str,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination_rules: Keyset | None = None,
        limit: int | None = None,
        with_deleted: bool = True,
        read_filter: ReadFilter | None = None,
    ) -> list[Record]:
        """Delete the live records a listing with the same arguments would return.

        Returns their tombstones.
        """
        raise NotImplementedError

    def purge_deleted(
        self, collection_id: str, parent_id: str | None = None, before: int | None = None
    ) -> list[str]:
        """Remove tombstones (of every parent when ``parent_id`` is None) older than ``before``.

        Returns the ids removed, so that their permissions can be dropped too.
        """
        raise NotImplementedError

    def get_all(
        self,
        collection_id: str,
        parent_id: str,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination_rules: Keyset | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        read_filter: ReadFilter | None = None,
        count: bool = False,
    ) -> tuple[list[Record], int | None]:
        """List records matching every filter, in ``sorting`` order, after the keyset.

        Tombstones are included when ``include_deleted``: filters on ``id`` and
        ``last_modified`` apply to them, filters on other fields do not exclude them.
        Returns at most ``limit`` records, and when ``count`` is true the number of live
        records matching ``filters`` and ``read_filter`` (ignoring pagination and limit), else
        ``None``.
        """
        raise NotImplementedError

    def get_all_with_timestamp(
        self,
        collection_id: str,
        parent_id: str,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination_rules: Keyset | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        read_filter: ReadFilter | None = None,
    ) -> tuple[list[Record], int]:
        """A page of :meth:`get_all` and the pair's :meth:`collection_timestamp`.

        What a listing answers, read together: a backend may do it in one round trip (the
        PostgreSQL storage reads both in one statement). By default, the two calls.
        """
        timestamp = self.collection_timestamp(collection_id, parent_id)
        records, _ = self.get_all(
            collection_id, parent_id, filters=filters, sorting=sorting,
            pagination_rules=pagination_rules, limit=limit, include_deleted=include_deleted,
            read_filter=read_filter,
        )
        return records, timestamp
