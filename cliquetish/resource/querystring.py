"""Pure parsing of a listing's querystring into storage arguments.

Nothing here touches a request, a backend or HTTP: :func:`parse_listing` takes the query
parameters as ``(name, value)`` pairs and returns a :class:`ListingQuery` of
:class:`~cliquetish.storage.Filter` and :class:`~cliquetish.storage.Sort` objects, or raises
:class:`QueryError` naming the bad parameter.

The grammar (see ``docs/protocol.rst``):

* ``field=value`` equality; ``<prefix>_field=value`` with a prefix of :data:`PREFIXES`;
  values are JSON when they parse as JSON (``5``, ``true``, ``null``, ``"5"``), else strings;
  list operators (``in_``, ``exclude_``, ``contains_``, ``contains_any_``) take a JSON array or a
  comma-separated list; ``like_`` values are always strings; ``has_`` takes ``true``/``false``.
* dotted fields (``author.name``) reach into sub-objects.
* ``_since=T`` / ``_before=T`` (``T`` an integer, optionally quoted) filter ``last_modified``
  and include tombstones.
* ``_sort=-rank,title`` (``last_modified`` is appended as tie-breaker).
* ``_limit=N``, ``_token=...`` (decoded by :mod:`cliquetish.resource.pagination`),
  ``_fields=title,url``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from cliquetish.jsonbody import json_depth
from cliquetish.storage import COMPARISON, Filter, Sort

__all__ = [
    "ID_FIELD",
    "MODIFIED_FIELD",
    "PREFIXES",
    "ListingQuery",
    "QueryError",
    "parse_fields",
    "parse_filter",
    "parse_json_value",
    "parse_limit",
    "parse_listing",
    "parse_sort",
    "parse_timestamp",
    "quoted",
]

ID_FIELD = "id"
MODIFIED_FIELD = "last_modified"
BUILTIN_FIELDS = frozenset((ID_FIELD, MODIFIED_FIELD))
MAX_SORT_FIELDS = 20
"""The most fields a listing may be sorted by."""
MAX_TIMESTAMP = 2**63 - 1
MAX_DIGITS = 19
"""The largest timestamp accepted in a querystring (a signed 64-bit integer)."""

PREFIXES: tuple[tuple[str, COMPARISON], ...] = (
    # Longest first: ``contains_any_`` must win over ``contains_``.
    ("contains_any_", COMPARISON.CONTAINS_ANY),
    ("contains_", COMPARISON.CONTAINS),
    ("exclude_", COMPARISON.EXCLUDE),
    ("like_", COMPARISON.LIKE),
    ("not_", COMPARISON.NOT),
    ("min_", COMPARISON.MIN),
    ("max_", COMPARISON.MAX),
    ("has_", COMPARISON.HAS),
    ("eq_", COMPARISON.EQ),
    ("in_", COMPARISON.IN),
    ("lt_", COMPARISON.LT),
    ("gt_", COMPARISON.GT),
)
"""Querystring prefixes and the comparison each one asks for."""

LIST_OPERATORS = frozenset(
    (COMPARISON.IN, COMPARISON.EXCLUDE, COMPARISON.CONTAINS, COMPARISON.CONTAINS_ANY)
)
RESERVED = frozenset(("_since", "_before", "_sort", "_limit", "_token", "_fields"))
UNBOUND_PARAMETERS = frozenset(("_limit", "_token", "_fields"))
"""Parameters a pagination token is not bound to (they may change from page to page)."""

FieldCheck = Callable[[str], bool]

MAX_VALUE_DEPTH = 64
"""Deepest nesting of arrays and objects in a filter value (checked before decoding it)."""


class QueryError(ValueError):
    """A querystring parameter is invalid; ``name`` is the parameter, ``description`` why."""

    def __init__(self, name: str, description: str) -> None:
        super().__init__(f"{name} in querystring: {description}")
        self.name = name
        self.description = description


@dataclass(frozen=True)
class ListingQuery:
    """What a listing asks the storage for (immutable: one parsed querystring may serve many
    requests).

    ``scope`` is a canonical text of every parameter a pagination token is bound to (filters,
    ``_since``, ``_before``, ``_sort``); ``token`` is the raw ``_token`` value (or None).
    """

    filters: tuple[Filter, ...] = ()
    sorting: tuple[Sort, ...] = ()
    limit: int = 0
    include_deleted: bool = False
    fields: tuple[str, ...] | None = None
    token: str | None = None
    scope: str = ""


@dataclass
class _ListingDraft:
    """A :class:`ListingQuery` being parsed."""

    filters: list[Filter] = field(default_factory=list)
    sorting: list[Sort] = field(default_factory=list)
    limit: int = 0
    include_deleted: bool = False
    fields: list[str] | None = None
    token: str | None = None


def parse_json_value(raw: str) -> Any:
    """``raw`` decoded as JSON when it is valid JSON, else ``raw`` itself (a string)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _is_small_number(text: str) -> bool:
    """ASCII digits only, few enough to be a 64-bit integer."""
    return text.isdigit() and text.isascii() and len(text) <= MAX_DIGITS


