"""Collection endpoints (GET, HEAD, POST, DELETE) of a UserResource, on every backend."""

from __future__ import annotations

import re

from tests.resource.conftest import ALICE, BOB, PREFIX

BOOKMARKS = f"{PREFIX}/bookmarks"
NOTES = f"{PREFIX}/notes"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def create(app, url="http://example.org", headers=ALICE, **fields):
    body = {"data": {"url": url, **fields}}
    return app.post_json(BOOKMARKS, body, headers=headers, status=201).json["data"]


def assert_error(response, status, errno, name=None):
    assert response.status_int == status
    body = response.json
    assert body["code"] == status
    assert body["errno"] == errno
    if name is not None:
        assert name in body["message"]
        assert body["details"][0]["name"] == name
    return body


def test_anonymous_requests_need_authentication(app) -> None:
    response = app.get(BOOKMARKS, status=401)
    assert_error(response, 401, 104)
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    app.post_json(BOOKMARKS, {"data": {"url": "http://a.org"}}, status=401)


def test_post_creates_a_record(app) -> None:
    response = app.post_json(BOOKMARKS, {"data": {"url": "http://a.org", "title": "A",
                                                  "tags": ["x"], "extra": {"kept": True}}},
                             headers=ALICE, status=201)
    record = response.json["data"]
    assert UUID4.match(record["id"])
    assert isinstance(record["last_modified"], int)
    assert record["extra"] == {"kept": True}
    assert response.headers["ETag"] == f'"{record["last_modified"]}"'
    assert response.headers["Last-Modified"].endswith(" GMT")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.content_type == "application/json"
    assert "permissions" not in response.json


def test_post_with_an_existing_id_answers_it_unchanged(app) -> None:
    record = create(app, title="first")
    response = app.post_json(BOOKMARKS, {"data": {"id": record["id"], "url": "http://b.org"}},
                             headers=ALICE, status=200)
    assert response.json["data"] == record
    assert response.headers["ETag"] == f'"{record["last_modified"]}"'


def test_post_with_a_chosen_id(app) -> None:
    chosen = "0b3bb5e2-43b6-4c24-8b3c-5b1a3a8a3c0e"
    response = app.post_json(BOOKMARKS, {"data": {"id": chosen, "url": "http://b.org"}},
                             headers=ALICE, status=201)
    assert response.json["data"]["id"] == chosen


