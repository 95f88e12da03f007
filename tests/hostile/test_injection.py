"""SQL-looking field names and values: stored and matched literally, never executed.

On a schemaless resource such text is legitimate data: it must come back byte for byte, and as a
filter it must match only records holding exactly that text. A collection DELETE filtered on an
injection attempt must delete nothing.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
import webtest

from tests.hostile.conftest import Guard, assert_client_error
from tests.hostile.demo_apps import ALICE

SQL_TEXTS = (
    "' OR '1'='1",
    "'; DROP TABLE records; --",
    '"; DELETE FROM records; --',
    "1) OR (1=1",
    "%' OR 1=1 --",
    "x' UNION SELECT id, data FROM records --",
    "$1",
    "%(p1)s",
    "%s",
    ":param",
    "data->>'title'",
    "{\"title\": \"first\"}",
    "\\'; SELECT pg_sleep(10); --",
    "E'\\x00'",
)


def test_sql_looking_names_and_values_are_stored_verbatim(app: webtest.TestApp) -> None:
    data = {text: text for text in SQL_TEXTS}
    created = app.post_json("/v1/articles", {"data": data}, headers=ALICE, status=201).json
    record_id = created["data"]["id"]
    stored = app.get(f"/v1/articles/{record_id}", headers=ALICE, status=200).json["data"]
    assert {key: stored[key] for key in data} == data
    listing = app.get("/v1/articles", headers=ALICE, status=200).json["data"]
    assert sorted(record.get("title", "") for record in listing) == ["", "first"]
    bookmarks = app.get("/v1/bookmarks", headers=ALICE, status=200).json["data"]
    assert [record["title"] for record in bookmarks] == ["a"]


@pytest.mark.parametrize("text", SQL_TEXTS)
def test_sql_looking_filters_match_only_literally(app: webtest.TestApp, text: str) -> None:
    guard = Guard(app)
    app.post_json("/v1/articles", {"data": {"title": text, text: 1}}, headers=ALICE, status=201)
    # Querystring values are JSON when they parse as JSON: quote the text to compare strings.
    quoted = json.dumps(text)
    by_value = app.get("/v1/articles?" + urlencode({"title": quoted}), headers=ALICE, status=200)
    assert [record["title"] for record in by_value.json["data"]] == [text]
    by_name = app.get("/v1/articles?" + urlencode({text: "1"}), headers=ALICE, expect_errors=True)
    if by_name.status_int == 200:
        assert [record["title"] for record in by_name.json["data"]] == [text]
    else:
        assert_client_error(by_name)
    for prefix in ("not_", "min_", "like_", "in_", "has_", "contains_"):
        response = app.get("/v1/articles?" + urlencode({prefix + "title": quoted}), headers=ALICE,
                           expect_errors=True)
        assert response.status_int in (200, 400), (prefix, response.status, response.body)
    # Only the one record written above was added.
    after = app.get("/v1/articles", headers=ALICE, status=200).json["data"]
    assert len(after) == len(guard.before["article/"]) + 1


@pytest.mark.parametrize("text", SQL_TEXTS)
def test_collection_delete_with_injected_filter_deletes_nothing(
    app: webtest.TestApp, guard: Guard, text: str
) -> None:
    for name, value in (("title", json.dumps(text)), ("like_title", text), ("in_id", text),
                        (text, json.dumps(text))):
        response = app.delete("/v1/articles?" + urlencode({name: value}), headers=ALICE,
                              expect_errors=True)
        if response.status_int == 200:
            assert response.json["data"] == []
        else:
            assert_client_error(response)
    guard.unchanged()


@pytest.mark.parametrize("text", SQL_TEXTS)
def test_sql_looking_sort_fields_and_ids_are_refused_or_harmless(
    app: webtest.TestApp, guard: Guard, text: str
) -> None:
    for query in ({"_sort": text}, {"_sort": "-" + text}, {"_fields": text},
                  {"_token": text}, {"_since": text}, {"_limit": text}):
        response = app.get("/v1/articles?" + urlencode(query), headers=ALICE, expect_errors=True)
        if response.status_int != 200:
            assert_client_error(response)
    for method in ("get", "delete"):
        response = getattr(app, method)(f"/v1/articles/{quote(text, safe='')}", headers=ALICE,
                                        expect_errors=True)
        assert_client_error(response)
    response = app.put_json(f"/v1/bookmarks/{quote(text, safe='')}",
                            {"data": {"url": "https://example.org/x"}}, headers=ALICE,
                            expect_errors=True)
    assert_client_error(response)
    guard.unchanged()


def test_like_wildcards_of_sql_are_literal(app: webtest.TestApp) -> None:
    for title in ("100%", "a_b", "plain"):
        app.post_json("/v1/articles", {"data": {"title": title}}, headers=ALICE, status=201)

    def titles(pattern: str) -> list[str]:
        response = app.get("/v1/articles?" + urlencode({"like_title": pattern}), headers=ALICE,
                           status=200)
        return sorted(record["title"] for record in response.json["data"])

    assert titles("%") == ["100%"]
    assert titles("_") == ["a_b"]
    assert titles("*") == ["100%", "a_b", "first", "plain"]
    assert titles("\\") == []
