"""What the bounded walk of filtered listings costs and saves, on a 1,000,000-record collection.

    python bench/walks.py [--records 1000000] [--keep]

Creates the scratch database ``cliquetish_walks`` (dropped afterwards unless ``--keep``),
bulk-loads the collection of ``explain_storage.py`` (``rank`` = i % 10000) with the creator's
``write`` entry per record in the same database, creates the sort index on ``-rank``, then times
``get_all_with_timestamp`` (what a GET listing calls) for each listing, with the bench user's
read filter, three ways:

* **planned**: no walk, the listing planned for its values (as before the walk existed);
* **walked first**: a walk first at every call, as for a statement shape not seen before
  (falling back to the planned listing when the walk does not fill the page);
* **steady**: the storage's own memory of outcomes, after 20 calls of the same shape.

Prints the median wall time of 50 calls (3 for calls over 100 ms) of each, and whether the walk
filled the page (see :mod:`cliquetish.storage.postgresql.walk`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from explain_storage import (
    BASE_STAMP,
    COLLECTION,
    DATABASE,
    PARENT,
    admin_execute,
    load,
    median_ms,
    scratch_database,
)

from cliquetish.permission.postgresql import Permission
from cliquetish.storage import COMPARISON, Filter, ReadFilter, Sort
from cliquetish.storage.postgresql import PostgreSQLStorage, walk
from cliquetish.storage.postgresql.client import create_client
from cliquetish.storage.postgresql.queries import sort_index_statement

WALKS_DATABASE = DATABASE.replace("explain", "walks")
PRINCIPAL = "bench"
OBJECT_PREFIX = f"{PARENT}/articles/"

ENTRIES = f"""
INSERT INTO access_control_entries (object_id, permission, principal)
SELECT '{OBJECT_PREFIX}' || id, 'write', '{PRINCIPAL}' FROM records WHERE parent_id = '{PARENT}'
"""


class PlannedStorage(PostgreSQLStorage):
    """The storage without walks: every filtered listing planned for its values."""

    def _walks_in_order(self, sorting: Any, limit: int) -> bool:
        return False


def listings(count: int) -> dict[str, tuple[list[Filter], list[Sort], int | None, bool]]:
    """Title: filters, sorting, records asked (the page plus one), tombstones included."""
    newest = BASE_STAMP + count
    return {
        "min_rank=5000 (half of the records), _limit=20":
            ([Filter("rank", 5000, COMPARISON.MIN)], [], 21, False),
        "_since, 20 newer, no _limit (10,001 asked)":
            ([Filter("last_modified", newest - 20, COMPARISON.GT)], [], 10001, True),
        "_since, 5,000 newer, no _limit (more than the window)":
            ([Filter("last_modified", newest - 5000, COMPARISON.GT)], [], 10001, True),
        "min_rank=9990 sorted on -rank (the index walked from the top), _limit=20":
            ([Filter("rank", 9990, COMPARISON.MIN)], [Sort("rank", -1)], 21, False),
        "rank=5000 (one record in 10,000), _limit=20":
            ([Filter("rank", 5000)], [], 21, False),
        "max_rank=9 (one record in 1,000), _limit=20":
            ([Filter("rank", 9, COMPARISON.MAX)], [], 21, False),
    }


def measured(title: str, listing: tuple[list[Filter], list[Sort], int | None, bool],
             client: Any, readable: ReadFilter) -> str:
    """The table row of one listing: planned, walked first, whether the walk filled the
    page, steady."""
    filters, sorting, fetch, deleted = listing

    def call(on: PostgreSQLStorage) -> Callable[[], Any]:
        return lambda: on.get_all_with_timestamp(
            COLLECTION, PARENT, filters, sorting, None, fetch, deleted, readable)

    planned, steady, first = PlannedStorage(client), PostgreSQLStorage(client), \
        PostgreSQLStorage(client)
    filled: list[bool] = []

    def walked_first() -> Any:
        first.walk_outcomes = walk.WalkOutcomes()
        result = call(first)()
        filled.extend(rate == 1.0 for rate in first.walk_outcomes.rates().values())
        return result

    expected = [record["id"] for record in call(planned)()[0]]
    assert [record["id"] for record in walked_first()[0]] == expected, title
    for _ in range(20):
        call(steady)()
    planned_ms, _ = median_ms(call(planned))
    first_ms, _ = median_ms(walked_first)
    steady_ms, _ = median_ms(call(steady))
    return (f"| {title} | {planned_ms:.2f} | {first_ms:.2f} | "
            f"{'yes' if all(filled) else 'no'} | {steady_ms:.2f} |")


def main() -> None:
    options, url = scratch_database(__doc__.splitlines()[0], WALKS_DATABASE)
    client = create_client({"storage_url": url}, "storage")
    storage = PostgreSQLStorage(client)
    try:
        storage.initialize_schema()
        permission = Permission(create_client({"permission_url": url}, "permission"))
        permission.initialize_schema()
        seconds = load(storage, options.records)
        with client.connect() as connection:
            connection.exec_driver_sql(sort_index_statement("rank", "records_rank_sort_idx"))
            connection.exec_driver_sql(ENTRIES)
        engine = client.engine.execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:  # the sort index's statistics, the entries'
            connection.exec_driver_sql("VACUUM ANALYZE records")
            connection.exec_driver_sql("VACUUM ANALYZE access_control_entries")
        print(f"Loaded {options.records:,} records and their entries ({seconds:.1f} s for "
              "the records)\n")
        readable = ReadFilter((PRINCIPAL,), ("read", "write"), OBJECT_PREFIX, permission)
        print("| listing | planned ms | walked first ms | walk filled the page | steady ms |")
        print("|---|---|---|---|---|")
        for title, listing in listings(options.records).items():
            print(measured(title, listing, client, readable))
    finally:
        client.engine.dispose()
        if not options.keep:
            admin_execute(options.server, f"DROP DATABASE IF EXISTS {WALKS_DATABASE}")


if __name__ == "__main__":
    main()
