"""SQL for filters, sorting and keyset pagination over the ``records`` table.

Each function returns SQL text and adds the values it needs to a :class:`Params`; user input
travels as bound parameters, with one exception: a field name whose steps are plain (letters,
digits, ``_`` and ``-``: nothing to quote or escape) is written as a literal ``text[]``
path, so that a prepared statement's generic plan can use the sort index
(:func:`sort_index_statement`); any other name is bound too.
The SQL gives the answers :mod:`cliquetish.storage.evaluation` gives in Python:

* the JSON type rank (``null`` 0, string 1, number 2, boolean 3, array 4, object 5, missing 6)
  orders values of different types; within a type strings compare as ``text COLLATE "C"``
  (code points) and the other types with jsonb's own order;
* ``id`` and ``last_modified`` are columns: conditions on them use the columns (and indexes)
  when the compared value has the column's type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from cliquetish.storage import COMPARISON, ID_FIELD, MISSING, MODIFIED_FIELD, Filter, Keyset, Sort
from cliquetish.storage import evaluation as ev
from cliquetish.storage.postgresql import textcodec

__all__ = [
    "Params",
    "filter_sql",
    "indexed_range_sql",
    "is_column_range",
    "keyset_sql",
    "order_sql",
    "sort_index_fields",
    "sort_index_statement",
    "value_sql",
]

_RANK_SQL = (
    "(CASE jsonb_typeof({x}) WHEN 'null' THEN 0 WHEN 'string' THEN 1 WHEN 'number' THEN 2"
    " WHEN 'boolean' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE 6 END)"
)
_STRING_KEY_SQL = "(CASE WHEN jsonb_typeof({x}) = 'string' THEN {x} #>> '{{}}' END)"
"""The second sort key of a data field: its text when it is a string (compared ``COLLATE "C"``),
else NULL."""
_COLUMN_RANKS = {ID_FIELD: 1, MODIFIED_FIELD: 2}


class Params:
    """Bound parameters of one statement, named ``p0``, ``p1``, ..."""

    def __init__(self, **initial: Any) -> None:
        self.values: dict[str, Any] = dict(initial)

    def add(self, value: Any) -> str:
        """Bind ``value``; return its placeholder."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"

    def json(self, value: Any) -> str:
        """Bind a JSON value (strings encoded); return ``CAST(:pN AS jsonb)``."""
        return f"CAST({self.add(ev.dumps(textcodec.encode(value)))} AS jsonb)"

    def json_list(self, values: Sequence[Any]) -> str:
        """Bind a list of JSON values; return a ``jsonb[]`` expression."""
        texts = [ev.dumps(textcodec.encode(value)) for value in values]
        return f"CAST({self.add(texts)} AS jsonb[])"


def _steps(field: str) -> list[str]:
    return [textcodec.encode_text(step) for step in field.split(".")]


def _column(field: str) -> str | None:
    return field if field in _COLUMN_RANKS else None


_PLAIN_STEP = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A field name step written in the SQL itself: nothing in it needs quoting or escaping."""


def _path_sql(steps: list[str], params: Params) -> str:
    """The ``text[]`` path of ``steps``: a literal ``ARRAY[...]`` when every step is plain (the
    expression of :func:`sort_index_statement`, which a prepared statement's generic plan can
    match with the index), else a bound parameter."""
    if all(_PLAIN_STEP.fullmatch(step) for step in steps):
        return "ARRAY[" + ", ".join(f"'{step}'" for step in steps) + "]"
    return params.add(steps)


def value_sql(field: str, params: Params) -> str:
    """The jsonb value of ``field`` in a row (SQL NULL when missing)."""
    steps = _steps(field)
    if steps[0] in _COLUMN_RANKS:
        base = f"to_jsonb({steps[0]})"
        return base if len(steps) == 1 else f"({base} #> {_path_sql(steps[1:], params)})"
    return f"(data #> {_path_sql(steps, params)})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _column_value(field: str, value: Any) -> bool:
    """True when ``value`` has the type of the column ``field``."""
    if field == ID_FIELD:
        return isinstance(value, str)
    return field == MODIFIED_FIELD and _is_int(value)


def _column_sql(field: str, params: Params, value: Any) -> tuple[str, str]:
    """(column, bound value) for a column condition."""
    if field == ID_FIELD:
        return 'id COLLATE "C"', params.add(textcodec.encode_text(value))
    return field, params.add(value)


def _typed_compare(x: str, value: Any, operator: str, params: Params) -> str:
    """``x <op> value`` for an ``x`` of the same JSON type as ``value``."""
    if isinstance(value, str):
        bound = params.add(textcodec.encode_text(value))
        return f"(({x} #>> '{{}}') COLLATE \"C\" {operator} {bound})"
    return f"({x} {operator} {params.json(value)})"


_OPERATORS = {COMPARISON.LT: "<", COMPARISON.GT: ">", COMPARISON.MIN: ">=", COMPARISON.MAX: "<="}


def _range_sql(flt: Filter, params: Params) -> str:
    operator = _OPERATORS[flt.operator]
    if _column(flt.field) and _column_value(flt.field, flt.value):
        column, bound = _column_sql(flt.field, params, flt.value)
        return f"({column} {operator} {bound})"
    x = value_sql(flt.field, params)
    compare = _typed_compare(x, flt.value, operator, params)
    guard = _type_range_guard(x, flt.value, operator)
    if guard is None:
        guard = f"jsonb_typeof({x}) = {params.add(ev.json_type(flt.value))}"
    return f"({guard} AND {compare})"


def is_column_range(flt: Filter) -> bool:
    """True when ``flt`` is a range on the ``id`` or ``last_modified`` column with a value of
    the column's type: :func:`filter_sql` then writes a condition their indexes bound."""
    return (flt.operator in _OPERATORS and _column(flt.field) is not None
            and _column_value(flt.field, flt.value))


