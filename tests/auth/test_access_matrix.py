"""Who may do what on every endpoint of the demo's two resources, on several backends.

The cast: ``owner`` (alice) created the records; the shared article names ``reader`` (bob) in
``read`` and ``writer`` (carol) in ``write``; ``other`` (dave) is authenticated and named nowhere;
``anonymous`` sends no credentials. No path may let a user read, list, count, page, batch or
``_since``-peek at a record they may not read.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator

import cliquetish
from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import DEFAULT_SETTINGS, auth_headers, flush_backends, make_app
from tests.servers import require_postgresql, require_redis

ARTICLES = "/v1/articles"
BOOKMARKS = "/v1/bookmarks"
JSON = {"Content-Type": "application/json"}
USERS = ("owner", "reader", "writer", "other")
HEADERS: dict[str | None, dict[str, str]] = {
    name: {**JSON, **auth_headers(login, "secret")}
    for name, login in zip(USERS, ("alice", "bob", "carol", "dave"), strict=True)
}
HEADERS[None] = dict(JSON)


def postgresql() -> dict[str, Any]:
    url = require_postgresql()
    return {"storage_backend": "cliquetish.storage.postgresql", "storage_url": url,
            "permission_backend": "cliquetish.permission.postgresql", "permission_url": url}


def postgresql_with_redis_permissions() -> dict[str, Any]:
    return {"storage_backend": "cliquetish.storage.postgresql",
            "storage_url": require_postgresql(),
            "permission_backend": "cliquetish.permission.redis",
            "permission_url": require_redis()}


BACKENDS = {
    "memory": dict,
    "postgresql": postgresql,
    "postgresql+redis": postgresql_with_redis_permissions,
}
_APPS: dict[str, webtest.TestApp] = {}


def demo_factory(global_config: Any = None, **settings: Any) -> Any:
    """The demo's resources served under /v1."""
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan("cliquetish.demo")
    return config.make_wsgi_app()


def demo_app(backend: str) -> webtest.TestApp:
    """The demo application on ``backend`` (built once, schemas created)."""
    if backend not in _APPS:
        settings = {**DEFAULT_SETTINGS, **BACKENDS[backend](),
                    "article_create_principals": "system.Authenticated"}
        app = make_app(settings, app_factory=demo_factory)
        for marker in (IStorage, IPermission):
            app.app.registry.getUtility(marker).initialize_schema()
        _APPS[backend] = app
    return _APPS[backend]


@dataclass
class World:
    """The application and the records the owner made."""

    app: webtest.TestApp
    ids: dict[str, str] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    private: dict[str, Any] = field(default_factory=dict)
    bookmark: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, url: str, who: str | None, body: Any = None, **kw: Any) -> Any:
        headers = {**HEADERS[who], **kw.pop("headers", {})}
        if body is None:
            return self.app.request(url, method=method, headers=headers, expect_errors=True,
                                    **kw)
        return getattr(self.app, f"{method.lower()}_json")(url, body, headers=headers,
                                                             expect_errors=True, **kw)

    def listed(self, url: str, who: str | None) -> set[str]:
        response = self.call("GET", url, who)
        assert response.status_int == 200, response.body
        return {record["id"] for record in response.json["data"]}

    @property
    def shared_url(self) -> str:
        return f"{ARTICLES}/{self.shared['id']}"

    @property
    def private_url(self) -> str:
        return f"{ARTICLES}/{self.private['id']}"

    @property
    def bookmark_url(self) -> str:
        return f"{BOOKMARKS}/{self.bookmark['id']}"


@pytest.fixture(params=sorted(BACKENDS))
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    app = demo_app(request.param)
    flush_backends(app)
    found = World(app)
    for name in USERS:
        found.ids[name] = app.get("/v1/", headers=HEADERS[name]).json["user"]["id"]
    found.shared = app.post_json(ARTICLES, {
        "data": {"title": "shared secret"},
        "permissions": {"read": [found.ids["reader"]], "write": [found.ids["writer"]]},
    }, headers=HEADERS["owner"]).json["data"]
    found.private = app.post_json(ARTICLES, {"data": {"title": "private secret"}},
                                  headers=HEADERS["owner"]).json["data"]
    found.bookmark = app.post_json(BOOKMARKS, {"data": {"url": "https://example.com/secret"}},
                                   headers=HEADERS["owner"]).json["data"]
    yield found
    flush_backends(app)


def assert_refused(response: Any, who: str | None) -> None:
    """401 errno 104 (with a challenge) for anonymous, 403 errno 121 for the others."""
    if who is None:
        assert (response.status_int, response.json["errno"]) == (401, 104), response.body
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    else:
        assert (response.status_int, response.json["errno"]) == (403, 121), response.body
    assert "secret" not in response.text


