"""The storage contract suite: every storage backend runs it against a real server.

Mix :class:`StorageContractTests` into a :class:`unittest.TestCase` and implement
``make_storage()`` (called once per test class; the storage is flushed before each test)::

    class MemoryStorageTest(StorageContractTests, unittest.TestCase):
        def make_storage(self):
            return MemoryStorage()

``make_permission()`` gives the permission backend used by the read-filter tests (the memory
one by default). Expected answers are written out by hand, so passing the suite means giving
the same answers as every other backend.
"""

from __future__ import annotations

import time
import unittest
from typing import TYPE_CHECKING, Any, ClassVar

import transaction

from cliquetish.permission import PermissionBase
from cliquetish.storage import (
    COMPARISON,
    MISSING,
    Filter,
    Keyset,
    ModifiedMeanwhileError,
    ReadFilter,
    RecordNotFoundError,
    Sort,
    StorageBase,
    UnicityError,
)
from cliquetish.storage import evaluation as ev

__all__ = ["MIXED_VALUES", "StorageContractTests", "walk_pages"]

COLLECTION = "articles"
PARENT = "/users/alice"

MIXED_VALUES: dict[str, Any] = {
    "null": None, "num_str": "1", "str_upper": "ABD", "str": "abc", "num_int": 1,
    "num_float": 2.5, "false": False, "true": True, "arr_empty": [], "arr": [1, "a"],
    "obj_empty": {}, "obj": {"k": 1}, "missing": MISSING,
}
"""One value of each JSON type, named, in the contract's ascending order."""

EVERY_NAME = set(MIXED_VALUES)


def walk_pages(
    storage: StorageBase, sorting: list[Sort], limit: int, **options: Any
) -> list[dict[str, Any]]:
    """Every record of the test pair, page after page of ``limit``, as a client would."""
    applied = ev.listing_sort(sorting)
    records: list[dict[str, Any]] = []
    keyset = None
    while True:
        page, _ = storage.get_all(COLLECTION, PARENT, sorting=sorting, pagination_rules=keyset,
                                  limit=limit, **options)
        records += page
        if len(page) < limit:
            return records
        last = page[-1]
        keyset = Keyset({sort.field: ev.resolve(last, sort.field) for sort in applied})


_TestCase = unittest.TestCase if TYPE_CHECKING else object


