"""EXPLAIN ANALYZE of the PostgreSQL storage's listings on a 1,000,000-record collection.

    python bench/explain_storage.py [--records 1000000] [--keep]

Creates the scratch database ``cliquetish_explain`` (on ``--server``, default the local
PostgreSQL), applies the storage schema, bulk-loads ``--records`` records into one collection
(plus a second parent with some tombstones), runs ``ANALYZE``, then for each listing
captures the exact statement the storage sends, prints its ``EXPLAIN (ANALYZE, BUFFERS)`` plan
and the median time of the storage call; then creates the index of
:func:`~cliquetish.storage.postgresql.queries.sort_index_statement` for ``rank`` and measures
the sort on it again; then creates the ascending one too and measures two ranges on ``rank``
sorted on it, as the range alone and seeking the index to its start; and finally drops the
database (unless ``--keep``).
The output is the text shown in docs/backends.rst.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from cliquetish.storage import COMPARISON, Filter, Keyset, Sort
from cliquetish.storage.postgresql import PostgreSQLStorage
from cliquetish.storage.postgresql.client import create_client, driver_sql
from cliquetish.storage.postgresql.queries import sort_index_statement
from cliquetish.storage.postgresql.statements import INDEX_DEFINITIONS

DATABASE = "cliquetish_explain"
COLLECTION, PARENT = "articles", "/users/bench"
BASE_STAMP = 1_700_000_000_000

LOAD = """
INSERT INTO records (id, parent_id, collection_id, last_modified, data, deleted)
SELECT 'id-' || i, :parent, :collection, :base + i,
       jsonb_build_object('rank', i % 10000, 'title', 'Article number ' || i,
                          'tags', jsonb_build_array('tag' || (i % 7), 'all')),
       FALSE
FROM generate_series(1, :count) AS i
"""

SMALL = """
INSERT INTO records (id, parent_id, collection_id, last_modified, data, deleted)
SELECT 'other-' || i, '/users/other', :collection, :base + i, jsonb_build_object('rank', i),
       i % 10 = 0
