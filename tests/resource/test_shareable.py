"""ShareableResource: per-record permissions for the creator, readers, writers, others and
anonymous requests, on every backend."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from cliquetish.testing import auth_headers
from tests.resource.conftest import ALICE, BOB, PREFIX
from tests.resource.test_collection import assert_error

ARTICLES = f"{PREFIX}/articles"
CAROL = {**auth_headers("carol", "secret"), "Content-Type": "application/json"}
JSON_HEADERS = {"Content-Type": "application/json"}


def userid(app, headers):
    return app.get(f"{PREFIX}/", headers=headers).json["user"]["id"]


@pytest.fixture
def ids(app):
    return {name: userid(app, headers) for name, headers in
            (("alice", ALICE), ("bob", BOB), ("carol", CAROL))}


def create(app, data=None, permissions=None, headers=ALICE, status=201):
    body = {"data": data or {"title": "t"}}
    if permissions is not None:
        body["permissions"] = permissions
    return app.post_json(ARTICLES, body, headers=headers, status=status)


def article_url(record):
    return f"{ARTICLES}/{record['id']}"


def test_creation_needs_the_create_permission(app, ids) -> None:
    response = create(app, headers=JSON_HEADERS, status=401)
    assert_error(response, 401, 104)
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    response = create(app)
    assert response.json["permissions"] == {"read": [], "write": [ids["alice"]]}


def test_creation_is_refused_without_the_setting(app_with) -> None:
    test_app = app_with(article_create_principals="")
    response = test_app.post_json(ARTICLES, {"data": {}}, headers=ALICE, status=403)
    assert_error(response, 403, 121)


def test_permissions_given_on_creation(app, ids) -> None:
    response = create(app, permissions={"read": [ids["bob"]], "write": [ids["carol"]]})
    assert response.json["permissions"] == {
        "read": [ids["bob"]], "write": sorted([ids["carol"], ids["alice"]])}


@pytest.mark.parametrize(("permissions", "name"), [
    ({"read": "everyone"}, "permissions.read"),
    ({"admin": ["x"]}, "permissions.admin"),
    ({"read": [1]}, "permissions.read.0"),
    ([], "permissions"),
])
def test_invalid_permissions(app, permissions, name) -> None:
    response = create(app, permissions=permissions, status=400)
    assert_error(response, 400, 107, name)
    assert app.get(ARTICLES, headers=ALICE).json["data"] == []


def test_reading_needs_read(app, ids) -> None:
    record = create(app).json["data"]
    assert_error(app.get(article_url(record), headers=BOB, status=403), 403, 121)
    assert_error(app.get(article_url(record), status=401), 401, 104)
    missing = f"{ARTICLES}/0b3bb5e2-43b6-4c24-8b3c-5b1a3a8a3c0e"
    app.get(missing, headers=BOB, status=403)
    app.patch_json(article_url(record), {"permissions": {"read": [ids["bob"]]}}, headers=ALICE)
    response = app.get(article_url(record), headers=BOB)
    assert response.json["data"] == app.get(article_url(record), headers=ALICE).json["data"]
    assert "permissions" not in response.json
    assert "permissions" in app.get(article_url(record), headers=ALICE).json


def test_everyone_can_be_a_reader(app) -> None:
    record = create(app, permissions={"read": ["system.Everyone"]}).json["data"]
    app.get(article_url(record), status=200)
    app.get(article_url(record), headers=BOB, status=200)
    assert len(app.get(ARTICLES).json["data"]) == 1
    app.patch_json(article_url(record), {"data": {"x": 1}}, status=401)


def test_writing_needs_write(app, ids) -> None:
    record = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    for call in (app.patch_json, app.put_json):
        assert_error(call(article_url(record), {"data": {"x": 1}}, headers=BOB, status=403),
                     403, 121)
    app.delete(article_url(record), headers=BOB, status=403)
    app.patch_json(article_url(record), {"permissions": {"write": [ids["bob"]]}}, headers=ALICE)
    response = app.patch_json(article_url(record), {"data": {"x": 1}}, headers=BOB)
    assert response.json["data"]["x"] == 1
    assert ids["bob"] in response.json["permissions"]["write"]
    app.delete(article_url(record), headers=BOB, status=200)


def test_creator_stays_a_writer(app, ids) -> None:
    record = create(app).json["data"]
    response = app.patch_json(article_url(record), {"permissions": {"write": [ids["bob"]]}},
                              headers=ALICE)
    assert response.json["permissions"]["write"] == sorted([ids["bob"], ids["alice"]])
    app.patch_json(article_url(record), {"data": {"y": 2}}, headers=ALICE, status=200)


def test_put_on_a_missing_id_needs_create(app, ids) -> None:
    missing = f"{ARTICLES}/0b3bb5e2-43b6-4c24-8b3c-5b1a3a8a3c0e"
    app.put_json(missing, {"data": {"t": 1}}, headers=JSON_HEADERS, status=401)
    response = app.put_json(missing, {"data": {"t": 1}, "permissions": {"read": [ids["bob"]]}},
                            headers=ALICE, status=201)
    assert response.json["permissions"] == {"read": [ids["bob"]], "write": [ids["alice"]]}
    app.put_json(missing, {"data": {"t": 2}}, headers=BOB, status=403)
    replaced = app.put_json(missing, {"data": {"t": 2}}, headers=ALICE, status=200).json
    assert replaced["permissions"] == response.json["permissions"]


def test_permissions_through_the_three_patch_types(app, ids) -> None:
    record = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    url = article_url(record)
    merge = {**ALICE, "Content-Type": "application/merge-patch+json"}
    response = app.patch(url, '{"permissions": {"read": null}}', headers=merge)
    assert response.json["permissions"]["read"] == []
    app.get(url, headers=BOB, status=403)
    json_patch = {**ALICE, "Content-Type": "application/json-patch+json"}
    operation = f'[{{"op": "add", "path": "/permissions/read/-", "value": "{ids["carol"]}"}}]'
    response = app.patch(url, operation, headers=json_patch)
    assert response.json["permissions"]["read"] == [ids["carol"]]
    app.get(url, headers=CAROL, status=200)
    response = app.patch(url, '[{"op": "add", "path": "/permissions/admin", "value": []}]',
                         headers=json_patch, status=400)
    assert_error(response, 400, 107, "permissions.admin")
    response = app.patch_json(url, {"permissions": {"read": [ids["bob"]]}}, headers=ALICE)
    assert response.json["permissions"]["read"] == [ids["bob"]]
    app.get(url, headers=CAROL, status=403)


def test_precondition_failures_never_show_permissions(app, ids) -> None:
    record = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    response = app.patch_json(article_url(record), {"data": {"x": 1}},
                              headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert response.json["details"]["existing"] == record
    assert "permissions" not in response.json["details"]["existing"]


def test_listings_show_readable_records_only(app, ids) -> None:
    own = create(app).json["data"]
    shared = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    writable = create(app, permissions={"write": [ids["bob"]]}).json["data"]
    bobs = create(app, headers=BOB).json["data"]
    listed = {record["id"] for record in app.get(ARTICLES, headers=BOB).json["data"]}
    assert listed == {shared["id"], writable["id"], bobs["id"]}
    assert app.head(ARTICLES, headers=BOB).headers["Total-Records"] == "3"
    assert app.head(ARTICLES, headers=ALICE).headers["Total-Records"] == "3"
    assert app.head(ARTICLES, headers=CAROL).headers["Total-Records"] == "0"
    assert app.get(ARTICLES).json["data"] == []
    assert own["id"] not in listed


def test_settings_grant_reading_everything(app_with) -> None:
    test_app = app_with(article_read_principals="system.Everyone")
    test_app.post_json(ARTICLES, {"data": {"t": 1}}, headers=ALICE)
    assert len(test_app.get(ARTICLES).json["data"]) == 1
    assert test_app.head(ARTICLES).headers["Total-Records"] == "1"


def test_collection_delete_only_deletes_writable_records(app, ids) -> None:
    readable = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    writable = create(app, permissions={"write": [ids["bob"]]}).json["data"]
    deleted = app.delete(ARTICLES, headers=BOB).json["data"]
    assert [t["id"] for t in deleted] == [writable["id"]]
    remaining = [r["id"] for r in app.get(ARTICLES, headers=ALICE).json["data"]]
    assert remaining == [readable["id"]]
    assert app.delete(ARTICLES).json["data"] == []


def test_tombstones_are_seen_by_readers_only(app, ids) -> None:
    shared = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    private = create(app).json["data"]
    since = shared["last_modified"] - 1
    for record in (shared, private):
        app.delete(article_url(record), headers=ALICE)
    bob_sees = app.get(f"{ARTICLES}?_since={since}", headers=BOB).json["data"]
    assert [(t["id"], t["deleted"]) for t in bob_sees] == [(shared["id"], True)]
    alice_sees = app.get(f"{ARTICLES}?_since={since}", headers=ALICE).json["data"]
    assert {t["id"] for t in alice_sees} == {shared["id"], private["id"]}
    assert app.get(f"{ARTICLES}?_since={since}", headers=CAROL).json["data"] == []
    assert app.get(f"{ARTICLES}?_since={since}").json["data"] == []


def test_recreating_replaces_old_permissions(app, ids) -> None:
    record = create(app, permissions={"read": [ids["bob"]]}).json["data"]
    app.delete(article_url(record), headers=ALICE)
    response = app.put_json(article_url(record), {"data": {"again": True}}, headers=CAROL,
                            status=201)
    assert response.json["permissions"] == {"read": [], "write": [ids["carol"]]}
    app.get(article_url(record), headers=BOB, status=403)
    app.get(article_url(record), headers=ALICE, status=403)


def test_tokens_are_bound_to_the_user(app, ids) -> None:
    for _ in range(3):
        create(app, permissions={"read": ["system.Authenticated"]})
    response = app.get(f"{ARTICLES}?_limit=1", headers=ALICE)
    token = parse_qs(urlparse(response.headers["Next-Page"]).query)["_token"][0]
    app.get(f"{ARTICLES}?_limit=1&_token={token}", headers=ALICE, status=200)
    response = app.get(f"{ARTICLES}?_limit=1&_token={token}", headers=BOB, status=400)
    assert_error(response, 400, 107, "_token")


def test_post_of_an_existing_id_needs_read(app) -> None:
    record = create(app).json["data"]
    create(app, {"id": record["id"]}, headers=BOB, status=403)
    assert create(app, {"id": record["id"]}, status=200).json["data"] == record


def test_unique_conflicts_hide_unreadable_records(app, ids) -> None:
    pages = f"{PREFIX}/pages"
    private = app.post_json(pages, {"data": {"slug": "a"}}, headers=ALICE).json["data"]
    response = app.post_json(pages, {"data": {"slug": "a"}}, headers=BOB, status=409)
    assert response.json["details"] == {"field": "slug"}
    shared = app.post_json(pages, {"data": {"slug": "b"}, "permissions": {"read": [ids["bob"]]}},
                           headers=ALICE).json["data"]
    response = app.post_json(pages, {"data": {"slug": "b"}}, headers=BOB, status=409)
    assert response.json["details"] == {"field": "slug", "existing": shared}
    assert private["id"] != shared["id"]


def test_cache_expires_for_anonymous_reads(app_with) -> None:
    test_app = app_with(article_read_principals="system.Everyone",
                        article_cache_expires_seconds=60)
    record = test_app.post_json(ARTICLES, {"data": {}}, headers=ALICE).json["data"]
    assert test_app.get(ARTICLES).headers["Cache-Control"] == "max-age=60"
    assert test_app.get(article_url(record)).headers["Cache-Control"] == "max-age=60"
    assert test_app.get(ARTICLES, headers=ALICE).headers["Cache-Control"] == "no-cache"