# Shared records ---------------------------------------------------------------------------

READERS = {"owner": True, "reader": True, "writer": True, "other": False, None: False}
WRITERS = {"owner": True, "reader": False, "writer": True, "other": False, None: False}


@pytest.mark.parametrize("who", [*USERS, None])
def test_article_get_and_head(world: World, who: str | None) -> None:
    for method in ("GET", "HEAD"):
        response = world.call(method, world.shared_url, who)
        if not READERS[who]:
            assert response.status_int in (401, 403)
            if method == "GET":
                assert_refused(response, who)
            continue
        assert response.status_int == 200
        if method == "GET":
            assert response.json["data"]["title"] == "shared secret"
            assert ("permissions" in response.json) is WRITERS[who]
    if who != "owner":
        assert_refused(world.call("GET", world.private_url, who), who)


@pytest.mark.parametrize("who", [*USERS, None])
def test_article_writes(world: World, who: str | None) -> None:
    attempts = [
        ("PATCH", {"data": {"title": "patched"}}),
        ("PUT", {"data": {"title": "replaced"}}),
        ("DELETE", None),
    ]
    for method, body in attempts:
        response = world.call(method, world.shared_url, who, body)
        if WRITERS[who]:
            assert response.status_int == 200, (method, response.body)
        else:
            assert_refused(response, who)
    still_there = world.call("GET", world.shared_url, "owner")
    assert still_there.status_int == (404 if WRITERS[who] else 200)
    if not WRITERS[who]:
        assert still_there.json["data"]["title"] == "shared secret"
        assert still_there.json["data"]["last_modified"] == world.shared["last_modified"]


@pytest.mark.parametrize("who", ["reader", "other", None])
def test_refusals_come_before_preconditions(world: World, who: str | None) -> None:
    """A refused request learns nothing from 304/412 answers, nor from If-None-Match: *."""
    etag = f'"{world.shared["last_modified"]}"'
    assert world.call("GET", world.private_url, who,
                      headers={"If-None-Match": etag}).status_int in (401, 403)
    for method in ("PATCH", "DELETE"):
        response = world.call(method, world.shared_url, who, None if method == "DELETE" else
                              {"data": {"x": 1}}, headers={"If-Match": '"1"'})
        assert_refused(response, who)
    response = world.call("PUT", world.private_url, who, {"data": {"x": 1}},
                          headers={"If-None-Match": "*"})
    assert_refused(response, who)


def test_precondition_failures_show_no_permissions(world: World) -> None:
    response = world.call("PATCH", world.shared_url, "writer", {"data": {"x": 1}},
                          headers={"If-Match": '"1"'})
    assert response.status_int == 412
    existing = response.json["details"]["existing"]
    assert existing["title"] == "shared secret"
    assert "permissions" not in existing
    assert world.ids["reader"] not in response.text


@pytest.mark.parametrize("who", [*USERS, None])
def test_article_listing_and_counts(world: World, who: str | None) -> None:
    expected = {"owner": {world.shared["id"], world.private["id"]},
                "reader": {world.shared["id"]}, "writer": {world.shared["id"]},
                "other": set(), None: set()}[who]
    assert world.listed(ARTICLES, who) == expected
    head = world.call("HEAD", ARTICLES, who)
    assert head.headers["Total-Records"] == str(len(expected))
    # filters and projections never widen what is visible
    assert world.listed(f"{ARTICLES}?id={world.private['id']}", who) == (
        expected & {world.private["id"]})
    assert world.listed(f"{ARTICLES}?like_title=secret&_fields=title", who) == expected
    count = world.call("HEAD", f"{ARTICLES}?in_id={world.private['id']},{world.shared['id']}",
                       who)
    assert count.headers["Total-Records"] == str(len(expected))


@pytest.mark.parametrize("who", [*USERS, None])
def test_article_collection_delete_only_touches_writable_records(world: World,
                                                                 who: str | None) -> None:
    response = world.call("DELETE", ARTICLES, who)
    deleted = {t["id"] for t in response.json["data"]} if response.status_int == 200 else set()
    writable = {"owner": {world.shared["id"], world.private["id"]},
                "writer": {world.shared["id"]}}.get(who, set())
    if who is None:
        assert response.status_int in (200, 401)
    assert deleted == writable
    remaining = world.listed(ARTICLES, "owner")
    assert remaining == {world.shared["id"], world.private["id"]} - writable


@pytest.mark.parametrize("who", [*USERS, None])
def test_article_creation(world: World, who: str | None) -> None:
    response = world.call("POST", ARTICLES, who, {"data": {"title": "new"}})
    if who is None:
        assert_refused(response, who)
        return
    assert response.status_int == 201
    assert response.json["permissions"]["write"] == [world.ids[who]]
    # posting the id of a record one may not read reveals nothing
    response = world.call("POST", ARTICLES, who, {"data": {"id": world.private["id"]}})
    if who == "owner":
        assert response.status_int == 200
    else:
        assert_refused(response, who)


