"""Server-side prepared statements on pooled psycopg2 connections.

A statement run often with the same shape (a record by id, a user's principals) is parsed and
planned once per connection with ``PREPARE``, then run with ``EXECUTE``: the server skips the
parse and the planning. Only statements whose best plan does not depend on the values are worth
it (and safe): a filtered listing is planned for its values on every run instead.

Which statements a connection has prepared is kept in the pool's record of that connection, so
a connection the pool replaces starts with none. A statement the server refuses to prepare is
run unprepared from then on, and a prepared statement that became invalid (``DEALLOCATE ALL``,
a schema change) is prepared again.

The connections that prepare statements plan them once, generically
(``plan_cache_mode = force_generic_plan``, a setting that only concerns prepared statements):
PostgreSQL's own choice keeps planning a sorted listing for its values at every run, which
costs more than the run itself. Only statements whose plan has one best shape are prepared:
lookups by key, and small pages of listings without filters (their sort paths and limits
are written in the statement, see :mod:`.queries`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import psycopg2
import psycopg2.errors

__all__ = ["GENERIC_PLANS", "MAX_PREPARED_PER_CONNECTION", "PreparedStatement",
           "prepared_statement", "run_prepared"]

_PLACEHOLDER = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")
"""A ``:name`` placeholder, as :func:`sqlalchemy.text` finds them."""

_INFO_KEY = "cliquetish.prepared"

GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"

MAX_PREPARED_PER_CONNECTION = 200
"""Statements a connection prepares at most; later ones run unprepared (listings come in many
shapes: this bounds what each server session keeps)."""

_UNPREPARABLE: set[str] = set()
"""Names of statements the server refused to prepare (run unprepared in this process)."""

_PREPARE_REFUSED_CLASS = "42"
"""SQLSTATE class of the errors of a ``PREPARE`` the server refuses (syntax or types)."""

_STALE = (psycopg2.errors.InvalidSqlStatementName, psycopg2.errors.FeatureNotSupported)
"""Errors of ``EXECUTE`` meaning the prepared statement is gone or its plan is outdated."""


class PreparedStatement:
    """One statement with ``:name`` placeholders, in its ``PREPARE`` and ``EXECUTE`` forms."""

    def __init__(self, statement: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.name = "cq_" + hashlib.sha1(statement.encode(), usedforsecurity=False).hexdigest()[:20]
        body = _PLACEHOLDER.sub(number, statement)
        self.parameters = tuple(names)
        arguments = f"({', '.join(['%s'] * len(names))})" if names else ""
        self.execute_sql = f"EXECUTE {self.name}{arguments}"
        self.prepare_sql = f"PREPARE {self.name} AS {body}"
        self.plain_sql = _PLACEHOLDER.sub(r"%(\1)s", statement.replace("%", "%%"))

    def values(self, params: Mapping[str, Any] | None) -> list[Any]:
        """The parameters in ``$1, $2...`` order."""
        params = params or {}
        return [params[name] for name in self.parameters]


@functools.lru_cache(maxsize=512)
def prepared_statement(statement: str) -> PreparedStatement:
    """The prepared form of ``statement`` (converted once per process)."""
    return PreparedStatement(statement)


def _prepared_names(record_info: dict[str, Any], driver: Any, cursor: Any) -> set[str]:
    """The statements prepared on ``driver``, kept with the pool's record of the connection.

    A connection seen for the first time is told to use generic plans (see the module).
    """
    entry = record_info.get(_INFO_KEY)
    if entry is None or entry[0] is not driver:
        cursor.execute(GENERIC_PLANS)
        entry = record_info[_INFO_KEY] = (driver, set())
    return entry[1]


def run_prepared(record_info: dict[str, Any], driver: Any, statement: str,
                 params: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    """Rows of ``statement`` run on ``driver`` (a psycopg2 connection in autocommit mode),
    prepared on that connection first if it was not yet.

    :raises psycopg2.Error: the statement failed.
    """
    prepared = prepared_statement(statement)
    with driver.cursor() as cursor:
        if prepared.name in _UNPREPARABLE:
            cursor.execute(prepared.plain_sql, params or None)
            return cursor.fetchall()
        names = _prepared_names(record_info, driver, cursor)
        values = prepared.values(params)
        if prepared.name in names:
            try:
                return _executed(cursor, prepared, values, names, params)
            except _STALE:
                cursor.execute("DEALLOCATE ALL")
                names.clear()
        if len(names) >= MAX_PREPARED_PER_CONNECTION:
            cursor.execute(prepared.plain_sql, params or None)
            return cursor.fetchall()
        try:
            cursor.execute(prepared.prepare_sql)
        except psycopg2.ProgrammingError as error:
            if not (error.pgcode or "").startswith(_PREPARE_REFUSED_CLASS):
                raise
            # Parameter types the server cannot infer on their own, for instance.
            _UNPREPARABLE.add(prepared.name)
            cursor.execute(prepared.plain_sql, params or None)
            return cursor.fetchall()
        names.add(prepared.name)
        return _executed(cursor, prepared, values, names, params)


def _executed(cursor: Any, prepared: PreparedStatement, values: list[Any], names: set[str],
              params: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    """Rows of ``EXECUTE``. Values the prepared types refuse (a list, sent as a ``text[]``,
    where the statement casts it to ``jsonb[]``: a cast written in the statement applies to
    the value itself, but ``EXECUTE`` only coerces its arguments) make the statement run
    unprepared from then on."""
    try:
        cursor.execute(prepared.execute_sql, values)
    except psycopg2.ProgrammingError as error:
        if not (error.pgcode or "").startswith(_PREPARE_REFUSED_CLASS):
            raise
        _UNPREPARABLE.add(prepared.name)
        cursor.execute(f"DEALLOCATE {prepared.name}")
        names.discard(prepared.name)
        cursor.execute(prepared.plain_sql, params or None)
    return cursor.fetchall()
