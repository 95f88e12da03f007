"""The storage contract's JSON semantics, evaluated in Python.

The memory and Redis storages filter, sort and paginate with these functions; the PostgreSQL
storage builds SQL that gives the same answers (the contract suite checks both). They define:

* **Field paths**: a dotted field ``a.b.c`` walks objects by key; on an array a step that is an
  integer (``tags.0``, ``tags.-1`` from the end) selects an element, as PostgreSQL's ``#>`` does.
  Anything else is :data:`~cliquetish.storage.MISSING`.
* **One total order** of JSON values (:func:`sort_key`): ``null < strings < numbers < booleans
  < arrays < objects < missing``. Strings compare by code point; numbers by value (``1 == 1.0``);
  arrays first by length then element by element; objects first by number of keys, then key and
  value pairs taken in PostgreSQL's jsonb key order (shorter keys first, then bytewise).
* **Type-strict equality**: two values are equal when their sort keys are (``true`` ≠ ``1``).

It also holds the small helpers the backends share: JSON text in and out (:func:`dumps`,
:func:`loads`, integers of any size kept), client timestamps, unique-field checks and read
filters evaluated through ``accessible_objects``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from cliquetish.storage import (
    COMPARISON,
    DELETED_FIELD,
    ID_FIELD,
    MISSING,
    MODIFIED_FIELD,
    Filter,
    Keyset,
    ReadFilter,
    Record,
    Sort,
)

__all__ = [
    "MAX_CLIENT_TIMESTAMP",
    "accessible_ids",
    "applies_to_tombstones",
    "as_list",
    "client_timestamp",
    "default_id",
    "dumps",
    "filter_records",
    "has_wanted",
    "is_after",
    "json_copy",
    "json_equal",
    "json_type",
    "like_regex",
    "like_text",
    "listing_sort",
    "loads",
    "loads_all",
    "matches",
    "now_ms",
    "resolve",
    "sort_key",
    "sort_records",
    "split_record",
    "tombstone",
    "unique_conflict",
]

def dumps(value: Any) -> str:
    """JSON text of ``value``, as every backend stores it (integers of any size kept)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9999999999")
_LONG_INTEGER = b"9" * 19
"""With every digit made ``9``: a run of 19 digits, an integer orjson may turn to a float. One
byte translation and one substring search cost half what a regular expression does, and every
record read goes through them."""


def _has_long_integer(text: str) -> bool:
    """True when ``text`` has a run of 19 digits or more (maybe an integer orjson would turn to
    a float)."""
    return _LONG_INTEGER in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_NINES)


def loads(text: str | bytes) -> Any:
    """The value of JSON ``text`` (integers of any size kept, which orjson would turn to floats)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _has_long_integer(text):
        return json.loads(text)
    return orjson.loads(text)


def loads_all(texts: Sequence[str]) -> list[Any]:
    """:func:`loads` of each JSON text, with one search for long integers over all of them (a
    page of records costs one search, not one per record)."""
    if texts and _has_long_integer(" ".join(texts)):  # a space: no run spans two texts
        return [loads(text) for text in texts]
    return [orjson.loads(text) for text in texts]


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value, through its JSON text (so it stores like on a server)."""
    return loads(dumps(value))


_ARRAY_INDEX = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+")
_INT32 = 2**31


def resolve(record: Any, field: str) -> Any:
    """The value at the dotted ``field`` of ``record``, or ``MISSING``."""
    value = record
    for step in field.split("."):
        if isinstance(value, dict):
            value = value.get(step, MISSING)
        elif isinstance(value, list) and _ARRAY_INDEX.fullmatch(step):
            index = int(step)
            if not -_INT32 <= index < _INT32 or not -len(value) <= index < len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def json_type(value: Any) -> str:
    """The JSON type name of a value: null, string, number, boolean, array, object, missing."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"{type(value).__name__} is not a JSON value")


_RANKS = {"null": 0, "string": 1, "number": 2, "boolean": 3, "array": 4, "object": 5,
          "missing": 6}


def _key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8", "surrogatepass")
    return (len(encoded), encoded)


def sort_key(value: Any) -> tuple[Any, ...]:
    """A tuple ordering JSON values in the contract's total order (see the module docstring)."""
    kind = json_type(value)
    rank = _RANKS[kind]
    if kind in ("null", "missing"):
        return (rank,)
    if kind in ("string", "number", "boolean"):
        return (rank, value)
    if kind == "array":
        return (rank, len(value), tuple(sort_key(item) for item in value))
    pairs = sorted(value.items(), key=lambda item: _key_order(item[0]))
    return (rank, len(pairs), tuple((key, sort_key(item)) for key, item in pairs))


def json_equal(left: Any, right: Any) -> bool:
    """Type-strict JSON equality (``1 == 1.0`` but ``true != 1``; missing equals missing)."""
    return sort_key(left) == sort_key(right)


def has_wanted(value: Any) -> bool:
    """What a ``HAS`` filter asks for: True (field present) unless value is false-like."""
    return value not in (False, 0, None, "", "false", "0")