@pytest.mark.parametrize("who", ["reader", "writer", "other", None])
def test_tombstones_are_seen_by_former_readers_only(world: World, who: str | None) -> None:
    since = world.shared["last_modified"] - 1
    world.call("DELETE", world.shared_url, "owner")
    world.call("DELETE", world.private_url, "owner")
    response = world.call("GET", f"{ARTICLES}?_since={since}", who)
    assert response.status_int == 200
    tombstones = {r["id"] for r in response.json["data"] if r.get("deleted")}
    assert tombstones == ({world.shared["id"]} if READERS[who] else set())
    before = world.call("GET", f"{ARTICLES}?_before={2 ** 53}", who).json["data"]
    assert {r["id"] for r in before} == tombstones
    owner_view = world.call("GET", f"{ARTICLES}?_since={since}", "owner").json["data"]
    assert {r["id"] for r in owner_view} == {world.shared["id"], world.private["id"]}


def test_groups_grant_access_on_every_endpoint(world: World) -> None:
    permission = world.app.app.registry.getUtility(IPermission)
    permission.add_user_principal(world.ids["other"], "group:team")
    world.call("PATCH", world.private_url, "owner",
               {"permissions": {"read": ["group:team"]}})
    assert world.call("GET", world.private_url, "other").status_int == 200
    assert world.listed(ARTICLES, "other") == {world.private["id"]}
    assert world.call("HEAD", ARTICLES, "other").headers["Total-Records"] == "1"
    assert_refused(world.call("PATCH", world.private_url, "other", {"data": {"x": 1}}), "other")
    permission.remove_user_principal(world.ids["other"], "group:team")
    assert world.listed(ARTICLES, "other") == set()


def test_system_authenticated_reads_but_anonymous_does_not(world: World) -> None:
    world.call("PATCH", world.private_url, "owner",
               {"permissions": {"read": ["system.Authenticated"]}})
    assert world.listed(ARTICLES, "other") == {world.private["id"]}
    assert world.listed(ARTICLES, None) == set()
    assert_refused(world.call("GET", world.private_url, None), None)
    world.call("PATCH", world.private_url, "owner",
               {"permissions": {"read": ["system.Everyone"]}})
    assert world.listed(ARTICLES, None) == {world.private["id"]}


def test_readers_cannot_change_permissions(world: World) -> None:
    for content_type, body in [
        ("application/json", {"permissions": {"read": [world.ids["other"]]}}),
        ("application/merge-patch+json", {"permissions": {"write": [world.ids["reader"]]}}),
        ("application/json-patch+json",
         [{"op": "add", "path": "/permissions/write/0", "value": world.ids["reader"]}]),
    ]:
        response = world.call("PATCH", world.shared_url, "reader", body,
                              headers={"Content-Type": content_type})
        assert_refused(response, "reader")
    permissions = world.call("GET", world.shared_url, "owner").json["permissions"]
    assert permissions["read"] == [world.ids["reader"]]
    assert world.ids["reader"] not in permissions["write"]


# Private records --------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["reader", "writer", "other"])
def test_bookmarks_of_others_do_not_exist(world: World, who: str) -> None:
    for method, body in [("GET", None), ("HEAD", None), ("PATCH", {"data": {"title": "x"}}),
                         ("DELETE", None)]:
        response = world.call(method, world.bookmark_url, who, body)
        assert response.status_int == 404, (method, response.body)
    assert world.listed(BOOKMARKS, who) == set()
    assert world.call("HEAD", BOOKMARKS, who).headers["Total-Records"] == "0"
    assert world.call("DELETE", BOOKMARKS, who).json["data"] == []
    # PUT on the same id creates the caller's own record, leaving the owner's alone
    response = world.call("PUT", world.bookmark_url, who, {"data": {"url": "https://x.org"}})
    assert response.status_int == 201
    mine = world.call("GET", world.bookmark_url, "owner").json["data"]
    assert mine["url"] == "https://example.com/secret"
    since = world.call("GET", f"{BOOKMARKS}?_since=0", who).json["data"]
    assert [record["url"] for record in since] == ["https://x.org"]


def test_bookmarks_need_authentication(world: World) -> None:
    for method, url, body in [
        ("GET", BOOKMARKS, None), ("HEAD", BOOKMARKS, None), ("DELETE", BOOKMARKS, None),
        ("POST", BOOKMARKS, {"data": {"url": "https://x.org"}}),
        ("GET", world.bookmark_url, None), ("PUT", world.bookmark_url, {"data": {"url": "x"}}),
        ("PATCH", world.bookmark_url, {"data": {}}), ("DELETE", world.bookmark_url, None),
        ("GET", f"{BOOKMARKS}?_since=0", None),
    ]:
        response = world.call(method, url, None, body)
        assert response.status_int == 401, (method, url)
        if method != "HEAD":
            assert response.json["errno"] == 104


