"""initialize() and includeme: start-up errors naming the key, route prefix, public API."""

from __future__ import annotations

import pytest
import webtest
from pyramid.config import Configurator

import cliquetish
from cliquetish.errors import ConfigurationError
from cliquetish.testing import prefixed
from tests.tweens.apps import NO_BACKENDS, add_plain_view, build_app


def test_the_public_api_is_pinned() -> None:
    assert sorted(cliquetish.__all__) == sorted([
        "ConfigurationError", "__version__", "includeme", "initialize",
        "install_middlewares", "load_default_settings",
    ])
    for name in cliquetish.__all__:
        assert hasattr(cliquetish, name)


@pytest.mark.parametrize(("settings", "key"), [
    ({"batch_max_requests": "many"}, "batch_max_requests"),
    ({"readonly": "perhaps"}, "readonly"),
    ({"storage_backend": "cliquetish.storage.nowhere"}, "storage_backend"),
    ({"cache_backend": "no such module"}, "cache_backend"),
    ({"permission_backend": "cliquetish.errors"}, "permission_backend"),
    ({"userid_hmac_secret": ""}, "userid_hmac_secret"),
    ({"http_api_version": "beta"}, "http_api_version"),
    ({"eos": "2020-13-45"}, "eos"),
])
def test_bad_settings_stop_start_up_naming_the_key(settings, key) -> None:
    with pytest.raises(ConfigurationError) as raised:
        build_app(settings)
    assert raised.value.key == key
    assert key in str(raised.value)


def test_an_unimportable_backend_says_why() -> None:
    with pytest.raises(ConfigurationError, match="cannot import"):
        build_app({"storage_backend": "cliquetish.storage.nowhere"})
    with pytest.raises(ConfigurationError, match="no load_from_config"):
        build_app({"storage_backend": "cliquetish.errors"})


def test_a_missing_version_stops_start_up() -> None:
    config = Configurator(settings=prefixed({"userid_hmac_secret": "s", **NO_BACKENDS}))
    with pytest.raises(ConfigurationError) as raised:
        cliquetish.initialize(config)
    assert raised.value.key == "project_version"


def test_an_empty_secret_is_fine_in_development() -> None:
    app = build_app({"userid_hmac_secret": "", "development": "true"})
    app.get("/v1/", status=200)


def test_the_environment_overrides_the_ini(monkeypatch) -> None:
    monkeypatch.setenv("CLIQUETISH_PROJECT_NAME", "from-environment")
    monkeypatch.setenv("CLIQUETISH_BATCH_MAX_REQUESTS", "3")
    body = build_app({"project_name": "from-ini"}).get("/v1/").json
    assert body["project_name"] == "from-environment"
    assert body["settings"]["batch_max_requests"] == 3


def test_a_bad_environment_value_stops_start_up(monkeypatch) -> None:
    monkeypatch.setenv("CLIQUETISH_READONLY", "sometimes")
    with pytest.raises(ConfigurationError) as raised:
        build_app()
    assert raised.value.key == "readonly"


def test_settings_are_stored_typed_and_unprefixed() -> None:
    app = build_app({"batch_max_requests": "5"})
    settings = app.app.registry.settings
    assert settings["batch_max_requests"] == 5
    assert settings["version_prefix"] == "v1"
    assert settings["project_version"] == "1.0.0"


def test_http_api_version_sets_the_prefix() -> None:
    app = build_app({"http_api_version": "3.2"})
    assert app.get("/v3/", status=200).json["http_api_version"] == "3.2"
    assert app.get("/v1/", status=404).json["errno"] == 116
    assert app.get("/nowhere", status=307).headers["Location"].endswith("/v3/nowhere")


def test_routes_added_after_initialize_live_under_the_prefix() -> None:
    app = build_app(configure=lambda config: add_plain_view(
        config, "mine", "/mine", lambda request: {"mine": True}, renderer="json"))
    assert app.get("/v1/mine", status=200).json == {"mine": True}
    assert app.get("/mine", status=307).headers["Location"] == "http://localhost/v1/mine"


def test_config_include_with_settings_only() -> None:
    config = Configurator(settings=prefixed({
        "userid_hmac_secret": "s", "project_version": "2.0", **NO_BACKENDS}))
    config.include("cliquetish")
    app = webtest.TestApp(config.make_wsgi_app())
    assert app.get("/v2/", status=200).json["project_version"] == "2.0"
    assert app.get("/v2/__heartbeat__", status=200).json == {}


def test_the_demo_serves_the_builtins_under_v1() -> None:
    from cliquetish.testing import make_app

    app = make_app()
    assert app.get("/v1/__heartbeat__", status=200).json == {
        "storage": True, "cache": True, "permission": True}
    assert app.get("/v1/", status=200).json["http_api_version"] == "1.0"
