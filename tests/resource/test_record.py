"""Record endpoints (GET, PUT, PATCH, DELETE) and preconditions, on every backend."""

from __future__ import annotations

import pytest

from tests.resource.conftest import ALICE, BOB
from tests.resource.test_collection import BOOKMARKS, NOTES, assert_error, create

MISSING_ID = "0b3bb5e2-43b6-4c24-8b3c-5b1a3a8a3c0e"


def url(record_or_id):
    object_id = record_or_id if isinstance(record_or_id, str) else record_or_id["id"]
    return f"{BOOKMARKS}/{object_id}"


def etag(record):
    return f'"{record["last_modified"]}"'


def test_get_a_record(app) -> None:
    record = create(app, title="A")
    response = app.get(url(record), headers=ALICE)
    assert response.json == {"data": record}
    assert response.headers["ETag"] == etag(record)
    assert response.headers["Cache-Control"] == "no-cache"


def test_head_a_record(app) -> None:
    record = create(app)
    response = app.head(url(record), headers=ALICE, status=200)
    assert response.body == b""
    assert response.headers["ETag"] == etag(record)


def test_get_with_fields(app) -> None:
    record = create(app, title="A", extra={"a": 1, "b": 2})
    response = app.get(f"{url(record)}?_fields=title,extra.b", headers=ALICE)
    assert response.json["data"] == {"id": record["id"], "last_modified": record["last_modified"],
                                     "title": "A", "extra": {"b": 2}}


def test_missing_and_invalid_ids(app) -> None:
    response = app.get(url(MISSING_ID), headers=ALICE, status=404)
    assert_error(response, 404, 110)
    response = app.get(url("not-a-uuid"), headers=ALICE, status=400)
    body = assert_error(response, 400, 107, "id")
    assert body["details"][0]["location"] == "path"
    app.patch_json(url(MISSING_ID), {"data": {}}, headers=ALICE, status=404)
    app.delete(url(MISSING_ID), headers=ALICE, status=404)


def test_put_creates_then_replaces(app) -> None:
    response = app.put_json(url(MISSING_ID), {"data": {"url": "http://a.org", "title": "A"}},
                            headers=ALICE, status=201)
    created = response.json["data"]
    assert created["id"] == MISSING_ID
    response = app.put_json(url(MISSING_ID), {"data": {"url": "http://b.org"}}, headers=ALICE,
                            status=200)
    replaced = response.json["data"]
    assert replaced["url"] == "http://b.org"
    assert "title" not in replaced
    assert replaced["last_modified"] > created["last_modified"]
    assert response.headers["ETag"] == etag(replaced)


