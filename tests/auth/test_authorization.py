"""Authorization from the ``<resource>_<permission>_principals`` settings (and backends)."""

from __future__ import annotations

import pytest

from cliquetish.authorization import implied_permissions, setting_principals
from cliquetish.testing import auth_headers
from tests.auth.test_authentication import expected_userid

ALICE = auth_headers("alice", "secret")
BOB = auth_headers("bob", "secret")
ALICE_ID = expected_userid("alice:secret")
BOB_ID = expected_userid("bob:secret")


@pytest.fixture(scope="module")
def app():
    from tests.auth.app import make_auth_app

    return make_auth_app({
        "article_create_principals": "system.Authenticated",
        "article_read_principals": f"{ALICE_ID}, group:readers",
        "article_write_principals": BOB_ID,
    })


def test_authenticated_may_create(app):
    assert app.get("/v1/articles/-/create", headers=ALICE).json == {"allowed": True}


def test_anonymous_gets_401_errno_104_with_challenge(app):
    response = app.get("/v1/articles/-/create", status=401)
    assert response.json["errno"] == 104
    assert response.headers["WWW-Authenticate"] == 'Basic realm="cliquetish"'


def test_invalid_credentials_get_401_errno_105(app):
    response = app.get("/v1/articles/-/create", headers={"Authorization": "Basic ???"},
                       status=401)
    assert response.json["errno"] == 105


def test_listed_user_may_read(app):
    app.get("/v1/articles/-/read", headers=ALICE, status=200)


def test_authenticated_but_not_listed_gets_403_errno_121(app):
    response = app.get("/v1/articles/-/write", headers=ALICE, status=403)
    assert response.json["errno"] == 121
    assert response.json["error"] == "Forbidden"
    assert "WWW-Authenticate" not in response.headers


def test_write_implies_read(app):
    app.get("/v1/articles/-/read", headers=BOB, status=200)
    app.get("/v1/articles/-/write", headers=BOB, status=200)


def test_unknown_permission_is_refused(app):
    app.get("/v1/articles/-/delete", headers=BOB, status=403)


def test_settings_are_parsed_once_per_registry(app):
    registry = app.app.registry
    first = setting_principals(registry, "article", "read")
    assert first == frozenset({ALICE_ID, "group:readers", BOB_ID})
    assert setting_principals(registry, "article", "read") is first
    assert setting_principals(registry, "bookmark", "read") == frozenset()


def test_two_apps_keep_their_own_settings():
    from tests.auth.app import make_auth_app

    closed = make_auth_app()
    closed.get("/v1/articles/-/create", headers=ALICE, status=403)
    open_app = make_auth_app({"article_create_principals": "system.Everyone"})
    open_app.get("/v1/articles/-/create", status=200)


def test_implied_permissions():
    assert implied_permissions("read") == ("read", "write")
    assert implied_permissions("write") == ("write",)
    assert implied_permissions("create") == ("create",)
