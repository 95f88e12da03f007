"""Reads of the PostgreSQL client: pooled autocommit connections and prepared statements."""

from __future__ import annotations

import os
import threading
import time

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


def test_values_the_prepared_types_refuse_run_unprepared(client: PostgreSQLClient) -> None:
    # A list travels as ARRAY['...'] (text[]): the cast in the statement converts it, but
    # EXECUTE refuses it for a jsonb[] parameter.
    statement = "SELECT count(*) FROM unnest(CAST(:values AS jsonb[])) v WHERE v <> 'null'"
    assert client.read(statement, {"values": ['"a"', "2"]}, prepare=True) == [(2,)]
    assert client.read(statement, {"values": ["[1]"]}, prepare=True) == [(1,)]
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


def test_a_read_outside_a_transaction_opens_none(client: PostgreSQLClient) -> None:
    transaction.begin()
    client.read(f"SELECT v FROM {TABLE}", prepare=True)
    assert client.engine.pool.checkedout() == 0  # a pool of one: nothing kept
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


# Connections kept between reads (cliquetish.storage.postgresql.readpool)

@pytest.fixture()
def roomy_client(postgresql_url: str, client: PostgreSQLClient) -> PostgreSQLClient:
    """A client whose pool (4 connections, no overflow) lets threads keep 2 read connections;
    its own engine, disposed after the test."""
    roomy = create_client({"storage_url": f"{postgresql_url}?application_name=reads_keep",
                           "storage_pool_size": 4, "storage_max_overflow": 0}, "storage")
    roomy.engine.dispose()
    yield roomy
    roomy.engine.dispose()


def backend_pid(client: PostgreSQLClient) -> int:
    (pid,), = client.read("SELECT pg_backend_pid()")
    return pid


def test_a_pool_with_no_connection_to_spare_keeps_none(client: PostgreSQLClient) -> None:
    assert client.read_connections.limit == 0
    client.read(f"SELECT v FROM {TABLE}", prepare=True)
    assert client.engine.pool.checkedout() == 0
    assert client.read_connections.kept == 0


def test_a_thread_keeps_its_read_connection(roomy_client: PostgreSQLClient) -> None:
    assert roomy_client.read_connections.limit == 2
    first = backend_pid(roomy_client)
    assert roomy_client.engine.pool.checkedout() == 1
    assert backend_pid(roomy_client) == first
    assert roomy_client.read_connections.kept == 1
    # Still autocommit: each statement is a transaction of its own.
    assert roomy_client.read("SELECT now() = statement_timestamp()") == [(True,)]
    # A write takes another connection from the pool and commits as usual.
    with roomy_client.connect(join_transaction=False) as connection:
        connection.execute(sa.text(f"INSERT INTO {TABLE} VALUES (3, 'three')"))
    assert roomy_client.read(f"SELECT v FROM {TABLE} WHERE k = 3") == [("three",)]


def test_at_most_half_of_the_pool_is_kept(roomy_client: PostgreSQLClient) -> None:
    pids: list[int] = []
    release = threading.Event()

    def read_then_wait() -> None:
        pids.append(backend_pid(roomy_client))
        release.wait(10)

    threads = [threading.Thread(target=read_then_wait) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(pids) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pids) == 4
        assert roomy_client.read_connections.kept == 2
        assert roomy_client.engine.pool.checkedout() == 2
        # Writes still find the other half of the pool.
        with roomy_client.connect(join_transaction=False) as one, \
                roomy_client.connect(join_transaction=False) as two:
            assert one.execute(sa.text("SELECT 1")).scalar() == 1
            assert two.execute(sa.text("SELECT 2")).scalar() == 2
    finally:
        release.set()
        for thread in threads:
            thread.join()


def test_kept_connections_of_ended_threads_are_reclaimed(
        roomy_client: PostgreSQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    both_read = threading.Barrier(2)

    def read_then_end() -> None:
        backend_pid(roomy_client)
        both_read.wait(10)

    threads = [threading.Thread(target=read_then_end) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert roomy_client.read_connections.kept == 2
    monkeypatch.setattr(roomy_client.read_connections, "idle_seconds", 0.0)
    # The limit is reached: the stale ones go back to the pool, this thread keeps its own.
    backend_pid(roomy_client)
    assert roomy_client.read_connections.kept == 1
    assert roomy_client.engine.pool.checkedout() == 1


def test_an_idle_kept_connection_is_pinged_before_use(
        roomy_client: PostgreSQLClient, postgresql_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roomy_client.read_connections, "idle_seconds", 0.05)
    pid = backend_pid(roomy_client)
    admin = psycopg2.connect(postgresql_url)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()
    time.sleep(0.1)
    # Idle for longer than the ping delay: pinged, found dead, replaced. No error.
    assert backend_pid(roomy_client) != pid
    assert roomy_client.engine.pool.checkedout() == 1


def test_a_failed_read_drops_the_kept_connection(roomy_client: PostgreSQLClient) -> None:
    first = backend_pid(roomy_client)
    with pytest.raises(BackendError):
        roomy_client.read("SELECT * FROM no_such_table_here")
    assert roomy_client.read_connections.kept == 0
    assert roomy_client.engine.pool.checkedout() == 0
    assert backend_pid(roomy_client) != first


def test_disposing_the_engine_closes_kept_connections(
        roomy_client: PostgreSQLClient, postgresql_url: str) -> None:
    pid = backend_pid(roomy_client)
    roomy_client.engine.dispose()
    assert roomy_client.read_connections.kept == 0
    admin = psycopg2.connect(postgresql_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            assert cursor.fetchone() == (0,) or _gone_soon(cursor, pid)
    finally:
        admin.close()
    assert backend_pid(roomy_client) != pid


def _gone_soon(cursor: object, pid: int) -> bool:
    """The server removes a closed session from pg_stat_activity within moments."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        if cursor.fetchone() == (0,):
            return True
        time.sleep(0.05)
    return False


def test_a_forked_process_does_not_use_its_parents_connection(
        roomy_client: PostgreSQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from cliquetish.storage.postgresql import readpool

    parent = backend_pid(roomy_client)
    monkeypatch.setitem(readpool._PROCESS, "pid", os.getpid() + 1)  # as in a forked child
    child = backend_pid(roomy_client)
    assert child != parent
    # The parent's connection was neither used nor closed: still a live session.
    assert readpool._FOREIGN and readpool._FOREIGN[-1].dbapi_connection.closed == 0
    monkeypatch.undo()
    readpool._FOREIGN.pop().invalidate()  # the "parent" is this process: close it here


def test_a_forked_child_knows_its_own_process_id() -> None:
    from cliquetish.storage.postgresql import readpool

    assert readpool._PROCESS["pid"] == os.getpid()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports what the read pool believes its process id is
        os.write(writing, f"{readpool._PROCESS['pid']} {os.getpid()}".encode())
        os._exit(0)
    os.close(writing)
    seen, actual = os.read(reading, 100).decode().split()
    os.close(reading)
    os.waitpid(child, 0)
    assert seen == actual != str(os.getpid())
    assert readpool._PROCESS["pid"] == os.getpid()