def test_bookmark_tombstones_stay_with_their_owner(world: World) -> None:
    world.call("DELETE", world.bookmark_url, "owner")
    owner = world.call("GET", f"{BOOKMARKS}?_since=0", "owner").json["data"]
    assert [(r["id"], r.get("deleted")) for r in owner] == [(world.bookmark["id"], True)]
    assert world.call("GET", f"{BOOKMARKS}?_since=0", "other").json["data"] == []


def test_invalid_credentials_are_refused_on_private_records(world: World) -> None:
    response = world.call("GET", BOOKMARKS, None, headers={"Authorization": "Basic Og=="})
    assert (response.status_int, response.json["errno"]) == (401, 105)


# Pagination tokens ------------------------------------------------------------------------

def next_token(world: World, url: str, who: str) -> str:
    response = world.call("GET", url, who)
    link = response.headers["Next-Page"]
    return link.split("_token=")[1]


def test_tokens_do_not_travel_between_users_or_collections(world: World) -> None:
    world.call("POST", BOOKMARKS, "owner", {"data": {"url": "https://second.org"}})
    article_token = next_token(world, f"{ARTICLES}?_limit=1", "owner")
    bookmark_token = next_token(world, f"{BOOKMARKS}?_limit=1", "owner")
    for who, url in [("reader", f"{ARTICLES}?_limit=1&_token={article_token}"),
                     ("other", f"{ARTICLES}?_limit=1&_token={article_token}"),
                     (None, f"{ARTICLES}?_limit=1&_token={article_token}"),
                     ("owner", f"{BOOKMARKS}?_limit=1&_token={article_token}"),
                     ("other", f"{BOOKMARKS}?_limit=1&_token={bookmark_token}"),
                     ("owner", f"{ARTICLES}?_limit=1&_token={bookmark_token}"),
                     ("owner", f"{ARTICLES}?_limit=1&title=x&_token={article_token}")]:
        response = world.call("GET", url, who)
        assert (response.status_int, response.json["errno"]) == (400, 107), (who, url)
        assert "secret" not in response.text
    # the owner's own token still works
    assert world.call("GET", f"{ARTICLES}?_limit=1&_token={article_token}",
                      "owner").status_int == 200


@pytest.mark.parametrize("payload", [
    b'{"v": {"last_modified": 99999999999999}, "s": "00000000000000000000000000000000"}',
    b'{"v": {}, "s": ""}',
    b'{"v": {"last_modified": 1}}',
    b"not json at all",
])
def test_crafted_tokens_are_refused(world: World, payload: bytes) -> None:
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    for who, url in [("other", ARTICLES), ("other", BOOKMARKS), (None, ARTICLES)]:
        response = world.call("GET", f"{url}?_token={token}", who)
        assert (response.status_int, response.json["errno"]) == (400, 107)


# Batch ------------------------------------------------------------------------------------

def test_batch_applies_the_same_rules(world: World) -> None:
    requests = [
        {"method": "GET", "path": f"/articles/{world.private['id']}"},
        {"method": "GET", "path": "/articles"},
        {"method": "GET", "path": f"/articles?_since=0&id={world.private['id']}"},
        {"method": "PATCH", "path": f"/articles/{world.shared['id']}",
         "body": {"data": {"title": "hijacked"}}},
        {"method": "GET", "path": f"/bookmarks/{world.bookmark['id']}"},
        {"method": "GET", "path": "/bookmarks"},
    ]
    response = world.call("POST", "/v1/batch", "other", {"requests": requests})
    assert response.status_int == 200
    answers = response.json["responses"]
    assert [answer["status"] for answer in answers] == [403, 200, 200, 403, 404, 200]
    assert answers[1]["body"]["data"] == []
    assert answers[2]["body"]["data"] == []
    assert answers[5]["body"]["data"] == []
    assert "secret" not in response.text
    title = world.call("GET", world.shared_url, "owner").json["data"]["title"]
    assert title == "shared secret"


def test_anonymous_batch_gets_401_answers(world: World) -> None:
    requests = [{"method": "GET", "path": "/bookmarks"},
                {"method": "GET", "path": f"/articles/{world.shared['id']}"}]
    response = world.call("POST", "/v1/batch", None, {"requests": requests})
    answers = response.json["responses"]
    assert [answer["status"] for answer in answers] == [401, 401]
    assert [answer["body"]["errno"] for answer in answers] == [104, 104]
