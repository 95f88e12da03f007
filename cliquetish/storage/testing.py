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

import transaction

from cliquetish.storage import (
    COMPARISON,
    Filter,
    Keyset,
    ModifiedMeanwhileError,
    RecordNotFoundError,
    Sort,
    UnicityError,
)
from cliquetish.storage.testing_listing import (
    COLLECTION,
    EVERY_NAME,
    MIXED_VALUES,
    PARENT,
    ContractBase,
    ListingContractTests,
    walk_pages,
)

__all__ = [
    "COLLECTION",
    "EVERY_NAME",
    "MIXED_VALUES",
    "PARENT",
    "ContractBase",
    "StorageContractTests",
    "walk_pages",
]


class StorageContractTests(ListingContractTests):
    """The contract of :class:`cliquetish.storage.StorageBase` (see its module docstring)."""

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

    def test_listing_with_timestamp_reads_both_together(self) -> None:
        pair = (COLLECTION, "/users/fresh")
        empty, stamp = self.storage.get_all_with_timestamp(*pair, limit=5)
        self.assertEqual(empty, [])
        self.assertEqual(stamp, self.storage.collection_timestamp(*pair))
        self.assertEqual(self.storage.get_all_with_timestamp(*pair)[1], stamp)
        created = [self.create(parent=pair[1], i=i) for i in range(3)]
        records, stamp = self.storage.get_all_with_timestamp(
            *pair, filters=[Filter("i", 1, COMPARISON.MIN)], sorting=[Sort("i", -1)], limit=1)
        self.assertEqual(records, [created[2]])
        self.assertEqual(stamp, created[-1]["last_modified"])
        nothing, stamp = self.storage.get_all_with_timestamp(
            *pair, filters=[Filter("i", 9, COMPARISON.MIN)])
        self.assertEqual((nothing, stamp), ([], created[-1]["last_modified"]))

    def test_client_last_modified_is_kept_only_when_it_moves_forward(self) -> None:
        future = int(time.time() * 1000) + 3_600_000
        record = self.create(last_modified=future)
        self.assertEqual(record["last_modified"], future)
        past = self.create(last_modified=1000)
        self.assertEqual(past["last_modified"], future + 1)
        moved = self.storage.update(COLLECTION, PARENT, record["id"],
                                    {"last_modified": future + 10})
        self.assertEqual(moved["last_modified"], future + 10)
        # Not an integer, or out of 0 < t < 2**53: ignored, the storage stamps the record.
        for index, wrong in enumerate((2**53, 2**63, -5, 1.5e12, True, "17000000000000")):
            stamped = self.create(last_modified=wrong)["last_modified"]
            self.assertEqual(stamped, future + 11 + index)
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
