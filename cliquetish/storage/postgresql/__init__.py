"""The PostgreSQL storage: records as JSONB, every filter, sort and page in SQL.

Settings: ``storage_backend = cliquetish.storage.postgresql``, ``storage_url``
(``postgresql://user:password@host:5432/db``), ``storage_pool_size``, ``storage_max_overflow``
and ``storage_pool_timeout_seconds`` (see :mod:`cliquetish.storage.postgresql.client`). The
schema (``schema/*.sql``) is created and upgraded by ``cliquetish migrate``, which calls
:meth:`PostgreSQLStorage.initialize_schema`.

Reads are one statement (two when a count is asked); writes are one statement that also moves
the pair's timestamp; a write with ``unique_fields`` first takes a per-pair advisory lock, then
checks and writes. In a request all statements share the request's transaction. A
:class:`~cliquetish.storage.ReadFilter` whose permission backend stores its entries in the same
database (it exposes the same ``client`` engine) is evaluated inside the listing query;
otherwise the accessible ids are asked to the permission backend and bound to the query.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cliquetish.storage import (
    DELETED_FIELD,
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
from cliquetish.storage.postgresql import statements as sql
from cliquetish.storage.postgresql import textcodec, walk
from cliquetish.storage.postgresql.client import PostgreSQLClient, create_client, execute
from cliquetish.storage.postgresql.migrations import apply_migrations
from cliquetish.storage.postgresql.queries import (
    Params,
    filter_sql,
    indexed_range_sql,
    is_column_range,
    keyset_sql,
    order_sql,
    sort_index_fields,
)

__all__ = ["SCHEMA_FOLDER", "PostgreSQLStorage", "load_from_config"]

SCHEMA_FOLDER = Path(__file__).parent / "schema"
TOMBSTONE_DATA = ev.dumps({DELETED_FIELD: True})


def _record(object_id: str, last_modified: int, data_text: str, data: Any) -> Record:
    """The record of a row whose ``data_text`` was parsed into ``data`` (the codec's checks
    written inline: every record read goes through them)."""
    if textcodec.JSON_ESCAPE in data_text:
        data = textcodec.decode(data)
    data[ID_FIELD] = (textcodec.decode_text(object_id) if textcodec.ESCAPE in object_id
                      else object_id)
    data[MODIFIED_FIELD] = last_modified
    return data


def _row_record(object_id: str, last_modified: int, data_text: str) -> Record:
    """The record of one row."""
    return _record(object_id, last_modified, data_text, ev.loads(data_text))


def _row_records(rows: Sequence[Any]) -> list[Record]:
    """The records of rows starting with ``id, last_modified, data`` (their JSON parsed as a
    page, see :func:`~cliquetish.storage.evaluation.loads_all`)."""
    parsed = ev.loads_all([row[2] for row in rows])
    return [_record(row[0], row[1], row[2], data)
            for row, data in zip(rows, parsed, strict=True)]


PREPARED_LISTING_MAX_LIMIT = 1000
"""Largest page of a listing run as a prepared statement."""

SORT_INDEXES_CHECK_SECONDS = 60.0
"""How long the storage trusts what it read of the operators' sort indexes: an index created
(or dropped) on a live database is taken into account within this delay."""


def _plan_fits_all(filters: Sequence[Filter], limit: int | None) -> bool:
    """True when one plan serves a listing whatever its values, so its statement may be
    prepared: no filter at all (a filter's selectivity depends on its value: a generic plan
    of ``_since`` on a large collection scans it in parallel) and a small page (a sorted
    page, first or next, then walks its index whatever the keyset's values). Other listings
    are planned for their values."""
    return not filters and limit is not None and limit <= PREPARED_LISTING_MAX_LIMIT


class PostgreSQLStorage(StorageBase):
    """Records in the ``records`` table of one PostgreSQL database."""

    def __init__(self, client: PostgreSQLClient) -> None:
        self.client = client
        self._sort_indexed: frozenset[str] = frozenset()
        self._sort_indexes_read_at = float("-inf")
        self.walk_outcomes = walk.WalkOutcomes()
        self.max_walk_window = walk.MAX_WINDOW

    def sort_indexed_fields(self) -> frozenset[str]:
        """The data fields having an index of
        :func:`~cliquetish.storage.postgresql.queries.sort_index_statement` (either direction),
        read from the server at most every :data:`SORT_INDEXES_CHECK_SECONDS`."""
        now = time.monotonic()
        if now - self._sort_indexes_read_at >= SORT_INDEXES_CHECK_SECONDS:
            rows = self.client.read(sql.INDEX_DEFINITIONS)
            self._sort_indexed = sort_index_fields(row[0] for row in rows)
            self._sort_indexes_read_at = now
        return self._sort_indexed

    # Administration
    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Apply the pending ``schema/*.sql`` files (see :mod:`.migrations`)."""
        return apply_migrations(self.client, "storage", SCHEMA_FOLDER, dry_run)

    def flush(self) -> None:
        """Delete every record and timestamp."""
        with self.client.connect() as connection:
            connection.exec_driver_sql(sql.FLUSH)

    def ping(self) -> bool:
        """True when the server answers within two seconds; never raises."""
        return self.client.ping()

    def _execute(self, statement: str, params: dict[str, Any]) -> list[Any]:
        with self.client.connect() as connection:
            return execute(connection, statement, params).all()

    @staticmethod
    def _pair(collection_id: str, parent_id: str, **extra: Any) -> dict[str, Any]:
        encode = textcodec.encode_text
        params = {"collection_id": encode(collection_id), "parent_id": encode(parent_id)}
        params.update(extra)
        return params

    def collection_timestamp(self, collection_id: str, parent_id: str) -> int:
        """The pair's timestamp (stored as now on the first read of an unknown pair)."""
        params = self._pair(collection_id, parent_id)
        with self.client.connect() as connection:
            stamp = execute(connection, sql.COLLECTION_TIMESTAMP, params).scalar()
            if stamp is None:  # created meanwhile by a concurrent first read
                stamp = execute(connection, sql.TIMESTAMP, params).scalar_one()
        return int(stamp)

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
        return self._write(collection_id, parent_id, object_id, record, unique_fields, True)

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
        return self._write(collection_id, parent_id, object_id, record, unique_fields, False,
                           expected_last_modified)

    def _write(
        self, collection_id: str, parent_id: str, object_id: str, record: Record,
        unique_fields: Sequence[str], create: bool, expected: int | None = None,
    ) -> Record:
        data, client_stamp = ev.split_record(record)
        text = ev.dumps(data)
        stored_text = ev.dumps(textcodec.encode(data)) if textcodec.needs_encoding(text) else text
        params = self._pair(collection_id, parent_id, object_id=textcodec.encode_text(object_id),
                            client=client_stamp, data=stored_text, expected=expected)
        statement = sql.UPSERT.format(
            guard=sql.CREATE_GUARD if create else "",
            replace_guard=sql.CREATE_REPLACE_GUARD if create else "",
        )
        if expected is not None:
            statement = sql.CONDITIONAL_UPDATE
        with self.client.connect() as connection:
            if unique_fields:
                self._check_unique(connection, params, data, object_id, unique_fields)
            stamp = execute(connection, statement, params).scalar()
            if stamp is None and expected is not None:
                raise ModifiedMeanwhileError(self._current(connection, params, object_id))
            if stamp is None:
                existing = self._current(connection, params, object_id)
                if existing is not None:
                    raise UnicityError(ID_FIELD, existing)
                stamp = execute(connection, statement, params).scalar_one()
        return {**data, ID_FIELD: object_id, MODIFIED_FIELD: stamp}

    def _check_unique(
        self, connection: sa.Connection, params: dict[str, Any], data: Record, object_id: str,
        unique_fields: Sequence[str],
    ) -> None:
        """Lock the pair for writers with unique fields, then look for a conflicting record."""
        checked = [f for f in unique_fields if ev.resolve(data, f) is not ev.MISSING]
        if not checked:
            return
        execute(connection, sql.LOCK_PAIR, params)
        query = Params(**params)
        conditions = " OR ".join(
            filter_sql(Filter(field, ev.resolve(data, field)), query) for field in checked
        )
        row = execute(
            connection, sql.UNIQUE_CONFLICT.format(conditions=conditions), query.values
        ).one_or_none()
        if row is not None:
            other = _row_record(*row)
            field, _ = ev.unique_conflict([other], data, object_id, checked) or (checked[0], other)
            raise UnicityError(field, other)

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
        statement = sql.DELETE if with_deleted else sql.DELETE_WITHOUT_TOMBSTONE
        statement = statement.format(**sql.expected_conditions(expected_last_modified))
        params = self._pair(collection_id, parent_id, object_id=textcodec.encode_text(object_id),
                            client=ev.client_timestamp(last_modified), tombstone=TOMBSTONE_DATA,
                            expected=expected_last_modified)
        with self.client.connect() as connection:
            stamp = execute(connection, statement, params).scalar()
            if stamp is None:
                current = self._current(connection, params, object_id)
                if current is None:
                    raise RecordNotFoundError(object_id)
                raise ModifiedMeanwhileError(current)
        return ev.tombstone(object_id, stamp)

    @staticmethod
    def _current(
        connection: sa.Connection, params: dict[str, Any], object_id: str
    ) -> Record | None:
        """The live record, read in the statement's connection (None when there is none)."""
        row = execute(connection, sql.GET, params).one_or_none()
        return None if row is None else _row_record(object_id, *row)

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
        params = Params(**self._pair(collection_id, parent_id), tombstone=TOMBSTONE_DATA)
        applied = ev.listing_sort(sorting)
        where = self._where(params, filters, pagination_rules, False, read_filter, applied)
        statement = sql.DELETE_ALL if with_deleted else sql.DELETE_ALL_WITHOUT_TOMBSTONES
        statement = statement.format(where=where, order=order_sql(applied, params),
                                     limit=self._limit(params, limit))
        rows = self._execute(statement, params.values)
        ordered = sorted(rows, key=lambda row: row[1])
        return [ev.tombstone(textcodec.decode_text(oid), stamp) for oid, stamp in ordered]

    def purge_deleted(
        self, collection_id: str, parent_id: str | None = None, before: int | None = None
    ) -> list[str]:
        """Remove tombstones older than ``before`` (see :meth:`StorageBase.purge_deleted`)."""
        params: dict[str, Any] = {"collection_id": textcodec.encode_text(collection_id)}
        conditions = ""
        if parent_id is not None:
            conditions += " AND parent_id = :parent_id"
            params["parent_id"] = textcodec.encode_text(parent_id)
        if before is not None:
            conditions += " AND last_modified < :before"
            params["before"] = before
        rows = self._execute(sql.PURGE.format(conditions=conditions), params)
        return [textcodec.decode_text(row[0]) for row in rows]

    # Reads
    def get(self, collection_id: str, parent_id: str, object_id: str) -> Record:
        """The live record (see :meth:`StorageBase.get`)."""
        params = self._pair(collection_id, parent_id, object_id=textcodec.encode_text(object_id))
        rows = self.client.read(sql.GET, params, prepare=True)
        if not rows:
            raise RecordNotFoundError(object_id)
        return _row_record(object_id, *rows[0])

    def get_with_permissions(
        self, collection_id: str, parent_id: str, object_id: str, object_uri: str,
        permission_backend: Any,
    ) -> tuple[Record | None, dict[str, set[str]]] | None:
        """The live record (None when there is none) and the permissions the permission
        backend keeps for ``object_uri``, in one statement; None when that backend does not
        keep its entries in this database (ask it instead)."""
        if not self._shares_database(permission_backend):
            return None
        params = self._pair(collection_id, parent_id, object_id=textcodec.encode_text(object_id),
                            object_uri=object_uri)
        rows = self.client.read(sql.GET_WITH_PERMISSIONS, params, prepare=True)
        if not rows:
            return None, {}
        last_modified, data_text, entries = rows[0]
        permissions: dict[str, set[str]] = {}
        for permission, principal in entries:
            permissions.setdefault(permission, set()).add(principal)
        return _row_record(object_id, last_modified, data_text), permissions

    def _shares_database(self, permission_backend: Any) -> bool:
        """True when ``permission_backend`` keeps its entries in this database."""
        permission_client = getattr(permission_backend, "client", None)
        return isinstance(permission_client, PostgreSQLClient) and (
            permission_client.same_database(self.client))

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
        params = Params(**self._pair(collection_id, parent_id))
        applied = ev.listing_sort(sorting)
        where = self._where(params, filters, pagination_rules, include_deleted, read_filter,
                            applied)
        statement = sql.LIST.format(where=where, order=order_sql(applied, params),
                                    limit=self._limit(params, limit))
        total = None
        rows = self.client.read(statement, params.values, prepare=_plan_fits_all(filters, limit))
        if count:
            count_params = Params(**self._pair(collection_id, parent_id))
            count_where = self._where(count_params, filters, None, False, read_filter, [])
            total = self.client.read(sql.COUNT.format(where=count_where),
                                     count_params.values)[0][0]
        return _row_records(rows), total

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
        """A page and the pair's timestamp in one statement (see
        :meth:`StorageBase.get_all_with_timestamp`). An empty page, or an unknown pair, reads
        the timestamp with :meth:`collection_timestamp` after it. A filtered page sorted on an
        indexed field is first asked from a bounded walk (see :mod:`.walk`)."""
        params = Params(**self._pair(collection_id, parent_id))
        applied = ev.listing_sort(sorting)
        walking = bool(filters) and limit is not None and self._walks_in_order(applied, limit)
        conditions = (params, filters, pagination_rules, include_deleted, read_filter, applied)
        bounds, matching, per_record = self._conditions(*conditions, seek_indexes=not walking)
        order = order_sql(applied, params)
        rows = None
        if walking:
            rows = self._walked_rows(params, bounds, per_record, order, limit)
            if rows is None:  # planned after all: with the forms that seek the sort indexes
                bounds, matching, _ = self._conditions(*conditions, seek_indexes=True)
        if rows is None:
            where = " AND ".join(bounds + matching)
            statement = sql.LIST_WITH_TIMESTAMP.format(where=where, order=order,
                                                       limit=self._limit(params, limit))
            rows = self.client.read(statement, params.values,
                                    prepare=_plan_fits_all(filters, limit))
        stamp = rows[0][3] if rows else None
        if stamp is None:
            stamp = self.collection_timestamp(collection_id, parent_id)
        return _row_records(rows), int(stamp)

    def _walks_in_order(self, sorting: Sequence[Sort], limit: int) -> bool:
        """True when a listing of ``limit`` records in the order of ``sorting`` may be asked
        from a bounded walk: an index serves its first sort field."""
        if limit <= 0:
            return False
        first = sorting[0].field
        return first in (MODIFIED_FIELD, ID_FIELD) or first in self.sort_indexed_fields()

    def _walked_rows(self, params: Params, bounds: list[str], matching: list[str],
                     order: str, limit: int) -> list[Any] | None:
        """The rows of the page from a bounded walk, or None when the walk did not fill it
        (or this statement shape rarely does lately: then no walk)."""
        window = walk.walk_window(limit, self.max_walk_window)
        statement = sql.LIST_WALK.format(walk=" AND ".join(bounds),
                                         match=" AND ".join(matching) or "TRUE", order=order,
                                         beyond=window + 1, window=window, limit=limit)
        if not self.walk_outcomes.should_walk(statement):
            return None
        rows = walk.walked_page(self.client.read(statement, params.values, prepare=True),
                                window)
        self.walk_outcomes.record(statement, rows is not None)
        return rows

    # Query parts
    @staticmethod
    def _limit(params: Params, limit: int | None) -> str:
        # Written in the statement (an int): a generic plan then knows how few rows it needs.
        return "" if limit is None else f"LIMIT {int(limit)}"

    def _where(
        self, params: Params, filters: Sequence[Filter], keyset: Keyset | None,
        include_deleted: bool, read_filter: ReadFilter | None, sorting: Sequence[Sort],
    ) -> str:
        bounds, matching, _ = self._conditions(params, filters, keyset, include_deleted,
                                               read_filter, sorting)
        return " AND ".join(bounds + matching)

    def _conditions(
        self, params: Params, filters: Sequence[Filter], keyset: Keyset | None,
        include_deleted: bool, read_filter: ReadFilter | None, sorting: Sequence[Sort],
        seek_indexes: bool = True,
    ) -> tuple[list[str], list[str], list[str]]:
        """The conditions of a listing: those of its walk in sort order (the pair, the
        tombstones, the page token, a range on the column it is sorted by first: all
        conditions its index bounds), then those its records must match (other filters, read
        permission) as the planner may serve them from indexes (``seek_indexes``; else in
        their plain form), and the latter again as checked record by record (for a bounded
        walk: plain filters, the permission per record)."""
        bounds = ["parent_id = :parent_id", "collection_id = :collection_id"]
        if not include_deleted:
            bounds.append("NOT deleted")
        if keyset is not None:
            bounds.append(keyset_sql(sorting, keyset, params))
        matching: list[str] = []
        per_record: list[str] = []
        indexed = self.sort_indexed_fields() if filters and seek_indexes else frozenset()
        first_sort = sorting[0].field if sorting else None
        for flt in filters:
            if flt.field == first_sort and is_column_range(flt):  # _since, _before...
                bounds.append(filter_sql(flt, params))
                continue
            condition = filter_sql(flt, params)
            # A range on a field with a sort index starts where that index can seek to; a
            # record checked one by one (a walk) takes the plain form, cheaper to evaluate.
            seek = indexed_range_sql(flt, params) if flt.field in indexed else None
            if include_deleted and not ev.applies_to_tombstones(flt):
                condition = f"(deleted OR {condition})"
                seek = seek and f"(deleted OR {seek})"
            matching.append(seek or condition)
            per_record.append(condition)
        if read_filter is not None:
            joined, checked = self._read_filter_sql(read_filter, params)
            matching.append(joined)
            per_record.append(checked)
        return bounds, matching, per_record

    def _read_filter_sql(self, read_filter: ReadFilter, params: Params) -> tuple[str, str]:
        """The condition keeping the records ``read_filter`` allows, in two forms: one
        PostgreSQL may plan as a join (a listing), and one it checks per record (a bounded
        walk: ``OFFSET 0`` keeps PostgreSQL from hashing every entry of the principals)."""
        if self._shares_database(read_filter.permission_backend):
            entries = (
                "SELECT 1 FROM access_control_entries ace"
                f" WHERE ace.object_id = {params.add(read_filter.object_id_prefix)} || records.id"
                f" AND ace.permission = ANY({params.add(list(read_filter.permissions))})"
                f" AND ace.principal = ANY({params.add(list(read_filter.principals))})"
            )
            return f"EXISTS ({entries})", f"EXISTS ({entries} OFFSET 0)"
        allowed = ev.accessible_ids(read_filter) or set()
        condition = f"(id = ANY({params.add(sorted(map(textcodec.encode_text, allowed)))}))"
        return condition, condition


def load_from_config(config: Any) -> PostgreSQLStorage:
    """The storage of ``storage_url`` with the ``storage_*`` pool settings."""
    return PostgreSQLStorage(create_client(config.get_settings(), "storage"))
