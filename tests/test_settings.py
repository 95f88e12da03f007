"""The settings table: casts, precedence (defaults < ini < environment), errors naming keys."""

from __future__ import annotations

import pytest

from cliquetish.errors import ConfigurationError
from cliquetish.settings import SETTINGS, as_bool, as_list, env_name, load_settings


def load(ini=None, environ=None, **kwargs):
    return load_settings(ini or {}, environ=environ or {}, **kwargs)


def test_every_setting_has_its_typed_default() -> None:
    settings = load()
    for row in SETTINGS:
        assert settings[row.key] == row.default
    assert settings["batch_max_requests"] == 25
    assert settings["readonly"] is False
    assert settings["cors_origins"] == ["*"]


def test_ini_values_are_cast() -> None:
    settings = load({"cliquetish.batch_max_requests": "12", "cliquetish.readonly": "Yes",
                     "cliquetish.heartbeat_timeout_seconds": "0.5",
                     "cliquetish.cors_origins": "https://a.example, https://b.example",
                     "cliquetish.paginate_by": ""})
    assert settings["batch_max_requests"] == 12
    assert settings["readonly"] is True
    assert settings["heartbeat_timeout_seconds"] == 0.5
    assert settings["cors_origins"] == ["https://a.example", "https://b.example"]
    assert settings["paginate_by"] is None


def test_environment_overrides_ini_which_overrides_defaults() -> None:
    settings = load(
        {"cliquetish.batch_max_requests": "12", "cliquetish.project_name": "from-ini"},
        {"CLIQUETISH_BATCH_MAX_REQUESTS": "3"},
        defaults={"batch_max_requests": 40, "project_docs": "https://docs.example"},
    )
    assert settings["batch_max_requests"] == 3
    assert settings["project_name"] == "from-ini"
    assert settings["project_docs"] == "https://docs.example"


def test_defaults_given_by_the_application_are_cast_too() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load(defaults={"batch_max_requests": "lots"})
    assert raised.value.key == "batch_max_requests"


@pytest.mark.parametrize(("key", "value"), [
    ("batch_max_requests", "many"),
    ("batch_max_requests", "-1"),
    ("readonly", "maybe"),
    ("heartbeat_timeout_seconds", "0"),
    ("heartbeat_timeout_seconds", "soon"),
    ("max_request_body_bytes", "1.5"),
])
def test_a_bad_ini_value_names_its_key(key, value) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load({f"cliquetish.{key}": value})
    assert raised.value.key == key
    assert f"cliquetish.{key}" in str(raised.value)
    assert repr(value) in str(raised.value)


def test_a_bad_environment_value_names_its_key() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load(environ={"CLIQUETISH_READONLY": "sometimes"})
    assert raised.value.key == "readonly"


def test_another_prefix_applies_to_ini_and_environment() -> None:
    settings = load({"bookmarks.readonly": "true", "cliquetish.batch_max_requests": "9"},
                    {"BOOKMARKS_BATCH_MAX_REQUESTS": "4", "CLIQUETISH_READONLY": "false"},
                    prefix="bookmarks")
    assert settings["readonly"] is True
    assert settings["batch_max_requests"] == 4


def test_unknown_prefixed_keys_are_kept_unprefixed() -> None:
    settings = load({"cliquetish.bookmark_create_principals": "system.Authenticated",
                     "other.key": "ignored"},
                    {"CLIQUETISH_ARTICLE_READ_PRINCIPALS": "system.Everyone"})
    assert settings["bookmark_create_principals"] == "system.Authenticated"
    assert settings["article_read_principals"] == "system.Everyone"
    assert "other.key" not in settings and "key" not in settings


def test_env_names() -> None:
    assert env_name("storage_url") == "CLIQUETISH_STORAGE_URL"
    assert env_name("multiauth.policies") == "CLIQUETISH_MULTIAUTH_POLICIES"
    assert env_name("readonly", "bookmarks") == "BOOKMARKS_READONLY"
    settings = load(environ={"CLIQUETISH_MULTIAUTH_POLICIES": "basicauth token"})
    assert settings["multiauth.policies"] == ["basicauth", "token"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("ON", True), ("1", True), ("no", False), ("", False), (False, False)])
def test_as_bool(raw, expected) -> None:
    assert as_bool(raw) is expected


def test_as_list() -> None:
    assert as_list("a, b  c,,") == ["a", "b", "c"]
    assert as_list(("x", 1)) == ["x", "1"]
