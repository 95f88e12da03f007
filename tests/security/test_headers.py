"""Security and CORS headers on every kind of response: successes, 304, redirects, every error
status the application can answer (the last-resort 500 and the 503 of a dead backend
included), preflights; checked through the WSGI application and through a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest

from cliquetish.tweens.cors import EXPOSED_HEADERS
from tests.faults.serving import raw_request, serving
from tests.security.conftest import ALICE, BOB, security_app

ORIGIN = "https://app.example"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
}

Call = Callable[[webtest.TestApp, dict[str, str], str], Any]


def _record(app: webtest.TestApp, headers: dict[str, str]) -> str:
    created = app.post_json("/v1/articles", {"data": {"title": "t"}}, headers=ALICE).json
    return f"/v1/articles/{created['data']['id']}"


def _etag(app: webtest.TestApp, path: str) -> str:
    return app.get(path, headers=ALICE).headers["ETag"]


CASES: dict[str, tuple[int, Call]] = {
    "hello": (200, lambda app, h, r: app.get("/v1/", headers=h)),
    "created": (201, lambda app, h, r: app.post_json(
        "/v1/articles", {"data": {}}, headers={**ALICE, **h})),
    "head": (200, lambda app, h, r: app.head("/v1/articles", headers={**ALICE, **h})),
    "not modified": (304, lambda app, h, r: app.get(
        r, headers={**ALICE, **h, "If-None-Match": _etag(app, r)})),
    "version redirect": (307, lambda app, h, r: app.get("/articles", headers=h)),
    "slash redirect": (307, lambda app, h, r: app.get("/v1/articles/", headers=h)),
    "bad request": (400, lambda app, h, r: app.get(
        "/v1/articles?_limit=x", headers={**ALICE, **h}, expect_errors=True)),
    "unauthorized": (401, lambda app, h, r: app.get(
        "/v1/bookmarks", headers=h, expect_errors=True)),
    "forbidden": (403, lambda app, h, r: app.get(r, headers={**BOB, **h}, expect_errors=True)),
    "not found": (404, lambda app, h, r: app.get("/v1/nothing", headers=h, expect_errors=True)),
    "no version": (404, lambda app, h, r: app.get("/v7/", headers=h, expect_errors=True)),
    "method": (405, lambda app, h, r: app.request(
        "/v1/__heartbeat__", method="POST", headers=h, expect_errors=True)),
    "not acceptable": (406, lambda app, h, r: app.get(
        "/v1/articles", headers={**ALICE, **h, "Accept": "text/html"}, expect_errors=True)),
    "precondition": (412, lambda app, h, r: app.request(
        r, method="DELETE", headers={**ALICE, **h, "If-Match": '"1"'}, expect_errors=True)),
    "too large": (413, lambda app, h, r: app.post(
        "/v1/articles", b"x" * (2 * 1024 * 1024), headers={**ALICE, **h},
        expect_errors=True)),
    "media type": (415, lambda app, h, r: app.post(
        "/v1/articles", b"{}", headers={**ALICE, **h, "Content-Type": "text/xml"},
        expect_errors=True)),
    "bug": (500, lambda app, h, r: app.get("/v1/boom", headers=h, expect_errors=True)),
    "backend down": (503, lambda app, h, r: app.get(
        "/v1/backend-down", headers=h, expect_errors=True)),
    "batch": (200, lambda app, h, r: app.post_json(
        "/v1/batch", {"requests": [{"path": "/articles"}]}, headers={**ALICE, **h})),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_security_headers_on_every_response(app: webtest.TestApp, case: str) -> None:
    status, call = CASES[case]
    response = call(app, {}, _record(app, ALICE))
    assert response.status_int == status, (case, response.status)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (case, name, response.headerlist)
    assert response.headers.get("X-Request-Id")


@pytest.mark.parametrize("case", sorted(CASES))
def test_cors_headers_on_every_response(app: webtest.TestApp, case: str) -> None:
    status, call = CASES[case]
    response = call(app, {"Origin": ORIGIN}, _record(app, ALICE))
    assert response.status_int == status, (case, response.status)
    assert response.headers.get("Access-Control-Allow-Origin") == ORIGIN, case
    exposed = {name.strip() for name in
               response.headers["Access-Control-Expose-Headers"].split(",")}
    assert set(EXPOSED_HEADERS) <= exposed
    assert {"Retry-After", "Backoff", "Next-Page", "ETag"} <= exposed
    assert "Origin" in response.headers.get("Vary", "")


@pytest.mark.parametrize("case", ("forbidden", "bug", "backend down", "not found", "too large"))
def test_cors_refuses_other_origins_on_errors(case: str) -> None:
    app = security_app(cors_origins="https://good.example")
    status, call = CASES[case]
    record = _record(app, ALICE)
    refused = call(app, {"Origin": "https://evil.example"}, record)
    assert refused.status_int == status
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Credentials" not in refused.headers
    allowed = call(app, {"Origin": "https://good.example"}, record)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://good.example"


@pytest.mark.parametrize("path", ("/v1/nothing", "/v1/boom", "/v1/backend-down", "/articles",
                                  "/v1/bookmarks"))
def test_preflights_answer_even_where_requests_fail(app: webtest.TestApp, path: str) -> None:
    response = app.options(path, headers={"Origin": ORIGIN,
                                          "Access-Control-Request-Method": "GET"})
    assert response.status_int == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_headers_survive_a_real_server(app: webtest.TestApp) -> None:
    record = _record(app, ALICE)
    etag = _etag(app, record)
    requests = {
        304: f"GET {record} HTTP/1.1\r\nIf-None-Match: {etag}\r\n"
             f"Authorization: {ALICE['Authorization']}\r\n",
        307: "GET /articles HTTP/1.1\r\n",
        500: "GET /v1/boom HTTP/1.1\r\n",
        503: "GET /v1/backend-down HTTP/1.1\r\n",
        400: "GET /v1/%ff HTTP/1.1\r\n",
        404: "GET /v1/nothing HTTP/1.1\r\n",
    }
    with serving(app.app) as server:
        for status, head in requests.items():
            raw = raw_request(server.port, (head + f"Host: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n"
                                            "Connection: close\r\n\r\n").encode())
            header_block = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            lines = header_block.split("\r\n")
            assert lines[0].split()[1] == str(status), (status, lines[0])
            headers = dict(line.split(": ", 1) for line in lines[1:])
            for name, value in SECURITY_HEADERS.items():
                assert headers.get(name) == value, (status, header_block)
            assert headers.get("Access-Control-Allow-Origin") == ORIGIN, header_block