def test_put_body_id_must_match(app) -> None:
    response = app.put_json(url(MISSING_ID), {"data": {"id": "other", "url": "http://a.org"}},
                            headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.id")
    app.put_json(url(MISSING_ID), {"data": {"id": MISSING_ID, "url": "http://a.org"}},
                 headers=ALICE, status=201)


def test_put_validates(app) -> None:
    response = app.put_json(url(MISSING_ID), {"data": {"title": "no url"}}, headers=ALICE,
                            status=400)
    assert_error(response, 400, 107, "data.url")
    app.get(url(MISSING_ID), headers=ALICE, status=404)


def test_patch_json_is_a_shallow_merge(app) -> None:
    record = create(app, title="A", extra={"a": 1, "b": 2})
    response = app.patch_json(url(record), {"data": {"extra": {"a": 5}, "title": "B"}},
                              headers=ALICE)
    patched = response.json["data"]
    assert patched["extra"] == {"a": 5}
    assert patched["title"] == "B"
    assert patched["url"] == record["url"]
    assert patched["last_modified"] > record["last_modified"]
    assert app.get(url(record), headers=ALICE).json["data"] == patched


def test_patch_merge_patch(app) -> None:
    record = create(app, title="A", extra={"a": 1, "b": 2})
    headers = {**ALICE, "Content-Type": "application/merge-patch+json"}
    response = app.patch(url(record), '{"data": {"extra": {"a": 5}, "title": null}}',
                         headers=headers)
    patched = response.json["data"]
    assert patched["extra"] == {"a": 5, "b": 2}
    assert "title" not in patched


def test_patch_json_patch(app) -> None:
    record = create(app, title="A", tags=["x"])
    headers = {**ALICE, "Content-Type": "application/json-patch+json"}
    operations = ('[{"op": "add", "path": "/data/tags/-", "value": "y"},'
                  ' {"op": "remove", "path": "/data/title"}]')
    patched = app.patch(url(record), operations, headers=headers).json["data"]
    assert patched["tags"] == ["x", "y"]
    assert "title" not in patched
    response = app.patch(url(record), '[{"op": "remove", "path": "/data/nothere"}]',
                         headers=headers, status=400)
    assert_error(response, 400, 107, "body")
    response = app.patch(url(record), '[{"op": "replace", "path": "/data/id", "value": "x"}]',
                         headers=headers, status=400)
    assert_error(response, 400, 107, "data.id")
    response = app.patch(url(record), '{"data": {}}', headers=headers, status=400)
    assert_error(response, 400, 107, "body")


def test_patch_validates_the_result(app) -> None:
    record = create(app)
    response = app.patch_json(url(record), {"data": {"url": "nope"}}, headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.url")
    response = app.patch_json(url(record), {"data": {"id": "x"}}, headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.id")
    response = app.patch_json(url(record), [1], headers=ALICE, status=400)
    assert_error(response, 400, 107, "body")
    assert app.get(url(record), headers=ALICE).json["data"] == record


def test_patch_unsupported_content_type(app) -> None:
    record = create(app)
    response = app.patch(url(record), "x", headers={**ALICE, "Content-Type": "text/csv"},
                         status=415)
    assert_error(response, 415, 107, "Content-Type")


@pytest.mark.parametrize(("behavior", "expected_keys"), [
    ("full", {"id", "last_modified", "url", "title", "tags"}),
    ("light", {"id", "last_modified", "title"}),
    ("diff", {"id", "last_modified"}),
])
def test_response_behavior(app, behavior, expected_keys) -> None:
    record = create(app, title="A", tags=["t"])
    headers = {**ALICE, "Response-Behavior": behavior}
    data = app.patch_json(url(record), {"data": {"title": "B"}}, headers=headers).json["data"]
    assert set(data) == expected_keys


def test_response_behavior_diff_shows_server_changes(app) -> None:
    record = create(app)
    headers = {**ALICE, "Response-Behavior": "diff"}
    data = app.patch_json(url(record), {"data": {"url": "  http://spaces.org  "}},
                          headers=headers).json["data"]
    assert data["url"] == "http://spaces.org"


def test_bad_response_behavior(app) -> None:
    record = create(app)
    response = app.patch_json(url(record), {"data": {}},
                              headers={**ALICE, "Response-Behavior": "loud"}, status=400)
    assert_error(response, 400, 107, "Response-Behavior")


def test_delete_leaves_a_tombstone(app) -> None:
    record = create(app)
    response = app.delete(url(record), headers=ALICE)
    tombstone = response.json["data"]
    assert tombstone["id"] == record["id"]
    assert tombstone["deleted"] is True
    assert tombstone["last_modified"] > record["last_modified"]
    assert response.headers["ETag"] == etag(tombstone)
    app.get(url(record), headers=ALICE, status=404)
    app.delete(url(record), headers=ALICE, status=404)
    since = app.get(f"{BOOKMARKS}?_since={record['last_modified']}", headers=ALICE).json["data"]
    assert since == [tombstone]


def test_recreate_after_delete(app) -> None:
    record = create(app)
    app.delete(url(record), headers=ALICE)
    again = app.put_json(url(record), {"data": {"url": "http://again.org"}}, headers=ALICE,
                         status=201).json["data"]
    assert again["url"] == "http://again.org"


def test_readonly_fields(app) -> None:
    note = app.post_json(NOTES, {"data": {"title": "a", "created": 5}}, headers=ALICE,
                         status=201).json["data"]
    assert note["created"] == 5
    record_url = f"{NOTES}/{note['id']}"
    response = app.patch_json(record_url, {"data": {"created": 6}}, headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.created")
    replaced = app.put_json(record_url, {"data": {"title": "b"}}, headers=ALICE).json["data"]
    assert replaced["created"] == 5
    app.patch_json(record_url, {"data": {"created": 5, "title": "c"}}, headers=ALICE)
    merge = {**ALICE, "Content-Type": "application/merge-patch+json"}
    response = app.patch(record_url, '{"data": {"created": null}}', headers=merge, status=400)
    assert_error(response, 400, 107, "data.created")


def test_client_last_modified_moves_forward_only(app) -> None:
    record = create(app)
    future = record["last_modified"] + 100000
    patched = app.patch_json(url(record), {"data": {"last_modified": future}},
                             headers=ALICE).json["data"]
    assert patched["last_modified"] == future
    past = app.patch_json(url(record), {"data": {"last_modified": 5}},
                          headers=ALICE).json["data"]
    assert past["last_modified"] > future


# Preconditions


def test_if_none_match_on_reads(app) -> None:
    record = create(app)
    response = app.get(url(record), headers={**ALICE, "If-None-Match": etag(record)},
                       status=304)
    assert response.headers["ETag"] == etag(record)
    assert response.body == b""
    app.get(url(record), headers={**ALICE, "If-None-Match": '"1"'}, status=200)
    listing = app.get(BOOKMARKS, headers=ALICE)
    app.get(BOOKMARKS, headers={**ALICE, "If-None-Match": listing.headers["ETag"]}, status=304)
    app.head(BOOKMARKS, headers={**ALICE, "If-None-Match": listing.headers["ETag"]}, status=304)
    app.get(BOOKMARKS, headers={**ALICE, "If-None-Match": '"1"'}, status=200)


def test_if_match_on_writes(app) -> None:
    record = create(app)
    stale = '"1"'
    for method in ("put_json", "patch_json"):
        response = getattr(app, method)(url(record), {"data": {"url": "http://c.org"}},
                                        headers={**ALICE, "If-Match": stale}, status=412)
        body = assert_error(response, 412, 114)
        assert body["details"]["existing"] == record
        assert response.headers["ETag"] == etag(record)
    app.delete(url(record), headers={**ALICE, "If-Match": stale}, status=412)
    patched = app.patch_json(url(record), {"data": {"title": "ok"}},
                             headers={**ALICE, "If-Match": etag(record)}).json["data"]
    app.delete(url(record), headers={**ALICE, "If-Match": etag(patched)}, status=200)


def test_star_preconditions(app) -> None:
    body = {"data": {"url": "http://a.org"}}
    app.put_json(url(MISSING_ID), body, headers={**ALICE, "If-Match": "*"}, status=412)
    app.put_json(url(MISSING_ID), body, headers={**ALICE, "If-None-Match": "*"}, status=201)
    response = app.put_json(url(MISSING_ID), body, headers={**ALICE, "If-None-Match": "*"},
                            status=412)
    assert response.json["details"]["existing"]["id"] == MISSING_ID
    app.put_json(url(MISSING_ID), body, headers={**ALICE, "If-Match": "*"}, status=200)
    body = {"data": {"id": MISSING_ID, "url": "http://a.org"}}
    app.post_json(BOOKMARKS, body, headers={**ALICE, "If-None-Match": "*"}, status=412)


def test_collection_if_match(app) -> None:
    create(app)
    current = app.get(BOOKMARKS, headers=ALICE).headers["ETag"]
    body = {"data": {"url": "http://a.org"}}
    app.post_json(BOOKMARKS, body, headers={**ALICE, "If-Match": '"1"'}, status=412)
    app.delete(BOOKMARKS, headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert len(app.get(BOOKMARKS, headers=ALICE).json["data"]) == 1
    app.post_json(BOOKMARKS, body, headers={**ALICE, "If-Match": current}, status=201)


@pytest.mark.parametrize("value", ["123", '"abc"', '"12', "W/\"1\"", '"1", "2"', "", '""'])
def test_malformed_preconditions(app, value) -> None:
    record = create(app)
    response = app.get(url(record), headers={**ALICE, "If-None-Match": value}, status=400)
    assert_error(response, 400, 107, "If-None-Match")
    response = app.patch_json(url(record), {"data": {}}, headers={**ALICE, "If-Match": value},
                              status=400)
    assert_error(response, 400, 107, "If-Match")


def test_other_users_records_are_invisible(app) -> None:
    record = create(app)
    for call in (app.get, app.delete):
        call(url(record), headers=BOB, status=404)
    app.patch_json(url(record), {"data": {}}, headers=BOB, status=404)
    app.put_json(url(record), {"data": {"url": "http://bob.org"}}, headers=BOB, status=201)
    assert app.get(url(record), headers=ALICE).json["data"] == record




def test_header_keys_are_the_wsgi_environ_keys() -> None:
    from cliquetish.resource.http import header_key

    assert header_key("If-None-Match") == "HTTP_IF_NONE_MATCH"
    assert header_key("If-Match") == "HTTP_IF_MATCH"
    assert header_key("Accept") == "HTTP_ACCEPT"


def test_an_empty_querystring_or_fields_answer_as_without(app) -> None:
    record = create(app, title="A", extra={"b": 1})
    assert app.get(url(record) + "?", headers=ALICE).json == {"data": record}
    only = app.get(url(record) + "?_fields=title", headers=ALICE).json["data"]
    assert only == {"id": record["id"], "last_modified": record["last_modified"], "title": "A"}
