"""Hello, __heartbeat__, __lbheartbeat__ and __version__."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from pyramid.authorization import Authenticated, Everyone

from tests.tweens.apps import build_app


def test_hello_lists_the_project_and_its_settings() -> None:
    app = build_app({"project_name": "bookmarks-api", "readonly": "true",
                     "batch_max_requests": "7"})
    response = app.get("/v1/", status=200)
    body = response.json
    assert body["project_name"] == "bookmarks-api"
    assert body["project_version"] == "1.0.0"
    assert body["http_api_version"] == "1.0.0"
    assert body["url"] == "http://localhost/v1/"
    assert body["project_docs"].startswith("https://")
    assert body["settings"] == {"batch_max_requests": 7, "readonly": True}
    assert body["capabilities"] == {}
    assert "user" not in body
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.content_type == "application/json"


def test_hello_lists_capabilities_added_by_the_application() -> None:
    def configure(config):
        config.add_api_capability("history", "Track changes", "https://example.com/history",
                                  version="2.0")

    body = build_app(configure=configure).get("/v1/").json
    assert body["capabilities"] == {
        "history": {"description": "Track changes", "url": "https://example.com/history",
                    "version": "2.0"}
    }


class HeaderUserPolicy:
    """A security policy trusting an ``X-User`` header (tests only)."""

    def authenticated_userid(self, request):
        return request.headers.get("X-User")

    def identity(self, request):
        return self.authenticated_userid(request)

    def permits(self, request, context, permission):
        return False


def test_hello_shows_the_authenticated_user_and_needs_no_permission() -> None:
    app = build_app(configure=lambda config: config.set_security_policy(HeaderUserPolicy()))
    anonymous = app.get("/v1/", status=200).json
    assert "user" not in anonymous
    body = app.get("/v1/", headers={"X-User": "basicauth:abc"}, status=200).json
    assert body["user"] == {
        "id": "basicauth:abc",
        "principals": [Everyone, Authenticated, "basicauth:abc"],
    }
    app.get("/v1/__heartbeat__", status=200)
    app.get("/v1/__lbheartbeat__", status=200)


def test_hello_refuses_an_accept_header_it_cannot_serve() -> None:
    response = build_app().get("/v1/", headers={"Accept": "text/html"}, status=406)
    body = response.json
    assert body["errno"] == 107
    assert body["code"] == 406
    assert body["details"][0]["location"] == "header"
    assert body["details"][0]["name"] == "Accept"
    assert body["message"].startswith("Accept in header: ")


def test_hello_accepts_json_or_anything() -> None:
    app = build_app()
    app.get("/v1/", headers={"Accept": "application/json"}, status=200)
    app.get("/v1/", headers={"Accept": "text/html,*/*;q=0.8"}, status=200)


def test_lbheartbeat_is_an_empty_object() -> None:
    response = build_app().get("/v1/__lbheartbeat__", status=200)
    assert response.json == {}
    assert response.headers["Cache-Control"] == "no-cache"


def heartbeats(**checks):
    def configure(config):
        for name, check in checks.items():
            config.add_heartbeat(name, check)

    return configure


def test_heartbeat_is_200_when_every_check_passes() -> None:
    app = build_app(configure=heartbeats(storage=lambda r: True, cache=lambda r: True))
    response = app.get("/v1/__heartbeat__", status=200)
    assert response.json == {"storage": True, "cache": True}
    assert response.headers["Cache-Control"] == "no-cache"


def test_heartbeat_with_no_check_is_an_empty_200() -> None:
    assert build_app().get("/v1/__heartbeat__", status=200).json == {}


def test_heartbeat_is_503_with_the_same_map_when_a_check_fails() -> None:
    app = build_app(configure=heartbeats(storage=lambda r: True, cache=lambda r: False))
    response = app.get("/v1/__heartbeat__", status=503)
    assert response.json == {"storage": True, "cache": False}
    assert response.headers["Retry-After"] == "30"


def test_heartbeat_counts_a_raising_check_as_failed_and_logs_it(caplog) -> None:
    def broken(request):
        raise ConnectionError("storage server refused the connection")

    app = build_app(configure=heartbeats(storage=broken, cache=lambda r: True))
    with caplog.at_level(logging.ERROR, logger="cliquetish.heartbeat"):
        response = app.get("/v1/__heartbeat__", status=503)
    assert response.json == {"storage": False, "cache": True}
    failures = [r for r in caplog.records if r.name == "cliquetish.heartbeat"]
    assert failures and "storage" in failures[0].getMessage()
    assert isinstance(failures[0].exc_info[1], ConnectionError)


def test_heartbeat_counts_a_check_over_the_timeout_as_failed(caplog) -> None:
    release = threading.Event()

    def hung(request):
        release.wait(10)
        return True

    app = build_app({"heartbeat_timeout_seconds": "0.2"},
                    configure=heartbeats(storage=hung, cache=lambda r: True))
    try:
        with caplog.at_level(logging.WARNING, logger="cliquetish.heartbeat"):
            first = app.get("/v1/__heartbeat__", status=503)
            # A second probe shares the hung check instead of starting another one.
            second = app.get("/v1/__heartbeat__", status=503)
    finally:
        release.set()
    assert first.json == second.json == {"storage": False, "cache": True}
    assert any("did not answer" in r.getMessage() for r in caplog.records)


def test_heartbeat_checks_run_concurrently() -> None:
    # Each check waits for the other: run one after the other, both would time out.
    both_started = threading.Barrier(2, timeout=5)

    def check(request):
        both_started.wait()
        return True

    app = build_app(configure=heartbeats(first=check, second=check))
    assert app.get("/v1/__heartbeat__", status=200).json == {"first": True, "second": True}


@pytest.mark.parametrize("path", ["/v1/__heartbeat__", "/v1/__lbheartbeat__", "/v1/"])
def test_builtins_answer_405_with_allow_to_other_methods(path) -> None:
    response = build_app().post(path, status=405)
    assert response.json["errno"] == 115
    assert "GET" in response.headers["Allow"]


def test_version_serves_the_version_file(tmp_path) -> None:
    version = {"source": "https://github.com/x/y", "version": "1.2.3", "commit": "abc",
               "build": "https://ci/1"}
    path = tmp_path / "version.json"
    path.write_text(json.dumps(version))
    response = build_app({"version_json_path": str(path)}).get("/v1/__version__", status=200)
    assert response.json == version
    assert response.headers["Cache-Control"] == "no-cache"


def test_version_reads_a_relative_path_from_the_current_directory(tmp_path,
                                                                  monkeypatch) -> None:
    (tmp_path / "version.json").write_text('{"version": "9.9"}')
    monkeypatch.chdir(tmp_path)
    app = build_app({"version_json_path": "version.json"})
    monkeypatch.chdir("/")
    assert app.get("/v1/__version__", status=200).json == {"version": "9.9"}


def test_version_is_a_json_404_when_the_file_is_missing(tmp_path) -> None:
    app = build_app({"version_json_path": str(tmp_path / "nothing.json")})
    body = app.get("/v1/__version__", status=404).json
    assert body["errno"] == 111
    assert body["code"] == 404
