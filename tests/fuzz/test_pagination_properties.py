"""Property: for any records, filters and sort, walking the pages equals the unpaged listing.

Hypothesis draws records (fields present or missing, mixed types, ties, nested fields, lists),
some of them deleted (tombstones), some not readable by the user (articles shared with someone
else, bookmarks of another user), then a listing: filters, ``_since``/``_before``, ``_sort`` and a
page size. The listing is fetched once unpaged, then page by page following ``Next-Page`` until
it is absent: both must hold the same records in the same order, and only records the user may
read. Runs on memory and, with fewer examples, on PostgreSQL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import webtest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cliquetish.interfaces import IPermission, IStorage
from tests.hostile.demo_apps import ALICE, BOB, demo_app, reset, user_id

TITLES = ("a", "A", "b", "ab", "", "é", "a*b")
NAMES = ("ann", "bob", "Ann")

RANKS = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([1.5, "2", True, [1], {}]))
RECORD = st.fixed_dictionaries({}, optional={
    "rank": RANKS,
    "title": st.sampled_from(TITLES),
    "tags": st.lists(st.sampled_from("xyz"), max_size=3),
    "author": st.fixed_dictionaries({}, optional={"name": st.sampled_from(NAMES)}),
})
ROW = st.tuples(RECORD, st.booleans(), st.booleans())
"""A record, whether it is then deleted, whether the user may read it."""

SMALL_INT = st.integers(-3, 3).map(str)
FILTER = st.one_of(
    st.tuples(st.sampled_from(["min_rank", "max_rank", "lt_rank", "gt_rank", "rank",
                               "not_rank"]), SMALL_INT),
    st.tuples(st.sampled_from(["in_rank", "exclude_rank"]),
              st.lists(SMALL_INT, min_size=1, max_size=3).map(",".join)),
    st.tuples(st.sampled_from(["has_rank", "has_author.name", "has_tags"]),
              st.sampled_from(["true", "false"])),
    st.tuples(st.just("like_title"), st.sampled_from(["a", "*b", "A*", "é"])),
    st.tuples(st.sampled_from(["title", "not_title", "min_title"]),
              st.sampled_from(TITLES).map(lambda text: f'"{text}"')),
    st.tuples(st.sampled_from(["contains_tags", "contains_any_tags"]),
              st.sampled_from(["x", "x,y", '["z"]'])),
    st.tuples(st.sampled_from(["author.name", "not_author.name"]),
              st.sampled_from(NAMES).map(lambda name: f'"{name}"')),
)
SORT_FIELDS = ("rank", "title", "tags", "author.name", "id", "last_modified", "missing")
SORT = st.lists(st.tuples(st.sampled_from(SORT_FIELDS), st.sampled_from(["", "-"])),
                max_size=3, unique_by=lambda item: item[0])
LISTING = st.fixed_dictionaries({
    "filters": st.lists(FILTER, max_size=2),
    "sort": SORT,
    "since": st.none() | st.integers(0, 30),
    "before": st.none() | st.integers(0, 30),
    "limit": st.integers(1, 4),
})


def _store(app: webtest.TestApp, resource: str, rows: list[tuple[dict, bool, bool]]
           ) -> list[int]:
    """Write the rows straight into the backends; return their timestamps."""
    registry = app.app.registry
    storage, permission = registry.getUtility(IStorage), registry.getUtility(IPermission)
    alice, bob = user_id(app, ALICE), user_id(app, BOB)
    stamps = []
    for record, deleted, readable in rows:
        parent = "" if resource == "article" else alice if readable else bob
        created = storage.create(resource, parent, dict(record))
        stamps.append(created["last_modified"])
        if resource == "article":
            reader = alice if readable else bob
            permission.replace_object_permissions(f"/articles/{created['id']}",
                                                  {"read": [reader], "write": [bob]})
        if deleted:
            stamps.append(storage.delete(resource, parent, created["id"])["last_modified"])
    return stamps


def _query(listing: dict[str, Any], stamps: list[int]) -> list[tuple[str, str]]:
    params = list(listing["filters"])
    for name in ("since", "before"):
        if listing[name] is not None and stamps:
            params.append((f"_{name}", str(stamps[listing[name] % len(stamps)])))
    if listing["sort"]:
        params.append(("_sort", ",".join(sign + field for field, sign in listing["sort"])))
    return params


def _walk(app: webtest.TestApp, path: str, params: list[tuple[str, str]], limit: int,
          most_pages: int) -> list[dict[str, Any]]:
    url = f"{path}?{urlencode([*params, ('_limit', str(limit))])}"
    records: list[dict[str, Any]] = []
    for _ in range(most_pages):
        response = app.get(url, headers=ALICE, status=200)
        records.extend(response.json["data"])
        assert len(response.json["data"]) <= limit
        next_page = response.headers.get("Next-Page")
        if next_page is None:
            return records
        parts = urlsplit(next_page)
        assert parts.path == path
        url = f"{parts.path}?{parts.query}"
    raise AssertionError(f"still a Next-Page after {most_pages} pages")


def check_pages_equal_unpaged(app: webtest.TestApp, resource: str,
                              rows: list[tuple[dict, bool, bool]],
                              listing: dict[str, Any]) -> None:
    reset(app)
    stamps = _store(app, resource, rows)
    path = f"/v1/{resource}s"
    params = _query(listing, stamps)
    unpaged = app.get(f"{path}?{urlencode(params)}", headers=ALICE, expect_errors=True)
    event(f"unpaged listing answered {unpaged.status_int}")
    if unpaged.status_int == 400:  # a combination the protocol refuses: so must every page
        event(f"refused: {unpaged.json['message']}")
        first = app.get(f"{path}?{urlencode([*params, ('_limit', '1')])}", headers=ALICE,
                        expect_errors=True)
        assert first.status_int == 400
        return
    assert unpaged.status_int == 200, unpaged.body
    assert "Next-Page" not in unpaged.headers
    expected = unpaged.json["data"]
    paged = _walk(app, path, params, listing["limit"], len(rows) + 2)
    pages = len(expected) // listing["limit"] + 1
    event(f"pages walked: {'one' if pages == 1 else 'several'}")
    assert [record["id"] for record in paged] == [record["id"] for record in expected]
    assert paged == expected
    readable = {index for index, (_, _, may_read) in enumerate(rows) if may_read}
    assert len(expected) <= len(readable)


PROPERTY_SETTINGS = settings(deadline=None, database=None,
                             suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])


@pytest.mark.parametrize("resource", ("bookmark", "article"))
@given(rows=st.lists(ROW, min_size=1, max_size=14), listing=LISTING)
@settings(PROPERTY_SETTINGS, max_examples=150)
def test_pages_equal_unpaged_on_memory(resource: str, rows: list, listing: dict) -> None:
    check_pages_equal_unpaged(demo_app("memory"), resource, rows, listing)


@pytest.mark.postgresql
@pytest.mark.parametrize("resource", ("bookmark", "article"))
@given(rows=st.lists(ROW, min_size=1, max_size=10), listing=LISTING)
@settings(PROPERTY_SETTINGS, max_examples=40)
def test_pages_equal_unpaged_on_postgresql(resource: str, rows: list, listing: dict) -> None:
    check_pages_equal_unpaged(demo_app("postgresql"), resource, rows, listing)