class StorageContractTests(_TestCase):
    """The contract of :class:`cliquetish.storage.StorageBase` (see its module docstring)."""

    _storages: ClassVar[dict[type, StorageBase]] = {}
    storage: StorageBase

    def make_storage(self) -> StorageBase:
        """The backend under test."""
        raise NotImplementedError

    def make_permission(self) -> PermissionBase:
        """The permission backend of the read-filter tests."""
        from cliquetish.permission.memory import Permission

        return Permission()

    def setUp(self) -> None:
        super().setUp()
        if type(self) not in self._storages:
            self._storages[type(self)] = self.make_storage()
        self.storage = self._storages[type(self)]
        self.storage.flush()
        self.addCleanup(transaction.abort)

    # Helpers
    def create(self, parent: str = PARENT, **fields: Any) -> dict[str, Any]:
        return self.storage.create(COLLECTION, parent, fields)

    def listing(self, *filters: Filter, **options: Any) -> list[dict[str, Any]]:
        return self.storage.get_all(COLLECTION, PARENT, list(filters), **options)[0]

    def names(self, *filters: Filter, **options: Any) -> set[str]:
        return {record.get("name") for record in self.listing(*filters, **options)}

    def ordered_names(self, *sorting: Sort, **options: Any) -> list[str]:
        return [r.get("name") for r in self.listing(sorting=list(sorting), **options)]

    def create_mixed(self, field: str = "v") -> None:
        for name, value in MIXED_VALUES.items():
            fields: dict[str, Any] = {"name": name}
            if value is not MISSING:
                fields[field] = value
                fields["deep"] = {"er": {field: value}}
            self.create(**fields)

    def assert_filter(self, operator: COMPARISON, value: Any, expected: set[str]) -> None:
        for field in ("v", "deep.er.v"):
            found = self.names(Filter(field, value, operator))
            self.assertEqual(found, expected, f"{operator} {value!r} on {field}")

    # Records
    def test_create_then_get(self) -> None:
        created = self.create(title="Hello", tags=["a"])
        self.assertEqual(set(created), {"id", "last_modified", "title", "tags"})
        self.assertIsInstance(created["last_modified"], int)
        fetched = self.storage.get(COLLECTION, PARENT, created["id"])
        self.assertEqual(fetched, created)

    def test_create_keeps_given_id_or_uses_the_generator(self) -> None:
        given = self.storage.create(COLLECTION, PARENT, {"id": "abc", "x": 1})
        generated = self.storage.create(COLLECTION, PARENT, {"x": 2}, id_generator=lambda: "gen")
        self.assertEqual((given["id"], generated["id"]), ("abc", "gen"))
        self.assertEqual(self.storage.get(COLLECTION, PARENT, "gen")["x"], 2)

    def test_create_existing_live_id_raises_unicity_with_the_record(self) -> None:
        first = self.storage.create(COLLECTION, PARENT, {"id": "abc", "x": 1})
        with self.assertRaises(UnicityError) as caught:
            self.storage.create(COLLECTION, PARENT, {"id": "abc", "x": 2})
        self.assertEqual((caught.exception.field, caught.exception.record), ("id", first))
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, PARENT),
                         first["last_modified"])

    def test_records_are_isolated_per_collection_and_parent(self) -> None:
        record = self.create(title="mine")
        self.storage.create("other", PARENT, {"id": record["id"]})
        self.storage.create(COLLECTION, "/users/bob", {"id": record["id"]})
        self.assertEqual(self.listing(), [record])
        self.assertEqual(len(self.storage.get_all("other", PARENT)[0]), 1)

    def test_returned_records_are_copies(self) -> None:
        record = self.create(tags=["a"])
        record["tags"].append("b")
        self.listing()[0]["tags"].append("c")
        self.assertEqual(self.storage.get(COLLECTION, PARENT, record["id"])["tags"], ["a"])

    def test_get_unknown_or_deleted_raises_not_found(self) -> None:
        record = self.create()
        self.storage.delete(COLLECTION, PARENT, record["id"])
        for object_id in ("unknown", record["id"]):
            with self.assertRaises(RecordNotFoundError):
                self.storage.get(COLLECTION, PARENT, object_id)

    def test_update_replaces_creates_and_uses_the_given_id(self) -> None:
        record = self.create(a=1, b=2)
        updated = self.storage.update(COLLECTION, PARENT, record["id"], {"id": "x", "a": 3})
        self.assertEqual(updated["id"], record["id"])
        self.assertEqual(self.storage.get(COLLECTION, PARENT, record["id"]),
                         {"id": record["id"], "a": 3, "last_modified": updated["last_modified"]})
        self.assertGreater(updated["last_modified"], record["last_modified"])
        created = self.storage.update(COLLECTION, PARENT, "new", {"a": 1})
        self.assertEqual(self.storage.get(COLLECTION, PARENT, "new"), created)

    def test_delete_leaves_a_tombstone_listed_with_include_deleted(self) -> None:
        record = self.create(title="x")
        tombstone = self.storage.delete(COLLECTION, PARENT, record["id"])
        self.assertEqual(set(tombstone), {"id", "last_modified", "deleted"})
        self.assertTrue(tombstone["deleted"])
        self.assertEqual(self.listing(), [])
        self.assertEqual(self.listing(include_deleted=True), [tombstone])
        with self.assertRaises(RecordNotFoundError):
            self.storage.delete(COLLECTION, PARENT, record["id"])

    def test_delete_without_tombstone(self) -> None:
        record = self.create()
        tombstone = self.storage.delete(COLLECTION, PARENT, record["id"], with_deleted=False)
        self.assertGreater(tombstone["last_modified"], record["last_modified"])
        self.assertEqual(self.listing(include_deleted=True), [])

    def test_recreation_replaces_the_tombstone(self) -> None:
        record = self.storage.create(COLLECTION, PARENT, {"id": "abc", "v": 1})
        self.storage.delete(COLLECTION, PARENT, "abc")
        again = self.storage.create(COLLECTION, PARENT, {"id": "abc", "v": 2})
        self.assertGreater(again["last_modified"], record["last_modified"])
        self.assertEqual(self.listing(include_deleted=True), [again])
        self.storage.delete(COLLECTION, PARENT, "abc")
        replaced = self.storage.update(COLLECTION, PARENT, "abc", {"v": 3})
        self.assertEqual(self.listing(include_deleted=True), [replaced])

    def test_conditional_update_and_delete(self) -> None:
        record = self.create(v=1)
        stamp = record["last_modified"]
        updated = self.storage.update(COLLECTION, PARENT, record["id"], {"v": 2},
                                      expected_last_modified=stamp)
        with self.assertRaises(ModifiedMeanwhileError) as caught:
            self.storage.update(COLLECTION, PARENT, record["id"], {"v": 3},
                                expected_last_modified=stamp)
        self.assertEqual(caught.exception.record, updated)
        with self.assertRaises(ModifiedMeanwhileError):
            self.storage.delete(COLLECTION, PARENT, record["id"], expected_last_modified=stamp)
        self.storage.delete(COLLECTION, PARENT, record["id"],
                            expected_last_modified=updated["last_modified"])
        with self.assertRaises(ModifiedMeanwhileError) as caught:
            self.storage.update(COLLECTION, PARENT, record["id"], {"v": 4},
                                expected_last_modified=updated["last_modified"])
        self.assertIsNone(caught.exception.record)
        self.assertEqual(self.listing(), [])

    def test_unique_fields(self) -> None:
        first = self.create(email="a@x", nested={"code": 1})
        conflicts = (({"email": "a@x"}, "email"), ({"nested": {"code": 1}}, "nested.code"))
        for fields, field in conflicts:
            with self.assertRaises(UnicityError) as caught:
                self.storage.create(COLLECTION, PARENT, fields, unique_fields=["email", field])
            self.assertEqual((caught.exception.field, caught.exception.record), (field, first))
        other = self.create(email="b@x")
        with self.assertRaises(UnicityError):
            self.storage.update(COLLECTION, PARENT, other["id"], {"email": "a@x"},
                                unique_fields=["email"])
        # Its own value, a missing value, another type, a tombstone's value: no conflict.
        self.storage.update(COLLECTION, PARENT, first["id"], {"email": "a@x"}, ["email"])
        self.storage.create(COLLECTION, PARENT, {"title": "no email"}, unique_fields=["email"])
        self.storage.create(COLLECTION, PARENT, {"email": 1}, unique_fields=["email"])
        self.storage.delete(COLLECTION, PARENT, other["id"])
        self.storage.create(COLLECTION, PARENT, {"email": "b@x"}, unique_fields=["email"])
        self.assertEqual(len(self.listing()), 4)

    # Timestamps
    def test_timestamps_strictly_increase_and_the_collection_follows(self) -> None:
        stamps = [self.create(i=i)["last_modified"] for i in range(20)]
        updated = self.storage.update(COLLECTION, PARENT, self.listing()[0]["id"], {"i": -1})
        deleted = self.storage.delete(COLLECTION, PARENT, updated["id"])
        stamps += [updated["last_modified"], deleted["last_modified"]]
        self.assertEqual(stamps, sorted(set(stamps)))
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, PARENT), stamps[-1])

    def test_empty_pair_timestamp_is_now_and_stable(self) -> None:
        before = int(time.time() * 1000)
        stamp = self.storage.collection_timestamp(COLLECTION, "/users/nobody")
        self.assertLessEqual(abs(stamp - before), 60_000)
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, "/users/nobody"), stamp)
        self.assertGreater(self.create(parent="/users/nobody")["last_modified"], stamp)

    def test_client_last_modified_is_kept_only_when_it_moves_forward(self) -> None:
        future = int(time.time() * 1000) + 3_600_000
        record = self.create(last_modified=future)
        self.assertEqual(record["last_modified"], future)
        past = self.create(last_modified=1000)
        self.assertEqual(past["last_modified"], future + 1)
        moved = self.storage.update(COLLECTION, PARENT, record["id"],
                                    {"last_modified": future + 10})
        self.assertEqual(moved["last_modified"], future + 10)
        gone = self.storage.delete(COLLECTION, PARENT, past["id"], last_modified=future + 20)
        self.assertEqual(gone["last_modified"], future + 20)
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, PARENT), future + 20)

    def test_delete_all_gives_each_tombstone_its_own_timestamp(self) -> None:
        for i in range(5):
            self.create(i=i, keep=i == 4)
        tombstones = self.storage.delete_all(COLLECTION, PARENT, [Filter("keep", False)],
                                             sorting=[Sort("i", 1)])
        stamps = [tombstone["last_modified"] for tombstone in tombstones]
        self.assertEqual(len(stamps), 4)
        self.assertEqual(stamps, sorted(set(stamps)))
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, PARENT), stamps[-1])
        self.assertEqual([r["i"] for r in self.listing()], [4])
        self.assertEqual(len(self.listing(include_deleted=True)), 5)

    def test_delete_all_follows_sort_limit_and_keyset(self) -> None:
        for i in range(6):
            self.create(i=i)
        removed = self.storage.delete_all(COLLECTION, PARENT, sorting=[Sort("i", 1)],
                                          pagination_rules=Keyset({"i": 1, "last_modified": 0}),
                                          limit=2,
                                          with_deleted=False)
        self.assertEqual(len(removed), 2)
        self.assertEqual(sorted(r["i"] for r in self.listing()), [0, 1, 4, 5])
        self.assertEqual(len(self.listing(include_deleted=True)), 4)

    # Purge and flush
    def test_purge_deleted(self) -> None:
        kept = self.create()
        old = self.storage.delete(COLLECTION, PARENT, self.create()["id"])
        new = self.storage.delete(COLLECTION, PARENT, self.create()["id"])
        other = self.storage.create(COLLECTION, "/users/bob", {})
        self.storage.delete(COLLECTION, "/users/bob", other["id"])
        purged = self.storage.purge_deleted(COLLECTION, PARENT, before=new["last_modified"])
        self.assertEqual(purged, [old["id"]])
        removed = self.storage.purge_deleted(COLLECTION)
        self.assertEqual(sorted(removed), sorted([new["id"], other["id"]]))
        self.assertEqual(self.listing(include_deleted=True), [kept])

    def test_flush_forgets_everything(self) -> None:
        self.create()
        self.storage.delete(COLLECTION, PARENT, self.create()["id"])
        self.storage.flush()
        self.assertEqual(self.listing(include_deleted=True), [])

    def test_initialize_schema_is_idempotent(self) -> None:
        self.storage.initialize_schema()
        self.assertIsInstance(self.storage.initialize_schema(dry_run=True), list)
        self.assertTrue(self.storage.ping())

    # Filters: one value of each JSON type, on a field and on a dotted sub-field
    def test_equality_is_json_typed(self) -> None:
        self.create_mixed()
        for value, expected in ((1, {"num_int"}), (1.0, {"num_int"}), ("1", {"num_str"}),
                                (True, {"true"}), (False, {"false"}), (None, {"null"}),
                                ([1, "a"], {"arr"}), (["a", 1], set()), ([], {"arr_empty"}),
                                ({"k": 1}, {"obj"}), ({}, {"obj_empty"}), ("ABC", set())):
            self.assert_filter(COMPARISON.EQ, value, expected)

    def test_not_matches_other_values_and_missing_fields(self) -> None:
        self.create_mixed()
        self.assert_filter(COMPARISON.NOT, 1, EVERY_NAME - {"num_int"})
        self.assert_filter(COMPARISON.NOT, None, EVERY_NAME - {"null"})
        self.assert_filter(COMPARISON.NOT, [1, "a"], EVERY_NAME - {"arr"})

    def test_ranges_only_match_values_of_the_same_type(self) -> None:
        self.create_mixed()
        for operator, value, expected in (
            (COMPARISON.LT, 2, {"num_int"}), (COMPARISON.GT, 1, {"num_float"}),
            (COMPARISON.MIN, 1, {"num_int", "num_float"}), (COMPARISON.MAX, 2.5,
                                                             {"num_int", "num_float"}),
            (COMPARISON.LT, "abc", {"num_str", "str_upper"}), (COMPARISON.GT, "ABD", {"str"}),
            (COMPARISON.MIN, "ABD", {"str_upper", "str"}), (COMPARISON.LT, True, {"false"}),
            (COMPARISON.MIN, False, {"false", "true"}), (COMPARISON.MAX, None, {"null"}),
            (COMPARISON.GT, [], {"arr"}), (COMPARISON.LT, {"a": 1}, {"obj_empty"}),
        ):
            self.assert_filter(operator, value, expected)

    def test_in_and_exclude(self) -> None:
        self.create_mixed()
        self.assert_filter(COMPARISON.IN, [1, "abc", True, [1, "a"]],
                           {"num_int", "str", "true", "arr"})
        self.assert_filter(COMPARISON.IN, [], set())
        self.assert_filter(COMPARISON.EXCLUDE, [1, "abc", None], EVERY_NAME - {"num_int", "str",
                                                                               "null"})
        self.assert_filter(COMPARISON.EXCLUDE, [], EVERY_NAME)

    def test_like_is_case_insensitive_on_strings(self) -> None:
        self.create_mixed()
        for value, expected in (("ab", {"str", "str_upper"}), ("B", {"str", "str_upper"}),
                                ("*c", {"str"}), ("a*", {"str", "str_upper"}), ("1", {"num_str"}),
                                ("a*d", {"str_upper"}), ("*", {"str", "str_upper", "num_str"}),
                                ("%", set()), ("_bc", set()), ("x", set())):
            self.assert_filter(COMPARISON.LIKE, value, expected)

    def test_has(self) -> None:
        self.create_mixed()
        self.assert_filter(COMPARISON.HAS, True, EVERY_NAME - {"missing"})
        self.assert_filter(COMPARISON.HAS, False, {"missing"})

    def test_contains_and_contains_any(self) -> None:
        self.create_mixed()
        self.create(name="nested", v=[[1], {"a": 1}, "x"], deep={"er": {"v": [[1], {"a": 1}, "x"]}})
        for operator, value, expected in (
            (COMPARISON.CONTAINS, ["a"], {"arr"}), (COMPARISON.CONTAINS, [1.0, "a"], {"arr"}),
            (COMPARISON.CONTAINS, [2], set()), (COMPARISON.CONTAINS, [], {"arr", "arr_empty",
                                                                           "nested"}),
            (COMPARISON.CONTAINS, [[1]], {"nested"}), (COMPARISON.CONTAINS, [{"a": 1}, "x"],
                                                       {"nested"}),
            (COMPARISON.CONTAINS, [1], {"arr"}), (COMPARISON.CONTAINS, [{"a": 2}], set()),
            (COMPARISON.CONTAINS_ANY, [2, "a"], {"arr"}), (COMPARISON.CONTAINS_ANY, [], set()),
            (COMPARISON.CONTAINS_ANY, ["x", "zz"], {"nested"}),
            (COMPARISON.CONTAINS_ANY, [[1]], {"nested"}),
        ):
            self.assert_filter(operator, value, expected)

    def test_array_elements_by_index(self) -> None:
        self.create(name="a", tags=["x", "y"])
        self.create(name="b", tags={"0": "x"})
        self.assertEqual(self.names(Filter("tags.0", "x")), {"a", "b"})
        self.assertEqual(self.names(Filter("tags.-1", "y")), {"a"})
        self.assertEqual(self.names(Filter("tags.5", "x", COMPARISON.HAS)), set())

    def test_filters_combine_and_apply_to_id_and_last_modified(self) -> None:
        records = [self.create(name=str(i), i=i) for i in range(4)]
        stamp = records[1]["last_modified"]
        self.assertEqual(self.names(Filter("last_modified", stamp, COMPARISON.GT)), {"2", "3"})
        self.assertEqual(self.names(Filter("id", records[0]["id"])), {"0"})
        self.assertEqual(self.names(Filter("id", [records[0]["id"], "x"], COMPARISON.IN),
                                    Filter("i", 0, COMPARISON.MIN)), {"0"})
        self.assertEqual(self.names(Filter("i", 1, COMPARISON.MIN), Filter("i", 3, COMPARISON.LT)),
                         {"1", "2"})
        self.assertEqual(self.names(Filter("last_modified", str(stamp))), set())

    def test_tombstones_pass_filters_other_than_id_and_last_modified(self) -> None:
        first, second = self.create(name="a", v=1), self.create(name="b", v=2)
        first_tombstone = self.storage.delete(COLLECTION, PARENT, first["id"])
        second_tombstone = self.storage.delete(COLLECTION, PARENT, second["id"])
        live = self.create(name="c", v=2)
        self.create(name="d", v=3)
        since = Filter("last_modified", first_tombstone["last_modified"], COMPARISON.GT)
        listed = self.listing(Filter("v", 2), since, include_deleted=True)
        self.assertEqual(listed, [live, second_tombstone])
        only = Filter("id", [first["id"]], COMPARISON.IN)
        self.assertEqual(self.listing(only, Filter("v", 5), include_deleted=True),
                         [first_tombstone])

    # Sorting
    def test_sort_order_across_types(self) -> None:
        self.create_mixed()
        expected = list(MIXED_VALUES)
        for field in ("v", "deep.er.v"):
            self.assertEqual(self.ordered_names(Sort(field, 1)), expected)
            self.assertEqual(self.ordered_names(Sort(field, -1)), expected[::-1])

    def test_sort_order_within_types(self) -> None:
        values = ["B", "a", "a\x00", "a\x01", "a ", "é", "😀", 10, -1, 0.5, 2, 2**70,
                  [1, 2], [5], [], [0, 9, 9], {"a": 1, "b": 2}, {"z": 1}, {}]
        for position, value in enumerate(values):
            self.create(name=str(position), v=value)
        order = ["B", "a", "a\x00", "a\x01", "a ", "é", "😀", -1, 0.5, 2, 10, 2**70,
                 [], [5], [1, 2], [0, 9, 9], {}, {"z": 1}, {"a": 1, "b": 2}]
        self.assertEqual([r["v"] for r in self.listing(sorting=[Sort("v", 1)])], order)

    def test_ties_are_broken_by_last_modified(self) -> None:
        for name in "abc":
            self.create(name=name, v=1)
        self.assertEqual(self.ordered_names(Sort("v", 1)), ["c", "b", "a"])
        self.assertEqual(self.ordered_names(Sort("v", 1), Sort("last_modified", 1)),
                         ["a", "b", "c"])
        self.assertEqual(self.ordered_names(), ["c", "b", "a"])
        self.assertEqual(self.ordered_names(Sort("id", 1)), sorted("abc", key=lambda n: next(
            r["id"] for r in self.listing() if r["name"] == n)))

    # Pagination
    def create_paging_dataset(self) -> None:
        values = [3, 1, None, "x", 1, MISSING, 3, 2, MISSING, 1, "x", True, [1], 3, MISSING]
        for position, value in enumerate(values):
            fields: dict[str, Any] = {"name": str(position), "w": position % 3}
            if value is not MISSING:
                fields["v"] = value
            self.create(**fields)

    def test_walking_pages_gives_the_unpaged_listing(self) -> None:
        self.create_paging_dataset()
        self.storage.delete(COLLECTION, PARENT, self.listing()[0]["id"])
        for sorting in ([], [Sort("v", 1)], [Sort("v", -1)], [Sort("w", 1), Sort("v", -1)],
                        [Sort("missing", 1)], [Sort("last_modified", 1)], [Sort("id", -1)]):
            for options in ({}, {"include_deleted": True}, {"filters": [Filter("w", 0,
                                                                               COMPARISON.NOT)]}):
                unpaged = self.storage.get_all(COLLECTION, PARENT, sorting=sorting, **options)[0]
                for limit in (1, 2, 4):
                    paged = walk_pages(self.storage, sorting, limit, **options)
                    self.assertEqual(paged, unpaged, f"{sorting} {options} by {limit}")

    def test_limit_and_count(self) -> None:
        for i in range(5):
            self.create(i=i)
        self.storage.delete(COLLECTION, PARENT, self.listing()[0]["id"])
        records, total = self.storage.get_all(COLLECTION, PARENT, [Filter("i", 0, COMPARISON.GT)],
                                              limit=2, count=True, include_deleted=True,
                                              pagination_rules=Keyset({"last_modified": 2**62}))
        self.assertEqual((len(records), total), (2, 3))
        self.assertIsNone(self.storage.get_all(COLLECTION, PARENT)[1])
        self.assertEqual(self.storage.get_all(COLLECTION, PARENT, limit=0, count=True), ([], 4))

    # Read filter
    def test_read_filter(self) -> None:
        permission = self.make_permission()
        permission.flush()
        records = [self.create(name=str(i)) for i in range(4)]
        for index, principal in ((0, "alice"), (1, "group"), (2, "bob")):
            permission.add_principal_to_ace(f"/articles/{records[index]['id']}", "read", principal)
        permission.add_principal_to_ace(f"/articles/{records[3]['id']}", "write", "alice")
        self.storage.delete(COLLECTION, PARENT, records[1]["id"])
        readable = ReadFilter(("alice", "group"), ("read",), "/articles/", permission)
        self.assertEqual(self.names(read_filter=readable), {"0"})
        listed = self.listing(read_filter=readable, include_deleted=True)
        self.assertEqual({r["id"] for r in listed}, {records[0]["id"], records[1]["id"]})
        _, total = self.storage.get_all(COLLECTION, PARENT, read_filter=readable, count=True)
        self.assertEqual(total, 1)
        writable = ReadFilter(("alice",), ("read", "write"), "/articles/", permission)
        self.assertEqual(self.names(read_filter=writable), {"0", "3"})
        nobody = ReadFilter(("carol",), ("read",), "/articles/", permission)
        self.assertEqual(self.listing(read_filter=nobody), [])
        removed = self.storage.delete_all(COLLECTION, PARENT, read_filter=writable)
        self.assertEqual(len(removed), 2)
        self.assertEqual(self.names(), {"2"})

    # Values of every kind
    def test_unicode(self) -> None:
        record = self.create(**{"name": "Ünïcødé ✓ 😀 日本語", "ключ": "значение"})
        self.assertEqual(self.storage.get(COLLECTION, PARENT, record["id"]), record)
        self.assertEqual(self.names(Filter("name", "ÜNÏ", COMPARISON.LIKE)), {record["name"]})
        self.assertEqual(len(self.listing(Filter("ключ", "значение"))), 1)

    def test_large_record(self) -> None:
        text = "x" * (1024 * 1024)
        record = self.create(text=text, many=list(range(10_000)))
        self.assertEqual(self.storage.get(COLLECTION, PARENT, record["id"])["text"], text)
        self.assertEqual(self.listing(Filter("many", [9_999], COMPARISON.CONTAINS)), [record])

    def test_hostile_field_names_and_values_are_stored_verbatim(self) -> None:
        hostile = ["it's", 'say "hi"', "a; DROP TABLE records; --", "back\\slash", "nul\x00byte",
                   "%_*", "{a,b}", "\x01\x02", "' OR 1=1 --", "$1", ":name", "a\nb"]
        records = [self.create(**{value: value, "v": value}) for value in hostile]
        for value, record in zip(hostile, records, strict=True):
            self.assertEqual(self.storage.get(COLLECTION, PARENT, record["id"]), record)
            self.assertEqual(self.listing(Filter(value, value)), [record], value)
            self.assertEqual(self.listing(Filter("v", value)), [record], value)
            self.assertEqual(self.listing(Filter("v", value, COMPARISON.LIKE)), [record], value)
            self.assertEqual(self.listing(Filter(value, True, COMPARISON.HAS)), [record], value)
        ordered = [r["v"] for r in self.listing(sorting=[Sort("v", 1)])]
        self.assertEqual(ordered, sorted(hostile))
        self.assertEqual(len(self.listing(Filter("v", "\x00", COMPARISON.LIKE))), 1)
        self.assertEqual(len(self.listing(Filter("v", "\x01", COMPARISON.LIKE))), 1)
        self.assertEqual(len(self.listing(Filter("v", "*\x02", COMPARISON.LIKE))), 1)
        nul_id = self.storage.create(COLLECTION, PARENT, {"id": "id\x00'x"})
        self.assertEqual(self.storage.get(COLLECTION, PARENT, "id\x00'x"), nul_id)

    # Transactions
    def test_an_aborted_transaction_writes_nothing(self) -> None:
        kept = self.create(v=1)
        stamp = self.storage.collection_timestamp(COLLECTION, PARENT)
        transaction.begin()
        self.create(v=2)
        self.storage.update(COLLECTION, PARENT, kept["id"], {"v": 3})
        self.storage.delete(COLLECTION, PARENT, kept["id"])
        transaction.abort()
        self.assertEqual(self.listing(include_deleted=True), [kept])
        self.assertEqual(self.storage.collection_timestamp(COLLECTION, PARENT), stamp)

    def test_a_committed_transaction_writes(self) -> None:
        transaction.begin()
        created = self.create(v=1)
        self.assertEqual(self.listing(), [created])
        transaction.commit()
        self.assertEqual(self.listing(), [created])
