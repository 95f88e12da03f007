"""Reads of the PostgreSQL client: pooled autocommit connections and prepared statements."""

from __future__ import annotations

import psycopg2
import pytest
import sqlalchemy as sa
import transaction

from cliquetish.storage.exceptions import BackendError
from cliquetish.storage.postgresql.client import PostgreSQLClient, create_client
from cliquetish.storage.postgresql.prepared import PreparedStatement, prepared_statement

TABLE = "reads_probe"
PREPARED_NAMES = "SELECT name FROM pg_prepared_statements ORDER BY name"


@pytest.fixture(scope="module")
def client(postgresql_url: str) -> PostgreSQLClient:
    """A client with a pool of ONE connection (its own engine): every read meets the same
    server session, so what it prepared can be seen."""
    url = f"{postgresql_url}?target_session_attrs=any"
    client = create_client({"storage_url": url, "storage_pool_size": 1,
                            "storage_max_overflow": 0}, "storage")
    with client.connect(join_transaction=False) as connection:
        connection.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {TABLE} (k int, v text)"))
    yield client
    with client.connect(join_transaction=False) as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))


@pytest.fixture(autouse=True)
def clean(client: PostgreSQLClient) -> None:
    transaction.abort()
    with client.connect(join_transaction=False) as connection:
        connection.execute(sa.text(f"DELETE FROM {TABLE}"))
        connection.execute(sa.text(f"INSERT INTO {TABLE} VALUES (1, 'one'), (2, 'two')"))
    client.engine.dispose()  # a new server session: nothing prepared
    yield
    transaction.abort()


def prepared_names(client: PostgreSQLClient) -> list[str]:
    return [row[0] for row in client.read(PREPARED_NAMES)]


def test_placeholders_become_numbered_parameters() -> None:
    statement = PreparedStatement("SELECT :a, CAST(:b AS jsonb)::text, :a WHERE x = 'y:z'")
    assert statement.parameters == ("a", "b")
    assert statement.prepare_sql.endswith("AS SELECT $1, CAST($2 AS jsonb)::text, $1 "
                                          "WHERE x = 'y:z'")
    assert statement.values({"b": 2, "a": 1}) == [1, 2]
    assert prepared_statement("SELECT 1") is prepared_statement("SELECT 1")


def test_a_prepared_read_is_prepared_once_per_connection(client: PostgreSQLClient) -> None:
    statement = f"SELECT v FROM {TABLE} WHERE k = :k"
    name = prepared_statement(statement).name
    assert client.read(statement, {"k": 1}, prepare=True) == [("one",)]
    assert client.read(statement, {"k": 2}, prepare=True) == [("two",)]
    assert client.read(statement, {"k": 3}, prepare=True) == []
    assert prepared_names(client) == [name]


def test_an_unprepared_read_prepares_nothing(client: PostgreSQLClient) -> None:
    assert client.read(f"SELECT v FROM {TABLE} WHERE k = :k", {"k": 1}) == [("one",)]
    assert prepared_names(client) == []


def test_values_are_bound_not_spliced(client: PostgreSQLClient) -> None:
    statement = f"SELECT k FROM {TABLE} WHERE v = :v"
    hostile = "one'; DROP TABLE reads_probe; --"
    assert client.read(statement, {"v": hostile}, prepare=True) == []
    assert client.read(statement, {"v": "one"}, prepare=True) == [(1,)]


def test_a_statement_the_server_cannot_prepare_runs_unprepared(
        client: PostgreSQLClient) -> None:
    statement = "SELECT :a + :b"  # unknown + unknown: the server cannot choose an operator
    assert client.read(statement, {"a": 1, "b": 2}, prepare=True) == [(3,)]
    assert client.read(statement, {"a": 3, "b": 4}, prepare=True) == [(7,)]
    assert prepared_names(client) == []


def test_a_statement_deallocated_behind_its_back_is_prepared_again(
        client: PostgreSQLClient) -> None:
    statement = f"SELECT v FROM {TABLE} WHERE k = :k"
    assert client.read(statement, {"k": 1}, prepare=True) == [("one",)]
    client.read("DEALLOCATE ALL")
    assert client.read(statement, {"k": 2}, prepare=True) == [("two",)]
    assert prepared_names(client) == [prepared_statement(statement).name]