def _type_range_guard(x: str, value: Any, operator: str) -> str | None:
    """The type guard of a range as a range on ``x`` itself, when jsonb's order allows one.

    jsonb orders ``null < strings < numbers < booleans < arrays < objects`` (an empty array
    extracted at top level sorts below ``null``). ``x > n`` or ``x >= n`` for a number ``n``
    already excludes nulls and strings, so ``x < false`` keeps the numbers; booleans are
    exactly ``false ..= true``. Written this way the planner estimates the range with the
    expression's statistics (the sort index gives them) instead of guessing the selectivity
    of ``jsonb_typeof(...)``. None: no such bound (numbers below a value, strings, ...).
    """
    if isinstance(value, bool):
        return f"({x} >= {_FALSE} AND {x} <= {_TRUE})"
    if isinstance(value, int | float) and operator in (">", ">="):
        return f"({x} < {_FALSE})"
    return None


_FALSE = "CAST('false' AS jsonb)"
_TRUE = "CAST('true' AS jsonb)"


_SEEKABLE_TYPE_RANKS = {"string": 1, "number": 2, "boolean": 3}


def indexed_range_sql(flt: Filter, params: Params) -> str | None:
    """The condition of a range filter on a string, number or boolean, written on the
    expressions of the :func:`sort_index_statement` index of ``flt.field`` so that PostgreSQL
    seeks that index to the start of the range; None for another filter, a column, or a path
    that is bound rather than written.

    The index orders a field by its type rank, then its string key, then its value: a range on
    the value alone leaves the first two unbound, so PostgreSQL reads the index from the start
    of the collection. Every value of such a range has a known type rank; its string key is
    NULL for numbers and booleans, and for strings the range itself, written on the string
    key. The type rank stands for the type guard of :func:`filter_sql` (a string range is then
    complete; a number or boolean range adds the comparison of values): one condition fewer
    for the planner, who would otherwise plan the same condition twice. Only use it when
    that index exists: without its statistics, PostgreSQL takes each condition for a rare
    one and misplans.
    """
    if flt.operator not in _OPERATORS or _column(flt.field):
        return None
    rank = _SEEKABLE_TYPE_RANKS.get(ev.json_type(flt.value))
    expressions = _seek_expressions(flt.field)
    if rank is None or expressions is None:
        return None
    type_rank, string_key = expressions
    operator = _OPERATORS[flt.operator]
    if isinstance(flt.value, str):
        bound = params.add(textcodec.encode_text(flt.value))
        return f"({type_rank} = {rank} AND {string_key} {operator} {bound})"
    x = value_sql(flt.field, params)
    return (f"({type_rank} = {rank} AND {string_key} IS NULL"
            f" AND {x} {operator} {params.json(flt.value)})")


@functools.lru_cache(maxsize=256)
def _seek_expressions(field: str) -> tuple[str, str] | None:
    """The type rank and string key expressions of ``field``, as its sort index has them
    (None when its path is bound rather than written: no index can match it)."""
    if not all(_PLAIN_STEP.fullmatch(step) for step in _steps(field)):
        return None
    x = value_sql(field, Params())
    return _RANK_SQL.format(x=x), f'({_STRING_KEY_SQL.format(x=x)} COLLATE "C")'


_INDEXED_PATH = re.compile(
    r"CASE jsonb_typeof\(\(data #> (?:ARRAY\[((?:'[A-Za-z0-9_-]+'::text(?:, )?)+)\]"
    r"|'\{([A-Za-z0-9_,-]+)\}'::text\[\])\)\)\s+WHEN 'null'")
