"""Security headers, CORS, Backoff and Retry-After."""

from __future__ import annotations

import pytest
from pyramid.response import Response

from cliquetish.tweens.cors import EXPOSED_HEADERS
from tests.tweens.apps import add_plain_view, build_app

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def app():
    return build_app()


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/", 200),
    ("GET", "/v1/__heartbeat__", 200),
    ("GET", "/v1/nowhere", 404),
    ("GET", "/nowhere", 307),
    ("DELETE", "/v1/__heartbeat__", 405),
    ("GET", "/v2/", 404),
])
def test_security_headers_are_on_every_response(app, method, path, status) -> None:
    response = app.request(path, method=method, status=status)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers.getall("X-Content-Type-Options") == ["nosniff"]


@pytest.mark.parametrize("name", ["Content-Security-Policy", "content-security-policy"])
def test_a_security_header_set_by_a_view_is_kept(name) -> None:
    def framed(request):
        response = Response(b"<p>framed</p>", content_type="text/html")
        response.headerlist.append((name, "frame-ancestors 'self'"))
        return response

    app = build_app(configure=lambda config: add_plain_view(config, "framed", "/framed", framed))
    response = app.get("/v1/framed", status=200)
    assert response.headers.getall("Content-Security-Policy") == ["frame-ancestors 'self'"]
    assert response.headers.getall("X-Content-Type-Options") == ["nosniff"]


def test_cors_headers_on_success_and_errors(app) -> None:
    for path, status in (("/v1/", 200), ("/v1/nowhere", 404), ("/nowhere", 307)):
        response = app.get(path, headers={"Origin": ORIGIN}, status=status)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        exposed = [h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")]
        assert set(exposed) == set(EXPOSED_HEADERS)
        assert {"Next-Page", "Total-Records", "ETag", "Last-Modified", "Backoff", "Retry-After",
                "Alert", "X-Request-Id"} <= set(exposed)
        assert "Origin" in response.headers["Vary"]


def test_no_cors_headers_without_an_origin(app) -> None:
    assert "Access-Control-Allow-Origin" not in app.get("/v1/").headers


@pytest.mark.parametrize("path", ["/v1/", "/v1/__heartbeat__", "/v1/anything/at/all"])
def test_preflight_works_on_every_endpoint(app, path) -> None:
    response = app.options(path, headers={
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }, status=200)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "PUT"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "3600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-Id"]


def test_preflight_never_echoes_hostile_values(app) -> None:
    response = app.options("/v1/", headers={
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "EVIL",
        "Access-Control-Request-Headers": "X-A;<script>",
    }, status=200)
    assert "EVIL" not in response.headers["Access-Control-Allow-Methods"]
    assert "script" not in response.headers["Access-Control-Allow-Headers"]


def test_only_listed_origins_are_allowed() -> None:
    app = build_app({"cors_origins": "https://good.example https://also.example",
                     "cors_max_age_seconds": "60"})
    good = app.get("/v1/", headers={"Origin": "https://also.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://also.example"
    bad = app.get("/v1/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in bad.headers
    preflight = app.options("/v1/", headers={"Origin": "https://good.example",
                                             "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Max-Age"] == "60"
    refused = app.options("/v1/", headers={"Origin": "https://evil.example",
                                           "Access-Control-Request-Method": "GET"},
                          status=405)
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_a_malformed_origin_is_never_echoed(app) -> None:
    response = app.get("/v1/", headers={"Origin": "https://x.example\tevil"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_backoff_header_when_set() -> None:
    assert "Backoff" not in build_app().get("/v1/").headers
    app = build_app({"backoff": "10"})
    assert app.get("/v1/").headers["Backoff"] == "10"
    assert app.get("/v1/nowhere", status=404).headers["Backoff"] == "10"


def test_retry_after_only_on_503_and_409() -> None:
    def configure(config):
        config.add_heartbeat("storage", lambda request: False)

    app = build_app({"retry_after_seconds": "7"}, configure)
    assert app.get("/v1/__heartbeat__", status=503).headers["Retry-After"] == "7"
    assert "Retry-After" not in app.get("/v1/nowhere", status=404).headers
    assert "Retry-After" not in app.get("/v1/", status=200).headers


def test_a_preflight_has_an_empty_body_and_no_content_type(app) -> None:
    response = app.options("/v1/", headers={"Origin": ORIGIN,
                                            "Access-Control-Request-Method": "GET"})
    assert response.body == b""
    assert "Content-Type" not in response.headers


def test_cors_adds_origin_to_an_existing_vary() -> None:
    from tests.tweens.apps import add_plain_view

    def vary_view(request):
        request.response.headers["Vary"] = "Accept"
        return {"ok": True}

    app = build_app(configure=lambda config: add_plain_view(
        config, "vary", "/vary", vary_view, renderer="json"))
    response = app.get("/v1/vary", headers={"Origin": ORIGIN})
    assert response.headers["Vary"] == "Accept, Origin"


def test_readonly_error_only_concerns_writes() -> None:
    from pyramid.request import Request

    from cliquetish.tweens.readonly import readonly_error

    registry = build_app({"readonly": "true"}).app.registry
    request = Request.blank("/v1/things", method="GET")
    request.registry = registry
    assert readonly_error(request) is None
    request = Request.blank("/v1/things", method="PATCH")
    request.registry = registry
    assert readonly_error(request).json_body["errno"] == 115