FROM generate_series(1, 10000) AS i
"""


def admin_execute(server: str, statement: str) -> None:
    """Run ``statement`` outside a transaction on the ``postgres`` database."""
    engine = sa.create_engine(f"{server}/postgres".replace("postgresql://",
                                                           "postgresql+psycopg2://"),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def load(storage: PostgreSQLStorage, count: int) -> float:
    """Bulk-load the collection; return the seconds it took (VACUUM ANALYZE included)."""
    started = time.perf_counter()
    params = {"parent": PARENT, "collection": COLLECTION, "base": BASE_STAMP, "count": count}
    with storage.client.connect() as connection:
        connection.execute(sa.text(LOAD), params)
        connection.execute(sa.text(SMALL), {"collection": COLLECTION, "base": BASE_STAMP})
        connection.execute(sa.text(
            "INSERT INTO timestamps VALUES (:parent, :collection, :stamp)"),
            {"parent": PARENT, "collection": COLLECTION, "stamp": BASE_STAMP + count})
    engine = storage.client.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # VACUUM also merges the GIN index's pending list
        connection.exec_driver_sql("VACUUM ANALYZE records")
        connection.exec_driver_sql("VACUUM ANALYZE timestamps")
    return time.perf_counter() - started


def captured_statement(storage: PostgreSQLStorage, call: Callable[[], Any]) -> str:
    """The SQL text (parameters inlined by the driver) of the listing ``call`` runs.

    Reads go to the driver on a pooled connection, outside SQLAlchemy's statement events: the
    client's ``read`` is wrapped for the call (the read of the index definitions is left out).
    """
    sent: list[tuple[str, Any]] = []
    read = storage.client.read

    def recorded(statement: str, params: Any = None, prepare: bool = False) -> Any:
        if statement != INDEX_DEFINITIONS:
            sent.append((statement, params))
        return read(statement, params, prepare)

    storage.client.read = recorded  # type: ignore[method-assign]
    try:
        call()
    finally:
        del storage.client.read  # the class's method again
    statement, params = sent[-1]
    connection = storage.client.engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            text = driver_sql(statement) if params else statement
            return cursor.mogrify(text, params or None).decode()
    finally:
        connection.close()


def explain(storage: PostgreSQLStorage, statement: str) -> str:
    """The ``EXPLAIN (ANALYZE, BUFFERS)`` plan of ``statement``."""
    with storage.client.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement).all()
    return "\n".join(row[0] for row in rows)


def median_ms(call: Callable[[], Any]) -> tuple[float, int]:
    """Median wall time of ``call`` in milliseconds and the number of calls timed (50, or 3
    for calls slower than 100 ms), after a warm-up call."""
    started = time.perf_counter()
    call()
    repeat = 50 if time.perf_counter() - started < 0.1 else 3
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), repeat


def listings(count: int) -> dict[str, Callable[[PostgreSQLStorage], Any]]:
    """The listings measured, by title."""
    newest = BASE_STAMP + count
    return {
        "Default listing (newest first), first page of 20":
            lambda s: s.get_all(COLLECTION, PARENT, limit=20),
        "Default listing, a page in the middle (keyset on last_modified)":
            lambda s: s.get_all(COLLECTION, PARENT, limit=20,
                                pagination_rules=Keyset({"last_modified": newest - count // 2})),
        "Equality filter rank=5000 (100 matches), first page of 20":
            lambda s: s.get_all(COLLECTION, PARENT, [Filter("rank", 5000)], limit=20),
        "Changes since a timestamp (_since, 20 newer, tombstones included)":
            lambda s: s.get_all(COLLECTION, PARENT, [Filter("last_modified", newest - 20,
                                                            COMPARISON.GT)],
                                include_deleted=True, limit=20),
        "Sort on a data field (-rank), first page of 20, no index on rank":
            lambda s: s.get_all(COLLECTION, PARENT, sorting=[Sort("rank", -1)], limit=20),
    }


def ranges_on_the_sort_index() -> dict[str, Callable[[PostgreSQLStorage], Any]]:
    """Range filters on ``rank`` sorted on it, once it has sort indexes (both directions)."""
    return {
        "max_rank=1000 sorted on -rank (the index walked backwards from rank 1000)":
            lambda s: s.get_all(COLLECTION, PARENT, [Filter("rank", 1000, COMPARISON.MAX)],
                                sorting=[Sort("rank", -1)], limit=20),
        "min_rank=5000 sorted on rank (the ascending index walked from rank 5000)":
            lambda s: s.get_all(COLLECTION, PARENT, [Filter("rank", 5000, COMPARISON.MIN)],
                                sorting=[Sort("rank", 1)], limit=20),
    }


class NoSeekStorage(PostgreSQLStorage):
    """The storage as it was before range filters sought the sort index (for comparison)."""

    def sort_indexed_fields(self) -> frozenset[str]:
        """No field is taken to have a sort index."""
        return frozenset()


def report(storage: PostgreSQLStorage, title: str,
           listing: Callable[[PostgreSQLStorage], Any]) -> None:
    """Print the timing, statement and plan of one listing."""
    statement = captured_statement(storage, lambda: listing(storage))
    timing, repeat = median_ms(lambda: listing(storage))
    print(f"{title}\n{'-' * len(title)}\n\nStorage call, median of {repeat}: {timing:.2f} ms"
          f"\n\n{statement}\n\n{explain(storage, statement)}\n")


def scratch_database(description: str, database: str) -> tuple[argparse.Namespace, str]:
    """The options of a scratch-database tool (``--records``, ``--server``, ``--keep``) and
    the URL of ``database``, dropped and created again on that server."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    admin_execute(options.server, f"DROP DATABASE IF EXISTS {database}")
    admin_execute(options.server, f"CREATE DATABASE {database}")
    return options, f"{options.server}/{database}"


def main() -> None:
    options, url = scratch_database(__doc__.splitlines()[0], DATABASE)
    storage = PostgreSQLStorage(create_client({"storage_url": url}, "storage"))
    try:
        storage.initialize_schema()
        seconds = load(storage, options.records)
        print(f"Loaded {options.records:,} records (+10,000 elsewhere) in {seconds:.1f} s\n")
        for title, listing in listings(options.records).items():
            report(storage, title, listing)
        with storage.client.connect() as connection:
            connection.exec_driver_sql(sort_index_statement("rank", "records_rank_sort_idx"))
            connection.exec_driver_sql("ANALYZE records")
        report(storage, "The same sort on -rank, with the index of sort_index_statement('rank')",
               listings(options.records)["Sort on a data field (-rank), first page of 20, "
                                         "no index on rank"])
        with storage.client.connect() as connection:
            connection.exec_driver_sql(sort_index_statement("rank", "records_rank_asc_idx", 1))
            connection.exec_driver_sql("ANALYZE records")
        # New storages: the first one read the indexes before the sort indexes existed.
        client = create_client({"storage_url": url}, "storage")
        for title, listing in ranges_on_the_sort_index().items():
            report(NoSeekStorage(client), f"{title}, the range alone", listing)
            report(PostgreSQLStorage(client), f"{title}, seeking the index", listing)
    finally:
        storage.client.engine.dispose()
        if not options.keep:
            admin_execute(options.server, f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    main()
