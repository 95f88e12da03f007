"""The memory storage: records in Python dicts, for tests and the zero-setup demo.

Thread-safe (one lock). Writes made while a zope transaction is active are undone if it
aborts (see :mod:`cliquetish.undo`), so a failed request writes nothing; there is no isolation
between concurrent transactions. Data lives as long as the process. Filtering, sorting and
pagination follow :mod:`cliquetish.storage.evaluation`.

Settings: ``storage_backend = cliquetish.storage.memory`` (no other setting is read).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from cliquetish import undo
from cliquetish.storage import (
    ID_FIELD,
    MODIFIED_FIELD,
    Filter,
    IdGenerator,
    Keyset,
    ModifiedMeanwhileError,
    ReadFilter,
    Record,
    RecordNotFoundError,
    Sort,
    StorageBase,
    UnicityError,
)
from cliquetish.storage import evaluation as ev

__all__ = ["MemoryStorage", "load_from_config", "select"]

Pair = tuple[str, str]


class MemoryStorage(StorageBase):
    """Records of every ``(collection_id, parent_id)`` pair, kept in memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._live: dict[Pair, dict[str, Record]] = {}
        self._tombstones: dict[Pair, dict[str, Record]] = {}
        self._timestamps: dict[Pair, int] = {}

    # Administration
    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Nothing to create."""
        return []

    def flush(self) -> None:
        """Forget every record and timestamp (not undoable)."""
        with self._lock:
            self._live.clear()
            self._tombstones.clear()
            self._timestamps.clear()

    def ping(self) -> bool:
        """Always answers."""
        return True

    # Timestamps
    def collection_timestamp(self, collection_id: str, parent_id: str) -> int:
        """The pair's timestamp; an unknown pair's is set to now on first read."""
        with self._lock:
            return self._timestamps.setdefault((collection_id, parent_id), ev.now_ms())

    def _bump(self, pair: Pair, client: int | None) -> int:
        """Give the pair its next timestamp (caller holds the lock), undone on abort."""
        previous = self._timestamps.get(pair)
        stamp = ev.now_ms() if previous is None else max(ev.now_ms(), previous + 1)
        if client is not None and client > stamp:
            stamp = client
        self._timestamps[pair] = stamp

        def restore() -> None:
            with self._lock:
                if self._timestamps.get(pair) != stamp:
                    return
                if previous is None:
                    del self._timestamps[pair]
                else:
                    self._timestamps[pair] = previous

        undo.record(self, restore)
        return stamp

    def _put(self, pair: Pair, object_id: str, live: Record | None, dead: Record | None) -> None:
        """Set the id's live record and tombstone (None: absent), undone on abort."""
        before = (self._live.get(pair, {}).get(object_id),
                  self._tombstones.get(pair, {}).get(object_id))
        self._store(pair, object_id, live, dead)

        def restore() -> None:
            with self._lock:
                self._store(pair, object_id, *before)

        undo.record(self, restore)

    def _store(self, pair: Pair, object_id: str, live: Record | None, dead: Record | None) -> None:
        for table, value in ((self._live, live), (self._tombstones, dead)):
            records = table.setdefault(pair, {})
            if value is None:
                records.pop(object_id, None)
            else:
                records[object_id] = value

    # Writes
    def create(
        self,
        collection_id: str,
        parent_id: str,
        record: Record,
        id_generator: IdGenerator | None = None,
        unique_fields: Sequence[str] = (),
    ) -> Record:
        """Store a new record (see :meth:`StorageBase.create`)."""
        object_id = record.get(ID_FIELD) or (id_generator or ev.default_id)()
        with self._lock:
            existing = self._live.get((collection_id, parent_id), {}).get(object_id)
            if existing is not None:
                raise UnicityError(ID_FIELD, ev.json_copy(existing))
            return self._write(collection_id, parent_id, object_id, record, unique_fields)

    def update(
        self,
        collection_id: str,
        parent_id: str,
        object_id: str,
        record: Record,
        unique_fields: Sequence[str] = (),
        expected_last_modified: int | None = None,
    ) -> Record:
        """Replace or create the record (see :meth:`StorageBase.update`)."""
        with self._lock:
            self._check_expected(collection_id, parent_id, object_id, expected_last_modified)
            return self._write(collection_id, parent_id, object_id, record, unique_fields)

    def _check_expected(
        self, collection_id: str, parent_id: str, object_id: str, expected: int | None
    ) -> None:
        """Raise unless the live record has ``last_modified == expected`` (caller locks)."""
        if expected is None:
            return
        current = self._live.get((collection_id, parent_id), {}).get(object_id)
        if current is None or current[MODIFIED_FIELD] != expected:
            raise ModifiedMeanwhileError(None if current is None else ev.json_copy(current))

    def _write(
        self, collection_id: str, parent_id: str, object_id: str, record: Record,
        unique_fields: Sequence[str],
    ) -> Record:
        pair = (collection_id, parent_id)
        data, client = ev.split_record(record)
        if unique_fields:
            live = list(self._live.get(pair, {}).values())
            conflict = ev.unique_conflict(live, data, object_id, unique_fields)
            if conflict is not None:
                raise UnicityError(conflict[0], ev.json_copy(conflict[1]))
        stored = {**data, ID_FIELD: object_id, MODIFIED_FIELD: self._bump(pair, client)}
        self._put(pair, object_id, stored, None)
        return ev.json_copy(stored)

    def delete(
        self,
        collection_id: str,
        parent_id: str,
        object_id: str,
        with_deleted: bool = True,
        last_modified: int | None = None,
        expected_last_modified: int | None = None,
    ) -> Record:
        """Delete the live record (see :meth:`StorageBase.delete`)."""
        pair = (collection_id, parent_id)
        with self._lock:
            if object_id not in self._live.get(pair, {}):
                raise RecordNotFoundError(object_id)
            self._check_expected(collection_id, parent_id, object_id, expected_last_modified)
            stamp = self._bump(pair, ev.client_timestamp(last_modified))
            dead = ev.tombstone(object_id, stamp)
            self._put(pair, object_id, None, dead if with_deleted else None)
            return dict(dead)

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
        """Delete what the same listing would return; tombstones in listing order."""
        with self._lock:
            records, _ = self.get_all(
                collection_id, parent_id, filters, sorting, pagination_rules, limit,
                read_filter=read_filter,
            )
            return [
                self.delete(collection_id, parent_id, record[ID_FIELD], with_deleted)
                for record in records
            ]

    def purge_deleted(
        self, collection_id: str, parent_id: str | None = None, before: int | None = None
    ) -> list[str]:
        """Remove tombstones older than ``before`` (see :meth:`StorageBase.purge_deleted`)."""
        removed: list[str] = []
        with self._lock:
            for pair, records in self._tombstones.items():
                if pair[0] != collection_id or parent_id not in (None, pair[1]):
                    continue
                for object_id, dead in list(records.items()):
                    if before is None or dead[MODIFIED_FIELD] < before:
                        self._put(pair, object_id, None, None)
                        removed.append(object_id)
        return removed

    # Reads
    def get(self, collection_id: str, parent_id: str, object_id: str) -> Record:
        """The live record (see :meth:`StorageBase.get`)."""
        with self._lock:
            record = self._live.get((collection_id, parent_id), {}).get(object_id)
            if record is None:
                raise RecordNotFoundError(object_id)
            return ev.json_copy(record)

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
        """List records (see :meth:`StorageBase.get_all`)."""
        allowed = ev.accessible_ids(read_filter)
        pair = (collection_id, parent_id)
        with self._lock:
            candidates = [(r, False) for r in self._live.get(pair, {}).values()]
            if include_deleted:
                candidates += [(r, True) for r in self._tombstones.get(pair, {}).values()]
            records, total = select(candidates, filters, sorting, pagination_rules, limit,
                                    allowed, count)
            return [ev.json_copy(record) for record in records], total


def select(
    candidates: list[tuple[Record, bool]],
    filters: Sequence[Filter],
    sorting: Sequence[Sort],
    pagination_rules: Keyset | None,
    limit: int | None,
    allowed: set[str] | None,
    count: bool,
) -> tuple[list[Record], int | None]:
    """Filter, count, sort, paginate and limit ``(record, is_tombstone)`` pairs in Python."""
    if allowed is not None:
        candidates = [(r, dead) for r, dead in candidates if r[ID_FIELD] in allowed]
    kept = ev.filter_records(candidates, filters)
    total = sum(1 for _, dead in kept if not dead) if count else None
    applied = ev.listing_sort(sorting)
    records = ev.sort_records([record for record, _ in kept], applied)
    if pagination_rules is not None:
        records = [r for r in records if ev.is_after(r, applied, pagination_rules)]
    if limit is not None:
        records = records[:limit]
    return records, total


def load_from_config(config: Any) -> MemoryStorage:
    """A new memory storage (the configuration has nothing to say about it)."""
    return MemoryStorage()