def test_post_with_a_bad_id_is_400(app) -> None:
    response = app.post_json(BOOKMARKS, {"data": {"id": "abc", "url": "http://b.org"}},
                             headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.id")


def test_post_validation_errors(app) -> None:
    response = app.post_json(BOOKMARKS, {"data": {"title": "no url"}}, headers=ALICE,
                             status=400)
    body = assert_error(response, 400, 107, "data.url")
    assert body["details"][0]["location"] == "body"
    response = app.post_json(BOOKMARKS, {"data": {"url": "http://a.org", "tags": [1]}},
                             headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.tags.0")
    response = app.post_json(NOTES, {"data": {"title": "t", "unknown": 1}}, headers=ALICE,
                             status=400)
    assert_error(response, 400, 107, "data.unknown")


def test_malformed_bodies(app) -> None:
    response = app.post(BOOKMARKS, "{not json", headers=ALICE, status=400)
    assert response.json["errno"] == 106
    response = app.post_json(BOOKMARKS, [1, 2], headers=ALICE, status=400)
    assert_error(response, 400, 107, "body")
    response = app.post_json(BOOKMARKS, {"data": {"url": "http://a.org"}, "junk": 1},
                             headers=ALICE, status=400)
    assert_error(response, 400, 107, "junk")
    response = app.post_json(BOOKMARKS, {"data": {"url": "http://a.org"}, "permissions": {}},
                             headers=ALICE, status=400)
    assert_error(response, 400, 107, "permissions")
    response = app.post_json(BOOKMARKS, {"data": "text"}, headers=ALICE, status=400)
    assert_error(response, 400, 107, "data")


def test_unsupported_media_types(app) -> None:
    headers = {**ALICE, "Content-Type": "text/plain"}
    response = app.post(BOOKMARKS, '{"data": {}}', headers=headers, status=415)
    assert_error(response, 415, 107, "Content-Type")
    headers = {**ALICE, "Accept": "text/html"}
    response = app.get(BOOKMARKS, headers=headers, status=406)
    assert response.json["errno"] == 107
    app.get(BOOKMARKS, headers={**ALICE, "Accept": "text/html, application/*;q=0.5"},
            status=200)


def test_records_are_isolated_per_user(app) -> None:
    mine = create(app)
    create(app, headers=BOB)
    listed = app.get(BOOKMARKS, headers=ALICE).json["data"]
    assert [record["id"] for record in listed] == [mine["id"]]
    app.get(f"{BOOKMARKS}/{mine['id']}", headers=BOB, status=404)


def test_list_headers(app) -> None:
    first = create(app)
    second = create(app, url="http://b.org")
    response = app.get(BOOKMARKS, headers=ALICE)
    assert [r["id"] for r in response.json["data"]] == [second["id"], first["id"]]
    assert response.headers["ETag"] == f'"{second["last_modified"]}"'
    assert "Total-Records" not in response.headers
    assert "Next-Page" not in response.headers


def test_empty_collection_has_a_stable_etag(app) -> None:
    first = app.get(BOOKMARKS, headers=ALICE)
    assert first.json == {"data": []}
    second = app.get(BOOKMARKS, headers=ALICE)
    assert first.headers["ETag"] == second.headers["ETag"]


def test_head_counts_matching_records(app) -> None:
    for index in range(3):
        create(app, title=f"t{index}")
    response = app.head(BOOKMARKS, headers=ALICE, status=200)
    assert response.headers["Total-Records"] == "3"
    assert response.body == b""
    assert response.headers["ETag"]
    response = app.head(f"{BOOKMARKS}?title=t1", headers=ALICE, status=200)
    assert response.headers["Total-Records"] == "1"
    assert app.head(BOOKMARKS, headers=BOB).headers["Total-Records"] == "0"


def test_delete_collection_returns_tombstones(app) -> None:
    kept = create(app, title="keep")
    gone = create(app, title="gone")
    response = app.delete(f"{BOOKMARKS}?title=gone", headers=ALICE)
    tombstones = response.json["data"]
    assert [(t["id"], t["deleted"]) for t in tombstones] == [(gone["id"], True)]
    assert tombstones[0]["last_modified"] > gone["last_modified"]
    assert response.headers["ETag"] == f'"{tombstones[0]["last_modified"]}"'
    remaining = app.get(BOOKMARKS, headers=ALICE).json["data"]
    assert [r["id"] for r in remaining] == [kept["id"]]
    response = app.delete(BOOKMARKS, headers=ALICE)
    assert [t["id"] for t in response.json["data"]] == [kept["id"]]
    assert app.get(BOOKMARKS, headers=ALICE).json["data"] == []


def test_delete_collection_touches_only_the_users_records(app) -> None:
    create(app, headers=BOB)
    app.delete(BOOKMARKS, headers=ALICE)
    assert len(app.get(BOOKMARKS, headers=BOB).json["data"]) == 1


def test_delete_collection_can_be_switched_off(app_with) -> None:
    test_app = app_with(collection_bookmark_delete_enabled="false")
    response = test_app.delete(BOOKMARKS, headers=ALICE, status=405)
    assert response.json["errno"] == 115
    assert "DELETE" not in response.headers["Allow"]
    assert "GET" in response.headers["Allow"]
    test_app.get(BOOKMARKS, headers=ALICE, status=200)


def test_unique_fields_conflict(app) -> None:
    first = app.post_json(NOTES, {"data": {"title": "a", "slug": "s"}}, headers=ALICE,
                          status=201).json["data"]
    response = app.post_json(NOTES, {"data": {"title": "b", "slug": "s"}}, headers=ALICE,
                             status=409)
    body = assert_error(response, 409, 122)
    assert body["details"]["field"] == "slug"
    assert body["details"]["existing"]["id"] == first["id"]
    app.post_json(NOTES, {"data": {"title": "b", "slug": "s"}}, headers=BOB, status=201)
    other = app.post_json(NOTES, {"data": {"title": "c", "slug": "t"}}, headers=ALICE,
                          status=201).json["data"]
    app.patch_json(f"{NOTES}/{other['id']}", {"data": {"slug": "s"}}, headers=ALICE,
                   status=409)
    assert len(app.get(NOTES, headers=ALICE).json["data"]) == 2
