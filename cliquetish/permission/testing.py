"""The contract suite every permission backend runs (see
:class:`cliquetish.permission.PermissionBase`).

Mix :class:`PermissionContract` into a :class:`unittest.TestCase` and implement
:meth:`~PermissionContract.make_backend`; a backend with a server also mixes in
:class:`PermissionServerContract` and implements its ``make_unreachable_backend``. Each test
runs in a fresh zope transaction, aborted afterwards; a test the backend cannot pass is skipped
in its module with ``@unittest.skip("why")``.
"""

from __future__ import annotations

from typing import Any

import transaction

from cliquetish.permission import PermissionBase
from cliquetish.storage.exceptions import BackendError

__all__ = ["PermissionContract"]

ALICE = "basicauth:alice"
BOB = "basicauth:bob"


class PermissionContract:
    """Tests of the permission contract; ``self.permission`` is an empty backend."""

    permission: PermissionBase

    def make_backend(self) -> PermissionBase:
        """A backend instance on the test server."""
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.permission = self.make_backend()
        self._flush()
        self.addCleanup(self._flush)  # type: ignore[attr-defined]
        transaction.begin()

    def _flush(self) -> None:
        transaction.abort()
        self.permission.flush()
        transaction.commit()

    # User principals ----------------------------------------------------------------------

    def test_user_principals(self: Any) -> None:
        self.assertEqual(self.permission.get_user_principals(ALICE), set())
        self.permission.add_user_principal(ALICE, "group:editors")
        self.permission.add_user_principal(ALICE, "group:readers")
        self.permission.add_user_principal(ALICE, "group:readers")
        self.permission.add_user_principal(BOB, "group:other")
        self.assertEqual(self.permission.get_user_principals(ALICE),
                         {"group:editors", "group:readers"})
        self.permission.remove_user_principal(ALICE, "group:editors")
        self.permission.remove_user_principal(ALICE, "group:never-added")
        self.assertEqual(self.permission.get_user_principals(ALICE), {"group:readers"})
        self.assertEqual(self.permission.get_user_principals(BOB), {"group:other"})

    def test_returned_sets_are_copies(self: Any) -> None:
        self.permission.add_user_principal(ALICE, "group:a")
        self.permission.get_user_principals(ALICE).add("group:b")
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.get_object_permission_principals("/articles/1", "read").add(BOB)
        self.permission.object_permissions("/articles/1")["read"].add(BOB)
        self.assertEqual(self.permission.get_user_principals(ALICE), {"group:a"})
        self.assertEqual(self.permission.object_permissions("/articles/1"), {"read": {ALICE}})

    # Entries ------------------------------------------------------------------------------

    def test_add_and_remove_entries(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_principal_to_ace("/articles/1", "read", BOB)
        self.permission.add_principal_to_ace("/articles/1", "write", BOB)
        self.assertEqual(self.permission.get_object_permission_principals("/articles/1", "read"),
                         {ALICE, BOB})
        self.permission.remove_principal_from_ace("/articles/1", "read", BOB)
        self.permission.remove_principal_from_ace("/articles/1", "read", "nobody")
        self.permission.remove_principal_from_ace("/articles/404", "read", BOB)
        self.assertEqual(self.permission.get_object_permission_principals("/articles/1", "read"),
                         {ALICE})
        self.assertEqual(self.permission.get_object_permission_principals("/articles/1", "write"),
                         {BOB})
        self.assertEqual(self.permission.get_object_permission_principals("/articles/2", "read"),
                         set())

    def test_check_permission(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "write", ALICE)
        check = self.permission.check_permission
        self.assertTrue(check("/articles/1", ["write"], [ALICE]))
        self.assertTrue(check("/articles/1", ["read", "write"], ["system.Everyone", ALICE]))
        self.assertFalse(check("/articles/1", ["read"], [ALICE]))
        self.assertFalse(check("/articles/1", ["write"], [BOB]))
        self.assertFalse(check("/articles/2", ["write"], [ALICE]))
        self.assertFalse(check("/articles/1", [], [ALICE]))
        self.assertFalse(check("/articles/1", ["write"], []))

    def test_checks_accept_any_iterable(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        principals = (p for p in ["system.Everyone", ALICE])
        self.assertTrue(self.permission.check_permission("/articles/1", ("read",), principals))
        found = self.permission.accessible_objects(frozenset([ALICE]), iter(["read"]))
        self.assertEqual(found, {"/articles/1"})

    def test_groups_grant_permissions(self: Any) -> None:
        self.permission.add_user_principal(ALICE, "group:editors")
        self.permission.add_principal_to_ace("/articles/1", "write", "group:editors")
        principals = [ALICE, *self.permission.get_user_principals(ALICE)]
        self.assertTrue(self.permission.check_permission("/articles/1", ["write"], principals))
        self.assertEqual(self.permission.accessible_objects(principals, ["write"]),
                         {"/articles/1"})
        bob_principals = [BOB, *self.permission.get_user_principals(BOB)]
        self.assertFalse(self.permission.check_permission("/articles/1", ["write"],
                                                          bob_principals))

    def test_unicode_and_odd_characters(self: Any) -> None:
        odd_object = "/articles/é'\"%_\\*?"
        odd_principal = "group:ünïcødé ✓ 'quote' % _"
        self.permission.add_principal_to_ace(odd_object, "read", odd_principal)
        self.permission.add_user_principal("user:ключ", odd_principal)
        self.assertTrue(self.permission.check_permission(odd_object, ["read"], [odd_principal]))
        self.assertEqual(self.permission.get_user_principals("user:ключ"), {odd_principal})
        self.assertEqual(self.permission.accessible_objects([odd_principal], ["read"],
                                                            "/articles/é'\"%_"), {odd_object})

    # Listings -----------------------------------------------------------------------------

    def _add_listing_entries(self) -> None:
        add = self.permission.add_principal_to_ace
        add("/articles/1", "read", ALICE)
        add("/articles/2", "write", ALICE)
        add("/articles/3", "read", BOB)
        add("/articles/4", "read", "system.Everyone")
        add("/articles-archive/5", "read", ALICE)
        add("/bookmarks/6", "read", ALICE)

    def test_accessible_objects(self: Any) -> None:
        self._add_listing_entries()
        found = self.permission.accessible_objects([ALICE], ["read", "write"])
        self.assertEqual(found, {"/articles/1", "/articles/2", "/articles-archive/5",
                                 "/bookmarks/6"})
        self.assertEqual(self.permission.accessible_objects([ALICE], ["write"]),
                         {"/articles/2"})
        self.assertEqual(self.permission.accessible_objects([], ["read"]), set())
        self.assertEqual(self.permission.accessible_objects([ALICE], []), set())

    def test_accessible_objects_under_a_prefix(self: Any) -> None:
        self._add_listing_entries()
        found = self.permission.accessible_objects(
            [ALICE, "system.Everyone"], ["read", "write"], "/articles/")
        self.assertEqual(found, {"/articles/1", "/articles/2", "/articles/4"})
        self.assertEqual(self.permission.accessible_objects([BOB], ["read"], "/bookmarks/"),
                         set())

    def test_prefix_wildcard_characters_are_literal(self: Any) -> None:
        self.permission.add_principal_to_ace("/a_b/1", "read", ALICE)
        self.permission.add_principal_to_ace("/axb/2", "read", ALICE)
        self.permission.add_principal_to_ace("/a%b/3", "read", ALICE)
        self.assertEqual(self.permission.accessible_objects([ALICE], ["read"], "/a_b/"),
                         {"/a_b/1"})
        self.assertEqual(self.permission.accessible_objects([ALICE], ["read"], "/a%"),
                         {"/a%b/3"})

    # Whole objects ------------------------------------------------------------------------

    def test_object_permissions(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_principal_to_ace("/articles/1", "write", BOB)
        self.assertEqual(self.permission.object_permissions("/articles/1"),
                         {"read": {ALICE}, "write": {BOB}})
        self.assertEqual(self.permission.object_permissions("/articles/1", ["write"]),
                         {"write": {BOB}})
        self.assertEqual(self.permission.object_permissions("/articles/404"), {})

    def test_replace_object_permissions(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_principal_to_ace("/articles/1", "write", ALICE)
        self.permission.add_principal_to_ace("/articles/2", "read", ALICE)
        self.permission.replace_object_permissions("/articles/1", {"read": {BOB, "group:x"}})
        self.assertEqual(self.permission.object_permissions("/articles/1"),
                         {"read": {BOB, "group:x"}, "write": {ALICE}})
        self.permission.replace_object_permissions("/articles/1", {"write": set(), "read": [BOB]})
        self.assertEqual(self.permission.object_permissions("/articles/1"), {"read": {BOB}})
        self.assertFalse(self.permission.check_permission("/articles/1", ["write"], [ALICE]))
        self.assertEqual(self.permission.object_permissions("/articles/2"), {"read": {ALICE}})

    def test_replace_permissions_of_a_new_object(self: Any) -> None:
        self.permission.replace_object_permissions("/articles/9", {"write": {ALICE}, "read": []})
        self.assertEqual(self.permission.object_permissions("/articles/9"), {"write": {ALICE}})
        self.assertEqual(self.permission.accessible_objects([ALICE], ["write"]), {"/articles/9"})

    def test_objects_without_entries_disappear(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_principal_to_ace("/articles/2", "write", ALICE)
        self.permission.remove_principal_from_ace("/articles/1", "read", ALICE)
        self.permission.replace_object_permissions("/articles/2", {"write": [], "read": set()})
        self.permission.replace_object_permissions("/articles/3", {})
        for object_id in ("/articles/1", "/articles/2", "/articles/3"):
            self.assertEqual(self.permission.object_permissions(object_id), {})
        self.assertEqual(self.permission.accessible_objects([ALICE], ["read", "write"]), set())
        self.permission.add_principal_to_ace("/articles/1", "read", BOB)
        self.assertEqual(self.permission.object_permissions("/articles/1"), {"read": {BOB}})

    def test_delete_object_permissions(self: Any) -> None:
        for index in range(4):
            self.permission.add_principal_to_ace(f"/articles/{index}", "read", ALICE)
        self.permission.delete_object_permissions("/articles/0", "/articles/2", "/articles/404")
        self.permission.delete_object_permissions()
        self.assertEqual(self.permission.accessible_objects([ALICE], ["read"]),
                         {"/articles/1", "/articles/3"})
        self.assertEqual(self.permission.object_permissions("/articles/0"), {})

    def test_flush_deletes_everything(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_user_principal(ALICE, "group:a")
        self._flush()
        self.assertEqual(self.permission.object_permissions("/articles/1"), {})
        self.assertEqual(self.permission.get_user_principals(ALICE), set())

    # Transactions -------------------------------------------------------------------------

    def test_committed_writes_stay(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_user_principal(ALICE, "group:a")
        transaction.commit()
        transaction.begin()
        self.assertTrue(self.permission.check_permission("/articles/1", ["read"], [ALICE]))
        self.assertEqual(self.permission.get_user_principals(ALICE), {"group:a"})

    def test_aborted_transaction_leaves_nothing(self: Any) -> None:
        self.permission.add_principal_to_ace("/articles/1", "read", ALICE)
        self.permission.add_user_principal(ALICE, "group:a")
        transaction.commit()
        transaction.begin()
        self.permission.replace_object_permissions("/articles/1", {"read": {BOB}, "write": {BOB}})
        self.permission.add_principal_to_ace("/articles/2", "read", BOB)
        self.permission.delete_object_permissions("/articles/1")
        self.permission.remove_user_principal(ALICE, "group:a")
        self.permission.add_user_principal(BOB, "group:b")
        transaction.abort()
        transaction.begin()
        self.assertEqual(self.permission.object_permissions("/articles/1"), {"read": {ALICE}})
        self.assertEqual(self.permission.object_permissions("/articles/2"), {})
        self.assertEqual(self.permission.get_user_principals(ALICE), {"group:a"})
        self.assertEqual(self.permission.get_user_principals(BOB), set())

    # Heartbeat and failures ---------------------------------------------------------------

    def test_ping(self: Any) -> None:
        self.assertIs(self.permission.ping(), True)


class PermissionServerContract:
    """The part of the contract for a backend that talks to a server: mix it in beside
    :class:`PermissionContract` in the test classes of such backends."""

    def make_unreachable_backend(self) -> PermissionBase:
        """A backend whose server does not answer."""
        raise NotImplementedError

    def test_unreachable_server_raises_backend_error(self: Any) -> None:
        broken = self.make_unreachable_backend()
        self.assertIs(broken.ping(), False)
        with self.assertRaises(BackendError):
            broken.check_permission("/articles/1", ["read"], [ALICE])
        with self.assertRaises(BackendError):
            broken.add_principal_to_ace("/articles/1", "read", ALICE)
        with self.assertRaises(BackendError):
            broken.get_user_principals(ALICE)