"""The path of a sort index's type-rank expression, as ``pg_get_indexdef`` writes it."""


def sort_index_fields(index_definitions: Iterable[str]) -> frozenset[str]:
    """The fields that have a :func:`sort_index_statement` index, from the definitions
    PostgreSQL gives of the indexes of ``records`` (``pg_get_indexdef``)."""
    fields = set()
    for definition in index_definitions:
        match = _INDEXED_PATH.search(definition)
        if match is None or 'COLLATE "C"' not in definition:
            continue
        if match.group(1):
            steps = re.findall(r"'([A-Za-z0-9_-]+)'", match.group(1))
        else:
            steps = match.group(2).split(",")
        fields.add(".".join(steps))
    return frozenset(fields)


def _containable(field: str, values: Sequence[Any]) -> bool:
    """True when ``data @> ...`` answers exactly (object keys only, scalar values)."""
    if _column(field.split(".")[0]):
        return False
    if any(ev._ARRAY_INDEX.fullmatch(step) for step in field.split(".")):
        return False
    return all(ev.json_type(value) not in ("array", "object") for value in values)


def _containment(field: str, value: Any, params: Params) -> str:
    document: Any = value
    for step in reversed(field.split(".")):
        document = {step: document}
    return f"(data @> {params.json(document)})"


def _equal_sql(flt: Filter, params: Params) -> str:
    if _column(flt.field) and _column_value(flt.field, flt.value):
        column, bound = _column_sql(flt.field, params, flt.value)
        return f"({column} = {bound})"
    if _containable(flt.field, [flt.value]):
        return _containment(flt.field, flt.value, params)
    return f"({value_sql(flt.field, params)} = {params.json(flt.value)})"


def _in_sql(flt: Filter, params: Params) -> str:
    values = ev.as_list(flt.value)
    if _column(flt.field) and all(_column_value(flt.field, v) for v in values):
        encoded = [textcodec.encode_text(v) if isinstance(v, str) else v for v in values]
        column = "id" if flt.field == ID_FIELD else flt.field
        return f"({column} = ANY({params.add(encoded)}))"
    return f"({value_sql(flt.field, params)} = ANY({params.json_list(values)}))"


def _elements(x: str) -> str:
    return f"jsonb_array_elements(CASE WHEN jsonb_typeof({x}) = 'array' THEN {x} ELSE '[]' END)"


def _array_sql(flt: Filter, params: Params) -> str:
    values = ev.as_list(flt.value)
    if flt.operator is COMPARISON.CONTAINS and _containable(flt.field, values):
        return _containment(flt.field, values, params)
    x = value_sql(flt.field, params)
    wanted = params.json_list(values)
    if flt.operator is COMPARISON.CONTAINS:
        return (
            f"(jsonb_typeof({x}) = 'array' AND NOT EXISTS (SELECT 1 FROM unnest({wanted}) w"
            f" WHERE NOT EXISTS (SELECT 1 FROM {_elements(x)} e WHERE e = w)))"
        )
    return f"(EXISTS (SELECT 1 FROM {_elements(x)} e WHERE e = ANY({wanted})))"


def _like_pattern(value: Any) -> str:
    text = ev.like_text(value).lower()
    if "*" not in text:
        text = f"*{text}*"
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return textcodec.encode_text(escaped.replace("*", "%"))


_ENCODED_CHARACTER = "(?:[^\x01]|\x01.)"


def _like_regex(value: Any) -> str:
    """An anchored regex for patterns holding encoded characters: matches whole tokens only."""
    text = ev.like_text(value).lower()
    if "*" not in text:
        text = f"*{text}*"
    segments = ["".join("\\" + c if not c.isalnum() else c for c in textcodec.encode_text(part))
                for part in text.split("*")]
    return "^" + f"{_ENCODED_CHARACTER}*".join(segments) + "$"


def _like_sql(flt: Filter, params: Params) -> str:
    x = value_sql(flt.field, params)
    lowered = f"lower({x} #>> '{{}}')"
    text = ev.like_text(flt.value)
    if "\x00" in text or "\x01" in text:
        condition = f"{lowered} ~ {params.add(_like_regex(flt.value))}"
    else:
        condition = f"{lowered} LIKE {params.add(_like_pattern(flt.value))}"
    return f"(jsonb_typeof({x}) = 'string' AND {condition})"


