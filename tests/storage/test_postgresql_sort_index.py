"""The index of ``sort_index_statement`` serves the listings sorted in its direction, and
range filters on its field seek it to where the range starts."""

from __future__ import annotations

import unittest
from typing import Any

from cliquetish.storage import COMPARISON, Filter, Sort
from cliquetish.storage.evaluation import listing_sort, sort_records
from cliquetish.storage.memory import MemoryStorage
from cliquetish.storage.postgresql import PostgreSQLStorage
from cliquetish.storage.postgresql.client import driver_sql
from cliquetish.storage.postgresql.queries import sort_index_fields, sort_index_statement
from tests.servers import require_postgresql
from tests.storage.postgresql_helpers import new_storage, run_sql

COLLECTION = "sort_index_test"
PARENT = "p"
INDEX_NAMES = {1: "test_rank_ascending_idx", -1: "test_rank_descending_idx"}


class SortIndexTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_postgresql()

    def setUp(self) -> None:
        self.storage = new_storage(self.url)
        self.addCleanup(self._drop_indexes)
        self.addCleanup(self.storage.purge_deleted, COLLECTION, PARENT)  # runs last
        self.addCleanup(self.storage.delete_all, COLLECTION, PARENT)
        for i in range(300):  # ten ranks, thirty records each: groups of ties
            self.storage.create(COLLECTION, PARENT, {"title": f"r{i}", "rank": i % 10})
        run_sql(self.storage, "ANALYZE records")
        self.statements: list[tuple[str, dict[str, Any]]] = []
        read = self.storage.client.read

        def recording_read(statement: str, params: Any = None, prepare: bool = False) -> Any:
            self.statements.append((statement, dict(params or {})))
            return read(statement, params, prepare)

        self.storage.client.read = recording_read  # type: ignore[method-assign]

    def _drop_indexes(self) -> None:
        for name in INDEX_NAMES.values():
            run_sql(self.storage, f"DROP INDEX IF EXISTS {name}")

    def _plan_of_listing(self, direction: int) -> tuple[list[dict[str, Any]], str]:
        """The first page sorted on ``rank`` in ``direction``, and its statement's plan."""
        self.statements.clear()
        records, _ = self.storage.get_all(COLLECTION, PARENT, sorting=[Sort("rank", direction)],
                                          limit=5)
        statement, params = self.statements[-1]
        with self.storage.client.connect() as connection:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql("EXPLAIN " + driver_sql(statement), params)
            plan = "\n".join(row[0] for row in rows)
            connection.rollback()
        return records, plan

    def _expected_page(self, direction: int) -> list[str]:
        everything, _ = self.storage.get_all(COLLECTION, PARENT)
        ordered = sort_records(everything, listing_sort([Sort("rank", direction)]))
        return [record["id"] for record in ordered[:5]]

    def test_each_direction_walks_its_own_index_without_sorting(self) -> None:
        for direction, name in INDEX_NAMES.items():
            with self.subTest(direction=direction):
                run_sql(self.storage, sort_index_statement("rank", name, direction))
                records, plan = self._plan_of_listing(direction)
                self.assertIn(name, plan)
                self.assertNotIn("Sort", plan)
                self.assertEqual([r["id"] for r in records], self._expected_page(direction))
                run_sql(self.storage, f"DROP INDEX {name}")

    def test_the_other_direction_index_leaves_ties_to_sort(self) -> None:
        run_sql(self.storage, sort_index_statement("rank", INDEX_NAMES[-1], -1))
        records, plan = self._plan_of_listing(1)
        self.assertIn("Sort", plan)
        self.assertEqual([r["id"] for r in records], self._expected_page(1))

    def test_descending_is_the_default(self) -> None:
        self.assertEqual(sort_index_statement("rank", "x"),
                         sort_index_statement("rank", "x", -1))
        self.assertTrue(sort_index_statement("rank", "x", 1).endswith("last_modified DESC)"))

    def test_refuses_bad_arguments(self) -> None:
        with self.assertRaisesRegex(ValueError, "direction must be 1 or -1"):
            sort_index_statement("rank", "x", 0)
        with self.assertRaisesRegex(ValueError, "not a plain SQL identifier"):
            sort_index_statement("rank", "x; DROP TABLE records")


MIXED_RANKS: list[Any] = [*range(10), 2.5, -1, "7", "a", True, False, None, [3], {"r": 3}]
"""Values of ``rank`` of every JSON type (and records without it), for the seek tests."""


