"""The querystring of listings: filters, sorting, pagination, _since/_before, _fields."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.resource.conftest import ALICE, BOB, PREFIX
from tests.resource.test_collection import BOOKMARKS, NOTES, assert_error

NOTES_DATA = [
    {"title": "Alpha", "rank": 3, "tags": ["a", "b"], "author": {"name": "Ann", "age": 30},
     "done": True},
    {"title": "beta", "rank": 1, "tags": ["b"], "author": {"name": "Bob", "age": 40}},
    {"title": "Gamma ray", "rank": 2, "tags": [], "done": False},
    {"title": "delta", "rank": 5, "author": {"name": None}},
]


@pytest.fixture
def notes(app):
    created = []
    for data in NOTES_DATA:
        created.append(app.post_json(NOTES, {"data": data}, headers=ALICE).json["data"])
    return created


def titles(app, query, headers=ALICE):
    response = app.get(f"{NOTES}?{query}", headers=headers)
    return [record["title"] for record in response.json["data"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("rank=3", ["Alpha"]),
    ('rank="3"', []),
    ("title=beta", ["beta"]),
    ("eq_title=beta", ["beta"]),
    ("done=true", ["Alpha"]),
    ("not_rank=3", ["beta", "Gamma ray", "delta"]),
    ("min_rank=2", ["Gamma ray", "Alpha", "delta"]),
    ("max_rank=2", ["beta", "Gamma ray"]),
    ("lt_rank=3", ["beta", "Gamma ray"]),
    ("gt_rank=3", ["delta"]),
    ("in_rank=1,5", ["beta", "delta"]),
    ("exclude_rank=1,5", ["Gamma ray", "Alpha"]),
    ("like_title=AM", ["Gamma ray"]),
    ("like_title=a*a", ["Alpha"]),
    ("like_title=*A", ["beta", "Alpha", "delta"]),
    ("has_done=true", ["Gamma ray", "Alpha"]),
    ("has_done=false", ["beta", "delta"]),
    ("contains_tags=b", ["beta", "Alpha"]),
    ("contains_tags=a,b", ["Alpha"]),
    ("contains_any_tags=a,x", ["Alpha"]),
    ("author.name=Bob", ["beta"]),
    ("min_author.age=35", ["beta"]),
    ("author.name=null", ["delta"]),
    ("has_author.name=true", ["beta", "Alpha", "delta"]),
    ("min_rank=2&max_rank=3", ["Gamma ray", "Alpha"]),
])
def test_filters(app, notes, query, expected) -> None:
    assert titles(app, query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["beta", "Gamma ray", "Alpha", "delta"]),
    ("_sort=-rank", ["delta", "Alpha", "Gamma ray", "beta"]),
    ("_sort=title", ["Alpha", "Gamma ray", "beta", "delta"]),
    # Descending is the exact reverse of the ascending order, where missing values come last.
    ("_sort=-author.age,title", ["Gamma ray", "delta", "beta", "Alpha"]),
    ("_sort=last_modified", ["Alpha", "beta", "Gamma ray", "delta"]),
    ("_sort=-last_modified", ["delta", "Gamma ray", "beta", "Alpha"]),
])
def test_sorting(app, notes, query, expected) -> None:
    assert titles(app, query) == expected


def test_sort_ties_are_broken_by_last_modified(app) -> None:
    for title in ("a", "b", "c"):
        app.post_json(NOTES, {"data": {"title": title, "rank": 1}}, headers=ALICE)
    assert titles(app, "_sort=rank") == ["c", "b", "a"]


@pytest.mark.parametrize(("query", "name"), [
    ("unknown=1", "unknown"), ("min_nope=1", "min_nope"), ("_sort=nope", "_sort"),
    ("_limit=abc", "_limit"), ("_limit=0", "_limit"), ("_limit=-3", "_limit"),
    ("_since=-1", "_since"), ("_since=abc", "_since"), ("_before=1.5", "_before"),
    ("_token=garbage", "_token"), ("_fields=nope", "_fields"), ("_what=1", "_what"),
    ("has_done=maybe", "has_done"), ("last_modified=x", "last_modified"),
])
def test_malformed_querystrings(app, notes, query, name) -> None:
    response = app.get(f"{NOTES}?{query}", headers=ALICE, status=400)
    body = assert_error(response, 400, 107, name)
    assert body["details"][0]["location"] == "querystring"


def test_unknown_fields_are_fine_when_the_schema_keeps_them(app) -> None:
    app.post_json(BOOKMARKS, {"data": {"url": "http://a.org", "extra": {"n": 2}}},
                  headers=ALICE)
    assert len(app.get(f"{BOOKMARKS}?extra.n=2", headers=ALICE).json["data"]) == 1
    assert app.get(f"{BOOKMARKS}?extra.n=3", headers=ALICE).json["data"] == []


def test_fields(app, notes) -> None:
    data = app.get(f"{NOTES}?_fields=title,author.name&rank=3", headers=ALICE).json["data"]
    assert data == [{"id": notes[0]["id"], "last_modified": notes[0]["last_modified"],
                     "title": "Alpha", "author": {"name": "Ann"}}]


def test_since_and_before_include_tombstones(app, notes) -> None:
    start = notes[1]["last_modified"]
    assert titles(app, f"_since={start}&_sort=last_modified") == ["Gamma ray", "delta"]
    assert titles(app, f'_since="{start}"&_sort=last_modified') == ["Gamma ray", "delta"]
    assert titles(app, f"_before={start}") == ["Alpha"]
    gone = app.delete(f"{NOTES}/{notes[0]['id']}", headers=ALICE).json["data"]
    data = app.get(f"{NOTES}?_since={notes[3]['last_modified']}", headers=ALICE).json["data"]
    assert data == [gone]
    assert app.get(f"{NOTES}?_before={gone['last_modified'] + 1}&_sort=-last_modified",
                   headers=ALICE).json["data"][0] == gone
    assert "Alpha" not in titles(app, "")
    assert app.head(f"{NOTES}?_since=0", headers=ALICE).headers["Total-Records"] == "3"


def next_page(response):
    return response.headers.get("Next-Page")


def walk(app, first_url, headers=ALICE):
    seen, pages = [], 0
    response = app.get(first_url, headers=headers)
    while True:
        pages += 1
        seen.extend(record["id"] for record in response.json["data"])
        link = next_page(response)
        if not link:
            return seen, pages
        assert link.startswith("http://localhost/v1/")
        response = app.get(link, headers=headers)


@pytest.mark.parametrize("sort", ["", "&_sort=rank", "&_sort=-title", "&_sort=-author.age",
                                  "&_sort=done,-rank"])
def test_pagination_walks_every_record_once(app, notes, sort) -> None:
    seen, pages = walk(app, f"{NOTES}?_limit=1{sort}")
    assert sorted(seen) == sorted(note["id"] for note in notes)
    assert pages == 4
    expected = [r["id"] for r in app.get(f"{NOTES}?_limit=10{sort}", headers=ALICE).json["data"]]
    assert seen == expected


def test_next_page_keeps_filters_and_limit(app, notes) -> None:
    response = app.get(f"{NOTES}?_limit=1&min_rank=2&_fields=title", headers=ALICE)
    query = parse_qs(urlparse(next_page(response)).query)
    assert query["_limit"] == ["1"]
    assert query["min_rank"] == ["2"]
    assert query["_fields"] == ["title"]
    assert len(query["_token"]) == 1
    seen, _ = walk(app, f"{NOTES}?_limit=1&min_rank=2")
    assert len(seen) == 3


def test_last_page_has_no_next_page(app, notes) -> None:
    assert next_page(app.get(f"{NOTES}?_limit=4", headers=ALICE)) is None
    assert next_page(app.get(f"{NOTES}?_limit=3", headers=ALICE)) is not None


def test_tokens_only_work_where_they_came_from(app, notes) -> None:
    app.post_json(NOTES, {"data": {"title": "bob's"}}, headers=BOB)
    link = next_page(app.get(f"{NOTES}?_limit=1&min_rank=1", headers=ALICE))
    token = parse_qs(urlparse(link).query)["_token"][0]
    for other in (f"{NOTES}?_limit=1&min_rank=1&_token={token}",):
        app.get(other, headers=BOB, status=400)
    app.get(f"{NOTES}?_limit=1&min_rank=2&_token={token}", headers=ALICE, status=400)
    app.get(f"{NOTES}?_limit=1&min_rank=1&_sort=title&_token={token}", headers=ALICE,
            status=400)
    response = app.get(f"{BOOKMARKS}?_limit=1&min_rank=1&_token={token}", headers=ALICE,
                       status=400)
    assert_error(response, 400, 107, "_token")
    app.get(f"{NOTES}?_limit=3&min_rank=1&_token={token}", headers=ALICE, status=200)


def test_limit_is_capped_by_paginate_by(app_with) -> None:
    test_app = app_with(paginate_by=2)
    for index in range(5):
        test_app.post_json(NOTES, {"data": {"title": f"n{index}"}}, headers=ALICE)
    response = test_app.get(f"{NOTES}?_limit=100", headers=ALICE)
    assert len(response.json["data"]) == 2
    assert next_page(response)
    response = test_app.get(NOTES, headers=ALICE)
    assert len(response.json["data"]) == 2
    seen, pages = walk(test_app, NOTES)
    assert (len(set(seen)), pages) == (5, 3)


def test_limit_is_capped_by_max_fetch_size(app_with) -> None:
    test_app = app_with(storage_max_fetch_size=3, paginate_by=10)
    for index in range(4):
        test_app.post_json(NOTES, {"data": {"title": f"n{index}"}}, headers=ALICE)
    response = test_app.get(f"{NOTES}?_limit=10", headers=ALICE)
    assert len(response.json["data"]) == 3
    assert next_page(response)
    assert test_app.head(NOTES, headers=ALICE).headers["Total-Records"] == "4"


def test_delete_collection_with_a_limit_offers_the_rest(app_with) -> None:
    test_app = app_with(paginate_by=2)
    for index in range(3):
        test_app.post_json(NOTES, {"data": {"title": f"n{index}"}}, headers=ALICE)
    response = test_app.delete(NOTES, headers=ALICE)
    assert len(response.json["data"]) == 2
    assert next_page(response) == f"http://localhost{PREFIX}/notes"
    assert len(test_app.delete(next_page(response), headers=ALICE).json["data"]) == 1
    response = test_app.delete(f"{NOTES}?_token=abc", headers=ALICE, status=400)
    assert_error(response, 400, 107, "_token")


def test_a_listing_querystring_is_parsed_once(app, notes, monkeypatch) -> None:
    from cliquetish.resource import listing, registered_resources

    memo = registered_resources(app.app.registry)["note"].listing_queries
    memo.clear()
    first = titles(app, "_sort=rank&_limit=2")
    assert first == ["beta", "Gamma ray"]
    remembered = memo["_sort=rank&_limit=2"]
    assert titles(app, "_sort=rank&_limit=2") == first
    assert memo["_sort=rank&_limit=2"] is remembered
    # a querystring that does not parse is refused every time, and never remembered
    for _ in range(2):
        assert_error(app.get(f"{NOTES}?_limit=many", headers=ALICE, status=400), 400, 107,
                     "_limit")
    assert "_limit=many" not in memo
    # bounded: once full, everything is forgotten and the new one kept
    monkeypatch.setattr(listing, "LISTING_QUERIES_KEPT", len(memo))
    assert titles(app, "_sort=-rank&_limit=1") == ["delta"]
    assert list(memo) == ["_sort=-rank&_limit=1"]