def test_a_changed_table_replans_the_statement(client: PostgreSQLClient) -> None:
    statement = f"SELECT * FROM {TABLE} WHERE k = :k"
    assert client.read(statement, {"k": 1}, prepare=True) == [(1, "one")]
    with client.connect(join_transaction=False) as connection:
        connection.execute(sa.text(f"ALTER TABLE {TABLE} ADD COLUMN extra int DEFAULT 7"))
    try:
        assert client.read(statement, {"k": 1}, prepare=True) == [(1, "one", 7)]
    finally:
        with client.connect(join_transaction=False) as connection:
            connection.execute(sa.text(f"ALTER TABLE {TABLE} DROP COLUMN extra"))


def test_a_read_outside_a_transaction_holds_no_connection(client: PostgreSQLClient) -> None:
    transaction.begin()
    client.read(f"SELECT v FROM {TABLE}", prepare=True)
    assert client.engine.pool.checkedout() == 0
    # Autocommit: each statement is a transaction of its own.
    assert client.read("SELECT now() = statement_timestamp()") == [(True,)]


def test_a_read_after_a_write_sees_it_in_the_transaction(client: PostgreSQLClient) -> None:
    transaction.begin()
    with client.connect() as connection:
        connection.execute(sa.text(f"INSERT INTO {TABLE} VALUES (3, 'three')"))
    statement = f"SELECT v FROM {TABLE} WHERE k = :k"
    assert client.read(statement, {"k": 3}, prepare=True) == [("three",)]
    transaction.abort()
    assert client.read(statement, {"k": 3}, prepare=True) == []


def test_a_failed_read_is_a_backend_error_and_the_pool_recovers(
        client: PostgreSQLClient) -> None:
    with pytest.raises(BackendError) as raised:
        client.read("SELECT * FROM no_such_table_here")
    assert isinstance(raised.value.original, psycopg2.Error)
    assert client.read(f"SELECT count(*) FROM {TABLE}") == [(2,)]
    assert client.engine.pool.checkedout() == 0


def test_a_connection_killed_by_the_server_fails_one_read_then_is_replaced(
        client: PostgreSQLClient, postgresql_url: str) -> None:
    statement = f"SELECT v FROM {TABLE} WHERE k = :k"
    client.read(statement, {"k": 1}, prepare=True)
    (pid,), = client.read("SELECT pg_backend_pid()")
    admin = psycopg2.connect(postgresql_url)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()
    try:
        first = client.read(statement, {"k": 1}, prepare=True)
    except BackendError:
        first = None  # met the dead connection (a connection idle for long is pinged first)
    assert first in (None, [("one",)])
    assert client.read(statement, {"k": 1}, prepare=True) == [("one",)]
    assert client.read("SELECT pg_backend_pid()") != [(pid,)]


def test_only_small_unfiltered_listings_are_prepared() -> None:
    from cliquetish.storage import COMPARISON, Filter
    from cliquetish.storage.postgresql import PREPARED_LISTING_MAX_LIMIT, _plan_fits_all

    assert _plan_fits_all([], 21)
    assert _plan_fits_all([], PREPARED_LISTING_MAX_LIMIT)
    assert not _plan_fits_all([], PREPARED_LISTING_MAX_LIMIT + 1)
    assert not _plan_fits_all([], None)
    assert not _plan_fits_all([Filter("last_modified", 10, COMPARISON.GT)], 21)
    assert not _plan_fits_all([Filter("rank", 5000, COMPARISON.MIN)], 21)


def test_a_connection_prepares_a_bounded_number_of_statements(
        client: PostgreSQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from cliquetish.storage.postgresql import prepared

    monkeypatch.setattr(prepared, "MAX_PREPARED_PER_CONNECTION", 3)
    for k in range(6):
        statement = f"SELECT v FROM {TABLE} WHERE k = :k AND {k} = {k}"
        assert client.read(statement, {"k": 1}, prepare=True) == [("one",)]
    assert len(prepared_names(client)) == 3


def test_connections_that_prepare_use_generic_plans(client: PostgreSQLClient) -> None:
    assert client.read("SHOW plan_cache_mode") == [("auto",)]
    client.read(f"SELECT v FROM {TABLE} WHERE k = :k", {"k": 1}, prepare=True)
    assert client.read("SHOW plan_cache_mode") == [("force_generic_plan",)]