class IndexSeekTest(unittest.TestCase):
    """Range filters on a field with a sort index bind the index's type rank and string key
    (NULL for numbers and booleans, the range itself for strings)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.url = require_postgresql()

    def setUp(self) -> None:
        self.storage = new_storage(self.url)
        self.addCleanup(run_sql, self.storage, f"DROP INDEX IF EXISTS {INDEX_NAMES[1]}")
        self.addCleanup(self.storage.purge_deleted, COLLECTION, PARENT)  # runs last
        self.addCleanup(self.storage.delete_all, COLLECTION, PARENT)
        self.memory = MemoryStorage()
        for i in range(120):
            record = {"title": f"r{i}"}
            if i % 20:  # a few records have no rank at all
                record["rank"] = MIXED_RANKS[i % len(MIXED_RANKS)]
            created = self.storage.create(COLLECTION, PARENT, record)
            self.memory.create(COLLECTION, PARENT, dict(created))
        run_sql(self.storage, "ANALYZE records")

    def _listing(self, storage: PostgreSQLStorage, flt: Filter, direction: int
                 ) -> tuple[list[str], str, dict[str, Any]]:
        """The ids of the listing, and the statement the storage sent for it with its
        parameters."""
        sent: list[tuple[str, dict[str, Any]]] = []
        read = storage.client.read

        def recording_read(statement: str, params: Any = None, prepare: bool = False) -> Any:
            sent.append((statement, dict(params or {})))
            return read(statement, params, prepare)

        storage.client.read = recording_read  # type: ignore[method-assign]
        records, _ = storage.get_all(COLLECTION, PARENT, filters=[flt],
                                     sorting=[Sort("rank", direction)], limit=200)
        return [record["id"] for record in records], *sent[-1]

    def _expected(self, flt: Filter, direction: int) -> list[str]:
        records, _ = self.memory.get_all(COLLECTION, PARENT, filters=[flt],
                                         sorting=[Sort("rank", direction)], limit=200)
        return [record["id"] for record in records]

    def test_ranges_bind_the_index_and_answer_as_before(self) -> None:
        filters = [
            Filter("rank", 5, COMPARISON.MIN), Filter("rank", 5, COMPARISON.GT),
            Filter("rank", 5, COMPARISON.MAX), Filter("rank", 2.5, COMPARISON.LT),
            Filter("rank", False, COMPARISON.GT), Filter("rank", True, COMPARISON.MAX),
            Filter("rank", "7", COMPARISON.MIN), Filter("rank", "a", COMPARISON.LT),
            Filter("rank", "7", COMPARISON.GT), Filter("rank", "b", COMPARISON.MAX),
        ]
        run_sql(self.storage, sort_index_statement("rank", INDEX_NAMES[1], 1))
        storage = new_storage(self.url)
        self.assertEqual(storage.sort_indexed_fields(), frozenset({"rank"}))
        for flt in filters:
            for direction in (1, -1):
                with self.subTest(filter=flt, direction=direction):
                    ids, statement, _ = self._listing(storage, flt, direction)
                    self.assertEqual(ids, self._expected(flt, direction))
                    self.assertIn("WHEN 'object' THEN 5 ELSE 6 END) = ", statement)
                    key = r'COLLATE "C"\) [<>]=? :p\d+'
                    self.assertRegex(statement, key if isinstance(flt.value, str) else
                                     r'COLLATE "C"\) IS NULL')
                    # the type rank stands for the type guard: no second one to plan
                    guard = (r"CAST\('(false|true)' AS jsonb\)"
                             r"|jsonb_typeof\(\(data #> ARRAY\['rank'\]\)\) = :p")
                    self.assertNotRegex(statement, guard)

    def test_the_index_is_sought_from_the_start_of_the_range(self) -> None:
        run_sql(self.storage, sort_index_statement("rank", INDEX_NAMES[1], 1))
        storage = new_storage(self.url)
        for flt, bound in ((Filter("rank", 5, COMPARISON.MIN), "IS NULL"),
                           (Filter("rank", "7", COMPARISON.MIN), ">= '7'")):
            with self.subTest(filter=flt):
                _, statement, params = self._listing(storage, flt, 1)
                with storage.client.connect() as connection:
                    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                    plan = "\n".join(row[0] for row in connection.exec_driver_sql(
                        "EXPLAIN " + driver_sql(statement), params))
                    connection.rollback()
                condition = next(line for line in plan.splitlines() if "Index Cond" in line)
                self.assertIn("jsonb_typeof", condition)
                self.assertIn(bound, condition)

    def test_other_filters_and_fields_without_index_are_left_alone(self) -> None:
        storage = new_storage(self.url)
        self.assertEqual(storage.sort_indexed_fields(), frozenset())
        for flt in (Filter("rank", 5, COMPARISON.MIN), Filter("rank", "b", COMPARISON.MIN),
                    Filter("rank", 5, COMPARISON.EQ)):
            with self.subTest(filter=flt):
                ids, statement, _ = self._listing(storage, flt, 1)
                self.assertEqual(ids, self._expected(flt, 1))
                self.assertNotIn("ELSE 6 END) = ", statement)

    def test_sort_index_fields_reads_the_servers_definitions(self) -> None:
        self.assertEqual(sort_index_fields([
            "CREATE INDEX i ON records (parent_id, collection_id, (\nCASE jsonb_typeof((data "
            "#> ARRAY['a'::text, 'b-c'::text]))\n    WHEN 'null'::text THEN 0 END), (\nCASE "
            "WHEN 1 END) COLLATE \"C\", last_modified)",
            "CREATE INDEX j ON records (CASE jsonb_typeof((data #> '{x,y}'::text[])) WHEN "
            "'null'::text THEN 0 END COLLATE \"C\")",
            "CREATE INDEX k ON records USING gin (data jsonb_path_ops)",
            "CREATE INDEX l ON records (CASE jsonb_typeof((data #> ARRAY['z'::text])) WHEN "
            "'null'::text THEN 0 END)",  # not one of ours: no string key
        ]), frozenset({"a.b-c", "x.y"}))
