"""The SQL statements of the PostgreSQL storage.

Every write is ONE statement that also bumps the pair's row of ``timestamps`` to
``GREATEST(now_ms, last + 1)`` (or the client's ``last_modified`` when greater): the row lock
it takes orders concurrent writers of a pair, so timestamps are strictly increasing across
processes with no conflict to retry. ``{placeholders}`` are filled with SQL built by
:mod:`cliquetish.storage.postgresql.queries` (never with user input).
"""

from __future__ import annotations

__all__ = [
    "COLLECTION_TIMESTAMP",
    "CONDITIONAL_UPDATE",
    "COUNT",
    "DELETE",
    "DELETE_ALL",
    "FLUSH",
    "GET",
    "GET_WITH_PERMISSIONS",
    "LIST",
    "LIST_WALK",
    "LIST_WITH_TIMESTAMP",
    "LOCK_PAIR",
    "PURGE",
    "UNIQUE_CONFLICT",
    "UPSERT",
    "expected_conditions",
]

_CLOCK = "clock AS (SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS bigint) AS now_ms)"

_PAIR = "parent_id = :parent_id AND collection_id = :collection_id"

_LIVE_ID = f"SELECT 1 FROM records WHERE {_PAIR} AND id = :object_id AND NOT deleted"

_BUMP = """bump AS (
    INSERT INTO timestamps AS t (parent_id, collection_id, last_modified)
    SELECT :parent_id, :collection_id, {first} FROM {sources} {guard}
    ON CONFLICT (parent_id, collection_id) DO UPDATE
    SET last_modified = GREATEST(EXCLUDED.last_modified, t.last_modified + {step})
    RETURNING t.last_modified
)"""

_ONE_BUMP = _BUMP.format(
    first="GREATEST(clock.now_ms, COALESCE(CAST(:client AS bigint), 0))",
    sources="clock", step="1", guard="{guard}",
)

UPSERT = f"""WITH {_CLOCK}, {_ONE_BUMP}
INSERT INTO records AS r (id, parent_id, collection_id, last_modified, data, deleted)
SELECT :object_id, :parent_id, :collection_id, bump.last_modified, CAST(:data AS jsonb), FALSE
FROM bump
ON CONFLICT (parent_id, collection_id, id) DO UPDATE
SET last_modified = EXCLUDED.last_modified, data = EXCLUDED.data, deleted = FALSE
{{replace_guard}}
RETURNING r.last_modified"""
"""Create or replace one record. ``guard``: ``WHERE NOT EXISTS (live id)`` for a create, so an
existing id bumps nothing; ``replace_guard``: ``WHERE r.deleted`` for a create (only a tombstone
is replaced)."""

CREATE_GUARD = f"WHERE NOT EXISTS ({_LIVE_ID})"
CREATE_REPLACE_GUARD = "WHERE r.deleted"

_EXPECTED = " AND last_modified = :expected"
"""Appended to the live-record conditions of a conditional write."""

_DELETE_BUMP = _ONE_BUMP.format(guard=f"WHERE EXISTS ({_LIVE_ID}{{expected}})")
_TARGET = f"r.{_PAIR.replace(' AND ', ' AND r.')} AND r.id = :object_id AND NOT r.deleted"

DELETE = f"""WITH {_CLOCK}, {_DELETE_BUMP}
UPDATE records AS r SET deleted = TRUE, data = CAST(:tombstone AS jsonb),
    last_modified = bump.last_modified
FROM bump
WHERE {_TARGET}{{expected_r}}
RETURNING r.last_modified"""
"""Turn a live record into a tombstone (``expected``/``expected_r``: "" or the condition on
``last_modified``)."""

DELETE_WITHOUT_TOMBSTONE = f"""WITH {_CLOCK}, {_DELETE_BUMP}
DELETE FROM records AS r USING bump
WHERE {_TARGET}{{expected_r}}
RETURNING bump.last_modified"""
"""Remove a live record, leaving no tombstone (the timestamp still moves)."""

CONDITIONAL_UPDATE = f"""WITH {_CLOCK}, {_DELETE_BUMP.format(expected=_EXPECTED)}
UPDATE records AS r SET data = CAST(:data AS jsonb), last_modified = bump.last_modified
FROM bump
WHERE {_TARGET} AND r.last_modified = :expected
RETURNING r.last_modified"""
"""Replace a live record only if its ``last_modified`` is still ``expected``: the row lock and
re-check of the UPDATE make a concurrent conditional write of the record wait, then fail."""


def expected_conditions(expected: int | None) -> dict[str, str]:
    """The ``expected`` and ``expected_r`` placeholders of :data:`DELETE`."""
    if expected is None:
        return {"expected": "", "expected_r": ""}
    return {"expected": _EXPECTED, "expected_r": " AND r.last_modified = :expected"}


