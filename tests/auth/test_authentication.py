"""Authentication: basic auth user ids, malformed credentials, pluggable policies."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from cliquetish.authentication import (
    BASIC_USERIDS_REMEMBERED,
    BasicAuthPolicy,
    basic_credentials,
    basic_userid,
    secrets_equal,
)
from cliquetish.errors import ConfigurationError
from cliquetish.settings import load_settings
from cliquetish.testing import auth_headers
from tests.auth.app import SECRET, make_auth_app


def expected_userid(credentials: str, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), credentials.encode(), hashlib.sha256).hexdigest()
    return f"basicauth:{digest}"


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


@pytest.fixture(scope="module")
def app():
    return make_auth_app()


def test_anonymous_has_only_everyone(app):
    body = app.get("/v1/whoami").json
    assert body == {"userid": None, "principals": ["system.Everyone"], "policy": None}


def test_basic_auth_userid_is_the_hmac_of_the_credentials(app):
    body = app.get("/v1/whoami", headers=auth_headers("alice", "secret")).json
    userid = expected_userid("alice:secret")
    assert body["userid"] == userid
    assert body["principals"] == ["system.Everyone", "system.Authenticated", userid]
    assert body["policy"] == "basicauth"


def test_another_password_is_another_user(app):
    first = app.get("/v1/whoami", headers=auth_headers("alice", "one")).json["userid"]
    second = app.get("/v1/whoami", headers=auth_headers("alice", "two")).json["userid"]
    assert first != second


def test_the_secret_changes_the_userid():
    other = make_auth_app({"userid_hmac_secret": "another secret"})
    userid = other.get("/v1/whoami", headers=auth_headers("alice", "secret")).json["userid"]
    assert userid == expected_userid("alice:secret", "another secret")
    assert userid != expected_userid("alice:secret")


def test_password_may_hold_colons_and_unicode(app):
    body = app.get("/v1/whoami", headers=basic("élodie:pa:ss✓".encode())).json
    assert body["userid"] == expected_userid("élodie:pa:ss✓")


MALFORMED = [
    {"Authorization": "Basic !!!not-base64!!!"},
    {"Authorization": "Basic YWxpY2U"},  # bad padding
    basic(b"no-colon-here"),
    basic(b"\xff\xfe:\xfa"),  # not UTF-8
    basic(b":password-without-user"),
    basic(b"user-without-password:"),
    {"Authorization": "Basic"},
    {"Authorization": "Basic    "},
    {"Authorization": "Bearer some-token"},
    {"Authorization": "Digest username=alice"},
]


@pytest.mark.parametrize("headers", MALFORMED)
def test_malformed_credentials_are_anonymous(app, headers):
    assert app.get("/v1/whoami", headers=headers).json["userid"] is None


@pytest.mark.parametrize("headers", MALFORMED)
def test_malformed_credentials_get_401_errno_105(app, headers):
    response = app.get("/v1/authenticated", headers=headers, status=401)
    assert response.json["errno"] == 105
    assert response.json["code"] == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="cliquetish"'


def test_missing_credentials_get_401_errno_104(app):
    response = app.get("/v1/authenticated", status=401)
    assert response.json["errno"] == 104
    assert response.json["error"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="cliquetish"'


def test_valid_credentials_pass(app):
    response = app.get("/v1/authenticated", headers=auth_headers(), status=200)
    assert response.json["userid"] == expected_userid("alice:secret")


def test_realm_is_the_project_name():
    app = make_auth_app({"project_name": "shelf"})
    response = app.get("/v1/authenticated", status=401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="shelf"'


def test_basic_credentials_parsing():
    assert basic_credentials("Basic " + base64.b64encode(b"a:b").decode()) == ("a", "b")
    assert basic_credentials("basic " + base64.b64encode(b"a:b:c").decode()) == ("a", "b:c")
    assert basic_credentials(None) is None
    assert basic_credentials("") is None


def test_secrets_equal():
    assert secrets_equal("abc", "abc")
    assert secrets_equal("é", "é".encode())
    assert not secrets_equal("abc", "abd")
    assert not secrets_equal("abc", "abcd")


def test_basic_policy_remembers_nothing(app):
    assert BasicAuthPolicy().remember(None, "basicauth:x") == []


TOKEN_SETTINGS = {
    "multiauth.policies": "token basicauth",
    "multiauth.policy.token.use": "tests.auth.policies.TokenPolicy",
    "multiauth.policy.token.header": "X-Api-Key",
    "multiauth.policy.token.token": "t0ken",
}


def test_second_policy_recognises_its_credentials():
    app = make_auth_app(TOKEN_SETTINGS)
    body = app.get("/v1/whoami", headers={"X-Api-Key": "t0ken"}).json
    assert body["userid"] == "token:bob"
    assert body["policy"] == "token"
    assert "token:bob" in body["principals"]
    basic_body = app.get("/v1/whoami", headers=auth_headers()).json
    assert basic_body["userid"] == expected_userid("alice:secret")
    assert basic_body["policy"] == "basicauth"


def test_wrong_token_falls_through_to_the_next_policy():
    app = make_auth_app(TOKEN_SETTINGS)
    headers = {"X-Api-Key": "wrong", **auth_headers()}
    assert app.get("/v1/whoami", headers=headers).json["policy"] == "basicauth"
    assert app.get("/v1/whoami", headers={"X-Api-Key": "wrong"}).json["userid"] is None


def test_first_policy_that_answers_wins():
    both = {"X-Api-Key": "t0ken", **auth_headers()}
    token_first = make_auth_app(TOKEN_SETTINGS)
    assert token_first.get("/v1/whoami", headers=both).json["userid"] == "token:bob"
    basic_first = make_auth_app({**TOKEN_SETTINGS, "multiauth.policies": "basicauth,token"})
    assert basic_first.get("/v1/whoami", headers=both).json["policy"] == "basicauth"


def test_401_carries_the_challenge_of_every_policy():
    app = make_auth_app({**TOKEN_SETTINGS, "multiauth.policies": "token"})
    response = app.get("/v1/authenticated", status=401)
    assert response.headers["WWW-Authenticate"] == 'Token realm="tests"'
    # basic auth is not enabled: basic credentials are not recognised
    assert app.get("/v1/whoami", headers=auth_headers()).json["userid"] is None


def test_policy_may_be_an_object():
    app = make_auth_app({
        "multiauth.policies": "carol",
        "multiauth.policy.carol.use": "tests.auth.policies.carol_policy",
    })
    assert app.get("/v1/whoami", headers={"X-Carol": "yes"}).json["userid"] == "carol:1"


def test_policy_without_use_line_fails_at_start_up():
    with pytest.raises(ConfigurationError) as caught:
        make_auth_app({"multiauth.policies": "basicauth ldap"})
    assert caught.value.key == "multiauth.policy.ldap.use"
    assert "multiauth.policy.ldap.use" in str(caught.value)


def test_policy_that_does_not_import_fails_at_start_up():
    with pytest.raises(ConfigurationError) as caught:
        make_auth_app({
            "multiauth.policies": "nope",
            "multiauth.policy.nope.use": "tests.auth.no_such_module.Policy",
        })
    assert caught.value.key == "multiauth.policy.nope.use"


def test_policies_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLIQUETISH_MULTIAUTH_POLICIES", "token")
    monkeypatch.setenv("CLIQUETISH_MULTIAUTH_POLICY_TOKEN_USE", "tests.auth.policies.TokenPolicy")
    monkeypatch.setenv("CLIQUETISH_MULTIAUTH_POLICY_TOKEN_TOKEN", "t0ken")
    settings = load_settings({})
    assert settings["multiauth.policies"] == ["token"]
    assert settings["multiauth.policy.token.use"] == "tests.auth.policies.TokenPolicy"
    # an option named in the ini file is overridden by its environment form
    app = make_auth_app({"multiauth.policy.token.token": "from-the-ini-file"})
    assert app.get("/v1/whoami", headers={"X-Token": "t0ken"}).json["userid"] == "token:bob"
    assert app.get("/v1/whoami", headers=auth_headers()).json["userid"] is None


def test_environment_overrides_the_ini_policy(monkeypatch):
    monkeypatch.setenv("CLIQUETISH_MULTIAUTH_POLICY_TOKEN_USE", "tests.auth.policies.TokenPolicy")
    settings = load_settings({"cliquetish.multiauth.policy.token.use": "elsewhere.Policy"})
    assert settings["multiauth.policy.token.use"] == "tests.auth.policies.TokenPolicy"


def test_basic_userid_is_remembered_per_header_and_secret():
    header = auth_headers("carol", "pw")["Authorization"]
    basic_userid.cache_clear()
    first = basic_userid("basicauth", SECRET, header)
    assert first == expected_userid("carol:pw")
    assert basic_userid("basicauth", SECRET, header) == first
    assert basic_userid.cache_info().hits == 1
    other_secret = basic_userid("basicauth", "another secret", header)
    assert other_secret == expected_userid("carol:pw", "another secret")
    assert basic_userid("token", SECRET, header) == "token:" + first.partition(":")[2]
    assert basic_userid("basicauth", SECRET, "Basic !!!") is None
    assert basic_userid("basicauth", SECRET, "Bearer abc") is None
    assert basic_userid.cache_info().maxsize == BASIC_USERIDS_REMEMBERED


def test_a_remembered_header_still_answers_per_request(app):
    headers = auth_headers("dave", "first")
    for _ in range(3):
        assert app.get("/v1/whoami", headers=headers).json["userid"] == expected_userid(
            "dave:first")
    assert app.get("/v1/whoami", headers=auth_headers("dave", "other")).json["userid"] == (
        expected_userid("dave:other"))
    assert app.get("/v1/whoami", headers=basic(b"dave:")).json["userid"] is None
