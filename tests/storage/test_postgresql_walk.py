"""Small filtered pages asked from a bounded walk of the sort order give the listing's answer,
whether the walk fills the page or falls back to the planned statement.

The answers are compared with ``get_all``, which never walks (the storage contract tests
compare it with the memory storage)."""

from __future__ import annotations

import itertools
import unittest
from typing import Any

from cliquetish.permission.postgresql import Permission
from cliquetish.storage import COMPARISON, Filter, Keyset, ReadFilter, Sort
from cliquetish.storage import evaluation as ev
from cliquetish.storage.postgresql import walk
from cliquetish.storage.postgresql.client import create_client
from cliquetish.storage.postgresql.queries import sort_index_statement
from tests.servers import require_postgresql
from tests.storage.postgresql_helpers import new_storage, run_sql

COLLECTION = "walk_test"
PARENT = "p"
INDEX_NAME = "test_walk_rank_idx"
RANKS: list[Any] = [*range(40), "7", None, True, 2.5]
"""Values of ``rank``, mostly numbers, of every JSON type."""


class WalkedListingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_postgresql()

    def setUp(self) -> None:
        self.storage = new_storage(self.url)
        run_sql(self.storage, f"DROP INDEX IF EXISTS {INDEX_NAME}")
        run_sql(self.storage, sort_index_statement("rank", INDEX_NAME, -1))
        self.addCleanup(run_sql, self.storage, f"DROP INDEX IF EXISTS {INDEX_NAME}")
        self.addCleanup(self.storage.purge_deleted, COLLECTION, PARENT)  # runs last
        self.addCleanup(self.storage.delete_all, COLLECTION, PARENT)
        self.permission = Permission(create_client({"permission_url": self.url}, "permission"))
        self.permission.initialize_schema()
        self.addCleanup(self.permission.flush)
        self.stamps = []
        for i in range(240):
            record = {"title": f"r{i}", "group": "abc"[i % 3], "rank": RANKS[i % len(RANKS)]}
            created = self.storage.create(COLLECTION, PARENT, record)
            self.stamps.append(created["last_modified"])
            if i % 4:  # alice may read three records in four
                self.permission.add_principal_to_ace(f"/walk/{created['id']}", "read", "alice")
            if i % 7 == 0:
                self.storage.delete(COLLECTION, PARENT, created["id"])
        run_sql(self.storage, "ANALYZE records")
        self.storage = new_storage(self.url)  # reads the new index
        self.reads: list[str] = []
        read = self.storage.client.read

        def recording_read(statement: str, params: Any = None, prepare: bool = False) -> Any:
            if "pg_get_indexdef" not in statement:  # the sort indexes, read once a minute
                self.reads.append(statement)
            return read(statement, params, prepare)

        self.storage.client.read = recording_read  # type: ignore[method-assign]

    def _walked_reads(self) -> int:
        return sum("row_number() OVER ()" in statement for statement in self.reads)

    def _planned(self, filters: list[Filter], sorting: list[Sort], limit: int) -> list[str]:
        records, _ = self.storage.get_all(COLLECTION, PARENT, filters, sorting, limit=limit)
        return [record["id"] for record in records]

    def _pages(self, walked: bool, filters: list[Filter], sorting: list[Sort], limit: int,
               **options: Any) -> list[list[str]]:
        """Every page of the listing, as ids, following the keyset of each last record:
        from ``get_all_with_timestamp`` (``walked``) or from ``get_all``."""
        applied = ev.listing_sort(sorting)
        pages, keyset = [], None
        while True:
            if walked:
                records, _ = self.storage.get_all_with_timestamp(
                    COLLECTION, PARENT, filters, sorting, keyset, limit + 1, **options)
            else:
                records, _ = self.storage.get_all(COLLECTION, PARENT, filters, sorting, keyset,
                                                  limit + 1, **options)
            pages.append([record["id"] for record in records[:limit]])
            if len(records) <= limit:
                return pages
            last = records[limit - 1]
            keyset = Keyset({sort.field: ev.resolve(last, sort.field) for sort in applied})

    def test_walked_pages_are_the_listings_pages(self) -> None:
        readable = ReadFilter(("alice",), ("read", "write"), "/walk/", self.permission)
        filter_sets = [
            [Filter("rank", 5, COMPARISON.MIN)],  # most records: walks fill their pages
            [Filter("rank", 38, COMPARISON.MIN)],  # a few: walks fall back
            [Filter("group", "b", COMPARISON.EQ), Filter("rank", 30, COMPARISON.LT)],
            [Filter("rank", "7", COMPARISON.MIN)],
            [Filter("last_modified", 0, COMPARISON.GT)],
            [Filter("last_modified", self.stamps[235], COMPARISON.GT)],  # a walk's bound
            [Filter("last_modified", self.stamps[120], COMPARISON.LT),
             Filter("rank", 20, COMPARISON.MAX)],
        ]
        sortings = [[], [Sort("rank", -1)], [Sort("rank", 1)], [Sort("id", 1)]]
        cases = itertools.product(filter_sets, sortings, (3, 20), (None, readable),
                                  (False, True))
        for filters, sorting, limit, read_filter, include_deleted in cases:
            options = {"read_filter": read_filter, "include_deleted": include_deleted}
            with self.subTest(filters=filters, sorting=sorting, limit=limit,
                              read_filter=read_filter is not None, deleted=include_deleted):
                self.storage.walk_outcomes = walk.WalkOutcomes()  # each case walks first
                walked = self._pages(True, filters, sorting, limit, **options)
                self.assertEqual(walked, self._pages(False, filters, sorting, limit, **options))
        walks = self._walked_reads()
        self.assertGreater(walks, 0)
        self.assertLess(walks, len(self.reads) / 2)  # some fell back to the planned listing

    def test_a_filled_walk_is_the_only_read_and_a_short_one_falls_back(self) -> None:
        filled = [Filter("rank", 5, COMPARISON.MIN)]
        records, _ = self.storage.get_all_with_timestamp(COLLECTION, PARENT, filled, limit=11)
        self.assertEqual(len(records), 11)
        self.assertEqual(len(self.reads), 1)
        self.assertIn("row_number() OVER ()", self.reads[0])
        # each walked record is checked with the plain filter, the planned listing's form
        # (written for the sort index on rank) only in the fallback
        self.assertNotIn("jsonb_typeof", self.reads[0])
        self.reads.clear()
        rare = [Filter("rank", 39, COMPARISON.MIN), Filter("group", "c", COMPARISON.EQ)]
        records, _ = self.storage.get_all_with_timestamp(COLLECTION, PARENT, rare, limit=11)
        self.assertEqual(len(self.reads), 2)  # the walk, cut short, then the planned listing
        self.assertIn("row_number() OVER ()", self.reads[0])
        self.assertNotIn("row_number() OVER ()", self.reads[1])
        self.assertIn("jsonb_typeof", self.reads[1])
        self.assertEqual([r["id"] for r in records], self._planned(rare, [], 11))
        self.assertEqual([r["rank"] for r in records], [39, 39])  # the few, newest first

    def test_a_range_on_the_sort_column_bounds_the_walk(self) -> None:
        since = [Filter("last_modified", self.stamps[230], COMPARISON.GT)]
        readable = ReadFilter(("alice",), ("read",), "/walk/", self.permission)
        records, _ = self.storage.get_all_with_timestamp(COLLECTION, PARENT, since, limit=21,
                                                         read_filter=readable)
        self.assertEqual(len(self.reads), 1)  # the walk ended at the bound: nothing cut short
        self.assertIn("row_number() OVER ()", self.reads[0])
        expected, _ = self.storage.get_all(COLLECTION, PARENT, since, limit=21,
                                           read_filter=readable)
        self.assertEqual([r["id"] for r in records], [r["id"] for r in expected])
        # 231 to 239, less the deleted 231 and 238, less 232 and 236 that alice cannot read
        self.assertEqual([r["title"] for r in records], ["r239", "r237", "r235", "r234", "r233"])

    def test_a_page_larger_than_the_window_is_walked_when_the_walk_ends_first(self) -> None:
        self.storage.max_walk_window = 50
        readable = ReadFilter(("alice",), ("read",), "/walk/", self.permission)
        for first, reads in ((230, 1), (100, 2)):  # 9 changes, then 139: more than the window
            with self.subTest(since=first):
                since = [Filter("last_modified", self.stamps[first], COMPARISON.GT)]
                self.reads.clear()
                self.storage.walk_outcomes = walk.WalkOutcomes()
                records, _ = self.storage.get_all_with_timestamp(
                    COLLECTION, PARENT, since, limit=10001, read_filter=readable,
                    include_deleted=True)
                self.assertEqual(len(self.reads), reads)
                self.assertIn("LIMIT 51", self.reads[0])
                expected, _ = self.storage.get_all(COLLECTION, PARENT, since, limit=10001,
                                                   read_filter=readable, include_deleted=True)
                self.assertEqual([r["id"] for r in records], [r["id"] for r in expected])
                self.assertGreater(len(records), 5)

    def test_a_shape_whose_walks_fall_back_is_planned_then_retried(self) -> None:
        rare = [Filter("rank", 39, COMPARISON.MIN)]
        walks = []
        for _ in range(2 + walk.RETRY_EVERY):
            self.reads.clear()
            self.storage.get_all_with_timestamp(COLLECTION, PARENT, rare, limit=11)
            walks.append(self._walked_reads())
        self.assertEqual(walks[:2], [1, 1])  # walked, fell back twice: rate 0.5625
        self.assertEqual(walks[2:].count(1), 1)  # then planned directly, but one retry
        self.assertEqual(walks[-1], 1)

    def test_listings_that_are_not_walked(self) -> None:
        cases = [
            ([], [], 11),  # no filter: prepared as it is
            ([Filter("rank", 5, COMPARISON.MIN)], [], None),  # no limit
            ([Filter("rank", 5, COMPARISON.MIN)], [Sort("title", 1)], 11),  # no sort index
        ]
        for filters, sorting, limit in cases:
            with self.subTest(filters=filters, sorting=sorting, limit=limit):
                self.reads.clear()
                records, _ = self.storage.get_all_with_timestamp(COLLECTION, PARENT, filters,
                                                                 sorting, limit=limit)
                self.assertEqual(self._walked_reads(), 0)
                self.assertEqual([r["id"] for r in records],
                                 self._planned(filters, sorting, limit))


class WalkedPageTest(unittest.TestCase):
    def test_the_record_beyond_the_window_means_cut_short(self) -> None:
        self.assertEqual(walk.walked_page([("a", 1), ("b", 5)], 10), [("a", 1), ("b", 5)])
        self.assertIsNone(walk.walked_page([("a", 1), ("z", 11)], 10))
        self.assertEqual(walk.walked_page([], 10), [])

    def test_rows_out_of_the_walks_order_are_refused(self) -> None:
        self.assertIsNone(walk.walked_page([("b", 5), ("a", 1)], 10))
        self.assertIsNone(walk.walked_page([("a", 2), ("b", 2)], 10))

    def test_outcomes_forget_old_shapes(self) -> None:
        outcomes = walk.WalkOutcomes()
        outcomes.record("first", False)
        for index in range(600):
            outcomes.record(f"shape {index}", True)
        self.assertIsNone(outcomes.rate("first"))
        self.assertEqual(outcomes.rate("shape 599"), 1.0)