_MATCHED = """matched AS (
    SELECT id, row_number() OVER (ORDER BY {order}) AS position FROM records
    WHERE {where} ORDER BY {order} {limit}
), total AS (SELECT count(*) AS n FROM matched)"""

_MANY_BUMP = _BUMP.format(
    first="clock.now_ms + total.n - 1", sources="clock, total", guard="WHERE total.n > 0",
    step="(SELECT n FROM total)",
)

_MANY_TARGET = (
    f"r.{_PAIR.replace(' AND ', ' AND r.')} AND r.id = matched.id AND NOT r.deleted"
)

DELETE_ALL = f"""WITH {_CLOCK}, {_MATCHED}, {_MANY_BUMP}
UPDATE records AS r SET deleted = TRUE, data = CAST(:tombstone AS jsonb),
    last_modified = bump.last_modified - total.n + matched.position
FROM matched, total, bump
WHERE {_MANY_TARGET}
RETURNING r.id, r.last_modified"""
"""Delete what a listing selects: the n records get n consecutive timestamps, in listing
order, ending at the pair's new timestamp."""

DELETE_ALL_WITHOUT_TOMBSTONES = f"""WITH {_CLOCK}, {_MATCHED}, {_MANY_BUMP}
DELETE FROM records AS r USING matched, total, bump
WHERE {_MANY_TARGET}
RETURNING r.id, bump.last_modified - total.n + matched.position"""

PURGE = """DELETE FROM records
WHERE collection_id = :collection_id AND deleted {conditions}
RETURNING id"""

GET = f"""SELECT last_modified, CAST(data AS text) FROM records
WHERE {_PAIR} AND id = :object_id AND NOT deleted"""

GET_WITH_PERMISSIONS = f"""SELECT last_modified, CAST(data AS text),
    ARRAY(SELECT ARRAY[permission, principal] FROM access_control_entries
          WHERE object_id = :object_uri)
FROM records WHERE {_PAIR} AND id = :object_id AND NOT deleted"""
"""The live record and the ``[permission, principal]`` pairs of its access-control entries
(a permission backend in the same database)."""

LIST = """SELECT id, last_modified, CAST(data AS text) FROM records
WHERE {where} ORDER BY {order} {limit}"""

LIST_WITH_TIMESTAMP = f"""SELECT id, last_modified, CAST(data AS text),
    (SELECT last_modified FROM timestamps WHERE {_PAIR}) AS collection_timestamp FROM records
WHERE {{where}} ORDER BY {{order}} {{limit}}"""
"""A page and, on each row, the pair's timestamp (an uncorrelated subquery, read once)."""

LIST_WALK = f"""SELECT id, last_modified, CAST(data AS text),
    (SELECT last_modified FROM timestamps WHERE {_PAIR}) AS collection_timestamp, walked
FROM (
    SELECT id, last_modified, data, deleted, row_number() OVER () AS walked
    FROM (SELECT id, last_modified, data, deleted FROM records
          WHERE {{walk}} ORDER BY {{order}} LIMIT {{beyond}}) AS walk
) AS records
WHERE ({{match}}) OR walked > {{window}}
LIMIT {{limit}}"""
"""A page from the first ``window`` records of the listing's order (``walk``: the pair, the
tombstones, the page token, a range on the first sort column), the ``match`` conditions applied
to those only; the record after the window (``beyond`` = window + 1), if any, comes back
whatever ``match`` says, to tell that the walk was cut short (see :mod:`.walk`)."""

COUNT = "SELECT count(*) FROM records WHERE {where}"

INDEX_DEFINITIONS = ("SELECT pg_get_indexdef(indexrelid) FROM pg_index"
                     " WHERE indrelid = CAST('records' AS regclass)")
"""The definitions of the indexes of ``records`` (to find the operators' sort indexes)."""

COLLECTION_TIMESTAMP = f"""WITH existing AS (
    SELECT last_modified FROM timestamps WHERE {_PAIR}
), {_CLOCK}, created AS (
    INSERT INTO timestamps (parent_id, collection_id, last_modified)
    SELECT :parent_id, :collection_id, clock.now_ms FROM clock
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (parent_id, collection_id) DO NOTHING
    RETURNING last_modified
)
SELECT last_modified FROM existing UNION ALL SELECT last_modified FROM created"""
"""The pair's timestamp; an unknown pair's is stored as now on first read, so it is stable."""

TIMESTAMP = f"SELECT last_modified FROM timestamps WHERE {_PAIR}"

LOCK_PAIR = "SELECT pg_advisory_xact_lock(hashtextextended(:parent_id || '/' || :collection_id, 0))"
"""Serialise the unicity check and the write of writers with unique fields on a pair."""

UNIQUE_CONFLICT = f"""SELECT id, last_modified, CAST(data AS text) FROM records
WHERE {_PAIR} AND NOT deleted AND id <> :object_id AND ({{conditions}})
LIMIT 1"""

FLUSH = "DELETE FROM records; DELETE FROM timestamps"