def quoted(raw: str) -> str:
    """``raw`` quoted for an error message, shortened when long."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")


def parse_timestamp(name: str, raw: str) -> int:
    """A non-negative integer, optionally within double quotes (``"1500"`` or ``1500``)."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not _is_small_number(text) or int(text) > MAX_TIMESTAMP:
        raise QueryError(name, f"{quoted(raw)} is not a timestamp (a positive integer)")
    return int(text)


def parse_limit(raw: str, cap: int) -> int:
    """``_limit``: an integer of 1 or more (of any size), lowered to ``cap``."""
    text = raw.strip().lstrip("0")
    if not (text.isdigit() and text.isascii()):
        raise QueryError("_limit", f"{quoted(raw)} is not a positive integer")
    return cap if len(text) > MAX_DIGITS else min(int(text), cap)


def _check_field_name(name: str, field_name: str, is_known_field: FieldCheck) -> None:
    if not field_name or any(not part for part in field_name.split(".")):
        raise QueryError(name, f"{quoted(field_name)} is not a valid field name")
    if field_name not in BUILTIN_FIELDS and not is_known_field(field_name):
        raise QueryError(name, f"unknown field {quoted(field_name)}")


def _split_operator(name: str) -> tuple[str, COMPARISON]:
    for prefix, operator in PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):], operator
    return name, COMPARISON.EQ


def _list_value(
    name: str, raw: str, item_parser: Callable[[str], Any], json_arrays: bool
) -> list[Any]:
    stripped = raw.strip()
    if json_arrays and stripped.startswith("["):
        value = parse_json_value(stripped)
        if isinstance(value, list):
            return value
        raise QueryError(name, f"{quoted(raw)} is not a JSON array")
    return [item_parser(item) for item in raw.split(",")]


def _builtin_value(name: str, field_name: str) -> Callable[[str], Any]:
    """The item parser for ``id`` (raw strings) and ``last_modified`` (integers)."""
    if field_name == ID_FIELD:
        return lambda item: item
    return lambda item: parse_timestamp(name, item)


def parse_filter(name: str, raw: str, is_known_field: FieldCheck) -> Filter:
    """One ``[prefix_]field=value`` parameter as a :class:`Filter`."""
    field_name, operator = _split_operator(name)
    if (
        operator is not COMPARISON.EQ
        and field_name not in BUILTIN_FIELDS
        and not is_known_field(field_name)
        and is_known_field(name)
    ):
        # A known field whose name merely starts like a prefix (``not_done``).
        field_name, operator = name, COMPARISON.EQ
    _check_field_name(name, field_name, is_known_field)
    if raw.count("[") + raw.count("{") > MAX_VALUE_DEPTH and (
            json_depth(raw.encode("utf-8", "surrogatepass")) > MAX_VALUE_DEPTH):
        raise QueryError(name, f"nested deeper than {MAX_VALUE_DEPTH} levels")
    if operator is COMPARISON.HAS:
        flag = raw.strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise QueryError(name, f"{quoted(raw)} is not a boolean (true or false)")
        return Filter(field_name, flag in ("true", "1"), operator)
    if operator is COMPARISON.LIKE:
        return Filter(field_name, raw, operator)
    builtin = field_name in BUILTIN_FIELDS
    item_parser = _builtin_value(name, field_name) if builtin else parse_json_value
    if operator in LIST_OPERATORS:
        return Filter(field_name, _list_value(name, raw, item_parser, not builtin), operator)
    return Filter(field_name, item_parser(raw), operator)