def filter_sql(flt: Filter, params: Params) -> str:
    """The condition selecting the rows that satisfy ``flt``."""
    operator = flt.operator
    if operator is COMPARISON.EQ:
        return _equal_sql(flt, params)
    if operator is COMPARISON.NOT:
        return f"({value_sql(flt.field, params)} IS DISTINCT FROM {params.json(flt.value)})"
    if operator in _OPERATORS:
        return _range_sql(flt, params)
    if operator is COMPARISON.IN:
        return _in_sql(flt, params)
    if operator is COMPARISON.EXCLUDE:
        inside = _in_sql(Filter(flt.field, flt.value, COMPARISON.IN), params)
        return f"({value_sql(flt.field, params)} IS NULL OR NOT {inside})"
    if operator is COMPARISON.LIKE:
        return _like_sql(flt, params)
    if operator is COMPARISON.HAS:
        test = "IS NOT NULL" if ev.has_wanted(flt.value) else "IS NULL"
        return f"({value_sql(flt.field, params)} {test})"
    return _array_sql(flt, params)


def order_sql(sorting: Sequence[Sort], params: Params) -> str:
    """The ``ORDER BY`` list of a listing (``sorting`` completed by ``listing_sort``)."""
    terms = []
    for sort in sorting:
        direction = "ASC" if sort.direction > 0 else "DESC"
        if sort.field == MODIFIED_FIELD:
            terms.append(f"last_modified {direction}")
        elif sort.field == ID_FIELD:
            terms.append(f'id COLLATE "C" {direction}')
        else:
            x = value_sql(sort.field, params)
            terms += [
                f"{_RANK_SQL.format(x=x)} {direction}",
                f'{_STRING_KEY_SQL.format(x=x)} COLLATE "C" {direction}',
                f"{x} {direction}",
            ]
    return ", ".join(terms)


def _equal_keyset(field: str, value: Any, params: Params) -> str:
    if value is MISSING:
        return "FALSE" if _column(field) else f"({value_sql(field, params)} IS NULL)"
    if _column(field) and _column_value(field, value):
        column, bound = _column_sql(field, params, value)
        return f"({column} = {bound})"
    return f"({value_sql(field, params)} = {params.json(value)})"


def _after_keyset(sort: Sort, value: Any, params: Params) -> str:
    """Rows strictly after ``value`` on one sort field."""
    ascending = sort.direction > 0
    rank = ev.sort_key(value)[0]
    operator = ">" if ascending else "<"
    if _column(sort.field):
        column_rank = _COLUMN_RANKS[sort.field]
        if column_rank != rank:
            return "TRUE" if (column_rank > rank) == ascending else "FALSE"
        column, bound = _column_sql(sort.field, params, value)
        return f"({column} {operator} {bound})"
    x = value_sql(sort.field, params)
    ranked = f"{_RANK_SQL.format(x=x)}"
    beyond = f"({ranked} {operator} {rank})"
    if value is MISSING or value is None:
        return beyond
    same = _typed_compare(x, value, operator, params)
    return f"({beyond} OR ({ranked} = {rank} AND {same}))"


def keyset_sql(sorting: Sequence[Sort], keyset: Keyset, params: Params) -> str:
    """Rows strictly after the keyset in the ``sorting`` order."""
    alternatives = []
    for index, sort in enumerate(sorting):
        ties = [
            _equal_keyset(previous.field, keyset.values.get(previous.field, MISSING), params)
            for previous in sorting[:index]
        ]
        after = _after_keyset(sort, keyset.values.get(sort.field, MISSING), params)
        alternatives.append("(" + " AND ".join([*ties, after]) + ")")
    return "(" + " OR ".join(alternatives) + ")" if alternatives else "TRUE"


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sort_index_statement(field: str, name: str, direction: int = -1) -> str:
    """``CREATE INDEX`` serving listings sorted on the data ``field`` in ``direction``.

    Its expressions are those :func:`order_sql` sorts on, so PostgreSQL walks the index
    instead of sorting the whole collection. Ties are always broken newest first (the
    ``last_modified`` descending that listings append), so an index serves one direction:
    ``-1`` for ``_sort=-field`` (the default), ``1`` for ``_sort=field``; with the other
    direction's index, PostgreSQL walks it but sorts every group of equal values. For
    operators: ``cliquetish`` does not create it.

    :raises ValueError: ``name`` is not a plain SQL identifier, or ``direction`` is not 1 or -1.
    """
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain SQL identifier")
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, not {direction!r}")
    steps = ", ".join(_literal(step) for step in _steps(field))
    x = f"(data #> ARRAY[{steps}])"
    ties = "last_modified" if direction < 0 else "last_modified DESC"
    return (
        f"CREATE INDEX IF NOT EXISTS {name} ON records (parent_id, collection_id, "
        f"{_RANK_SQL.format(x=x)}, "
        f"({_STRING_KEY_SQL.format(x=x)} COLLATE \"C\"), "
        f"{x}, {ties})"
    )
