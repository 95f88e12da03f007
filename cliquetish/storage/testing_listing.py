"""The listing half of the storage contract suite: filters, sorting, pagination, read
filters and values of every kind (see :mod:`cliquetish.storage.testing`, which combines it with
the record half into :class:`~cliquetish.storage.testing.StorageContractTests`).
"""

from __future__ import annotations

import unittest
from typing import TYPE_CHECKING, Any, ClassVar

import transaction

from cliquetish.permission import PermissionBase
from cliquetish.storage import (
    COMPARISON,
    MISSING,
    Filter,
    Keyset,
    ReadFilter,
    Sort,
    StorageBase,
)
from cliquetish.storage import evaluation as ev

__all__ = [
    "COLLECTION",
    "EVERY_NAME",
    "MIXED_VALUES",
    "PARENT",
    "ContractBase",
    "ListingContractTests",
    "walk_pages",
]

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

class ContractBase(_TestCase):
    """Set-up and helpers of the contract tests: ``self.storage``, flushed before each test."""

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


class ListingContractTests(ContractBase):
    """Listings: what ``get_all`` selects, in which order, page after page."""

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