def parse_sort(raw: str, is_known_field: FieldCheck) -> list[Sort]:
    """``_sort=-rank,title``: sorts, then ``last_modified`` descending as tie-breaker."""
    sorting: list[Sort] = []
    seen: set[str] = set()
    items = raw.split(",")
    if len(items) > MAX_SORT_FIELDS:
        raise QueryError("_sort", f"at most {MAX_SORT_FIELDS} fields")
    for item in items:
        text = item.strip()
        direction = -1 if text.startswith("-") else 1
        field_name = text.lstrip("-+")
        _check_field_name("_sort", field_name, is_known_field)
        if field_name in seen:
            raise QueryError("_sort", f"{quoted(field_name)} is given twice")
        seen.add(field_name)
        sorting.append(Sort(field_name, direction))
    return with_tie_breaker(sorting)


def with_tie_breaker(sorting: Sequence[Sort]) -> list[Sort]:
    """``sorting`` ending with ``last_modified`` (added descending when absent)."""
    result = list(sorting)
    if not any(sort.field == MODIFIED_FIELD for sort in result):
        result.append(Sort(MODIFIED_FIELD, -1))
    return result


def parse_fields(raw: str, is_known_field: FieldCheck) -> list[str]:
    """``_fields=title,author.name``: the fields to keep (``id`` and ``last_modified`` always)."""
    fields = []
    for item in raw.split(","):
        field_name = item.strip()
        _check_field_name("_fields", field_name, is_known_field)
        fields.append(field_name)
    return fields


def _scope(params: Iterable[tuple[str, str]]) -> str:
    bound = sorted((name, value) for name, value in params if name not in UNBOUND_PARAMETERS)
    return orjson.dumps(bound).decode("utf-8")


def _reserved(query: _ListingDraft, name: str, raw: str, page_size: int,
              is_known_field: FieldCheck) -> None:
    if name == "_since":
        query.filters.append(Filter(MODIFIED_FIELD, parse_timestamp(name, raw), COMPARISON.GT))
        query.include_deleted = True
    elif name == "_before":
        query.filters.append(Filter(MODIFIED_FIELD, parse_timestamp(name, raw), COMPARISON.LT))
        query.include_deleted = True
    elif name == "_sort":
        query.sorting = parse_sort(raw, is_known_field)
    elif name == "_limit":
        query.limit = parse_limit(raw, page_size)
    elif name == "_token":
        query.token = raw
    else:
        query.fields = parse_fields(raw, is_known_field)


def parse_listing(
    params: Iterable[tuple[str, str]],
    is_known_field: FieldCheck,
    default_sort: Sequence[Sort],
    page_size: int,
) -> ListingQuery:
    """Parse a listing's parameters.

    :param params: the querystring as ``(name, value)`` pairs (repeated names allowed for
        filters, not for the reserved ``_`` parameters).
    :param is_known_field: tells whether a (dotted) field may be filtered, sorted or kept.
    :param default_sort: the sort when ``_sort`` is absent (the tie-breaker is added).
    :param page_size: the default and largest ``_limit``.
    :raises QueryError: a parameter is invalid or unknown.
    """
    params = list(params)
    query = _ListingDraft(limit=page_size)
    seen_reserved: set[str] = set()
    for name, raw in params:
        if name.startswith("_"):
            if name not in RESERVED:
                raise QueryError(name, "unknown parameter")
            if name in seen_reserved:
                raise QueryError(name, "is given more than once")
            seen_reserved.add(name)
            _reserved(query, name, raw, page_size, is_known_field)
        else:
            query.filters.append(parse_filter(name, raw, is_known_field))
    return ListingQuery(
        filters=tuple(query.filters),
        sorting=tuple(query.sorting or with_tie_breaker(default_sort)),
        limit=query.limit,
        include_deleted=query.include_deleted,
        fields=None if query.fields is None else tuple(query.fields),
        token=query.token,
        scope=_scope(params),
    )