def as_list(value: Any) -> list[Any]:
    """The value of an ``IN``, ``EXCLUDE``, ``CONTAINS`` or ``CONTAINS_ANY`` filter as a list."""
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def like_text(value: Any) -> str:
    """The text a ``LIKE`` filter searches for (JSON text for a non-string value)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def like_regex(value: Any) -> re.Pattern[str]:
    """The regex of a ``LIKE`` filter, to be matched against the lower-cased text."""
    text = like_text(value).lower()
    if "*" not in text:
        text = f"*{text}*"
    parts = (re.escape(part) for part in text.split("*"))
    return re.compile(".*".join(parts), re.DOTALL)


def _in_values(value: Any, candidates: Iterable[Any]) -> bool:
    wanted = sort_key(value)
    return any(sort_key(candidate) == wanted for candidate in candidates)


def _compare(value: Any, flt: Filter) -> bool:
    if json_type(value) != json_type(flt.value):
        return False
    left, right = sort_key(value), sort_key(flt.value)
    if flt.operator is COMPARISON.LT:
        return left < right
    if flt.operator is COMPARISON.GT:
        return left > right
    if flt.operator is COMPARISON.MIN:
        return left >= right
    return left <= right


def _array_filter(value: Any, flt: Filter) -> bool:
    if not isinstance(value, list):
        return False
    wanted = as_list(flt.value)
    found = (_in_values(item, value) for item in wanted)
    if flt.operator is COMPARISON.CONTAINS:
        return all(found)
    return any(found)


def matches(record: Record, flt: Filter) -> bool:
    """True when ``record`` satisfies one filter."""
    value = resolve(record, flt.field)
    operator = flt.operator
    if operator is COMPARISON.EQ:
        return value is not MISSING and json_equal(value, flt.value)
    if operator is COMPARISON.NOT:
        return value is MISSING or not json_equal(value, flt.value)
    if operator in (COMPARISON.LT, COMPARISON.GT, COMPARISON.MIN, COMPARISON.MAX):
        return _compare(value, flt)
    if operator is COMPARISON.IN:
        return value is not MISSING and _in_values(value, as_list(flt.value))
    if operator is COMPARISON.EXCLUDE:
        return value is MISSING or not _in_values(value, as_list(flt.value))
    if operator is COMPARISON.LIKE:
        return isinstance(value, str) and bool(like_regex(flt.value).fullmatch(value.lower()))
    if operator is COMPARISON.HAS:
        return (value is not MISSING) == has_wanted(flt.value)
    return _array_filter(value, flt)


def applies_to_tombstones(flt: Filter) -> bool:
    """Filters on ``id`` and ``last_modified`` also select tombstones; others let them through."""
    return flt.field in (ID_FIELD, MODIFIED_FIELD)


def filter_records(
    records: Iterable[tuple[Record, bool]], filters: Sequence[Filter]
) -> list[tuple[Record, bool]]:
    """The ``(record, is_tombstone)`` pairs satisfying every filter."""
    kept = []
    for record, tombstone in records:
        relevant = (f for f in filters if not tombstone or applies_to_tombstones(f))
        if all(matches(record, flt) for flt in relevant):
            kept.append((record, tombstone))
    return kept


def listing_sort(sorting: Sequence[Sort]) -> list[Sort]:
    """The sort actually applied: ``sorting`` (default ``-last_modified``) with
    ``last_modified`` appended as tie-breaker when absent (descending)."""
    applied = list(sorting)
    if not any(sort.field == MODIFIED_FIELD for sort in applied):
        applied.append(Sort(MODIFIED_FIELD, -1))
    return applied


def sort_records(records: list[Record], sorting: Sequence[Sort]) -> list[Record]:
    """``records`` in the order of ``sorting`` (already completed by :func:`listing_sort`)."""
    ordered = list(records)
    for sort in reversed(sorting):
        ordered.sort(
            key=lambda r, f=sort.field: sort_key(resolve(r, f)), reverse=sort.direction < 0
        )
    return ordered


def is_after(record: Record, sorting: Sequence[Sort], keyset: Keyset) -> bool:
    """True when ``record`` comes strictly after the keyset in the ``sorting`` order."""
    for sort in sorting:
        mine = sort_key(resolve(record, sort.field))
        theirs = sort_key(keyset.values.get(sort.field, MISSING))
        if mine != theirs:
            return mine > theirs if sort.direction > 0 else mine < theirs
    return False


def tombstone(object_id: str, last_modified: int) -> Record:
    """The record left by a deletion."""
    return {ID_FIELD: object_id, MODIFIED_FIELD: last_modified, DELETED_FIELD: True}


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return int(time.time() * 1000)


MAX_CLIENT_TIMESTAMP = 2**53
"""Client ``last_modified`` values must be below this (JSON-safe integers; Redis' Lua numbers)."""


def client_timestamp(value: Any) -> int | None:
    """A client-supplied ``last_modified`` when it is a positive integer below
    :data:`MAX_CLIENT_TIMESTAMP`, else None (the server's stamp is used)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < MAX_CLIENT_TIMESTAMP:
        return value
    return None


def split_record(record: Record) -> tuple[Record, int | None]:
    """A JSON copy of ``record`` without ``id`` and ``last_modified``, and the latter."""
    data = json_copy(record)
    data.pop(ID_FIELD, None)
    return data, client_timestamp(data.pop(MODIFIED_FIELD, None))


def unique_conflict(
    candidates: Sequence[Record], record: Record, object_id: str, unique_fields: Sequence[str]
) -> tuple[str, Record] | None:
    """The first ``(field, live record)`` among ``candidates`` sharing a unique field's value."""
    for field in unique_fields:
        value = resolve(record, field)
        if value is MISSING:
            continue
        for other in candidates:
            if other[ID_FIELD] != object_id and json_equal(resolve(other, field), value):
                return field, other
    return None


def default_id() -> str:
    """A new UUID4 as text."""
    return str(uuid.uuid4())


def accessible_ids(read_filter: ReadFilter | None) -> set[str] | None:
    """The record ids a read filter allows (None: no restriction)."""
    if read_filter is None:
        return None
    objects = read_filter.permission_backend.accessible_objects(
        read_filter.principals, read_filter.permissions, read_filter.object_id_prefix
    )
    prefix = read_filter.object_id_prefix
    return {obj[len(prefix):] for obj in objects if obj.startswith(prefix)}
