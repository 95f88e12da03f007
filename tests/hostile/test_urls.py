"""Hostile URLs: bytes that are not UTF-8, NUL bytes, CR/LF in redirected paths.

Every such request gets a clean 4xx JSON error (or, for a filter that merely matches nothing, an
empty 200), writes nothing, and no response header ever carries a raw CR or LF.
"""

from __future__ import annotations

import re

import pytest
import webtest
from webob import Request

from tests.faults.serving import raw_request, serving
from tests.hostile.conftest import Guard, assert_client_error, assert_error
from tests.hostile.demo_apps import ALICE, demo_app

INVALID_UTF8_PATHS = (
    "/v1/articles/%ff",
    "/v1/bookmarks/%c3%28",
    "/v1/%ed%a0%80",
    "/%fe%fe/articles",
)
INVALID_UTF8_QUERIES = (
    "title=%ff",
    "%ff=1",
    "_sort=%c3%28",
    "_fields=%ed%a0%80",
    "_token=%ff%fe",
    "_since=%ff",
    "in_id=a,%ff",
)


@pytest.mark.parametrize("path", INVALID_UTF8_PATHS)
def test_invalid_utf8_in_path_is_400(app: webtest.TestApp, guard: Guard, path: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = app.request(path, method=method, headers=ALICE, body=b'{"data": {}}',
                               expect_errors=True)
        assert_client_error(response)
    guard.unchanged()


@pytest.mark.parametrize("query", INVALID_UTF8_QUERIES)
def test_invalid_utf8_in_querystring_is_400(app: webtest.TestApp, guard: Guard, query: str
                                            ) -> None:
    for path in ("/v1/articles", "/v1/bookmarks"):
        for method in ("GET", "HEAD", "DELETE"):
            response = app.request(f"{path}?{query}", method=method, headers=ALICE,
                                   expect_errors=True)
            assert response.status_int == 400, (method, path, query, response.status)
            if method != "HEAD":
                assert_error(response, 400, 107)
    guard.unchanged()


def test_invalid_utf8_in_record_querystring_is_400(app: webtest.TestApp, guard: Guard) -> None:
    record_id = guard.before["article/"][0]["id"]
    response = app.get(f"/v1/articles/{record_id}?_fields=%ff", headers=ALICE,
                       expect_errors=True)
    assert_error(response, 400, 107)
    guard.unchanged()


@pytest.mark.parametrize("query", ("title=%00", "%00=1", "ti%00tle=1", "_since=1%00",
                                   "in_id=%00,a", "like_title=%00", "has_%00=true",
                                   "title.%00=1", "_before=%00"))
def test_nul_bytes_in_filters_match_nothing(app: webtest.TestApp, guard: Guard, query: str
                                           ) -> None:
    for path in ("/v1/articles", "/v1/bookmarks"):
        for method in ("GET", "DELETE"):
            response = app.request(f"{path}?{query}", method=method, headers=ALICE,
                                   expect_errors=True)
            if response.status_int == 200:
                assert response.json["data"] == [], (method, path, query)
            else:
                assert_client_error(response)
    guard.unchanged()


@pytest.mark.parametrize("query", ("_sort=%00", "_sort=-%00", "_fields=ti%00tle", "_token=%00",
                                   "_limit=1%00", "_fields=%00"))
def test_nul_bytes_in_listing_options_are_harmless(app: webtest.TestApp, guard: Guard,
                                                   query: str) -> None:
    for path in ("/v1/articles", "/v1/bookmarks"):
        response = app.get(f"{path}?{query}", headers=ALICE, expect_errors=True)
        if response.status_int == 200:
            assert len(response.json["data"]) == 1
        else:
            assert_client_error(response)
    guard.unchanged()


@pytest.mark.parametrize("record_id", ("%00", "abc%00", "%00" * 40,
                                       "7a6b2e65-3a41-4a8b-9c1d-2f0e8b1c5d00%00"))
def test_nul_bytes_in_record_ids_are_400(app: webtest.TestApp, guard: Guard, record_id: str
                                        ) -> None:
    for resource in ("articles", "bookmarks"):
        path = f"/v1/{resource}/{record_id}"
        assert_error(app.get(path, headers=ALICE, expect_errors=True), 400, 107)
        assert_error(app.delete(path, headers=ALICE, expect_errors=True), 400, 107)
        response = app.put_json(path, {"data": {"url": "https://example.org/"}},
                                headers=ALICE, expect_errors=True)
        assert_error(response, 400, 107)
    guard.unchanged()


def test_nul_byte_in_body_id_is_400(app: webtest.TestApp, guard: Guard) -> None:
    response = app.post_json("/v1/articles", {"data": {"id": "abc\u0000"}}, headers=ALICE,
                             expect_errors=True)
    assert_error(response, 400, 107)
    guard.unchanged()


# Redirects -------------------------------------------------------------------------------------

HEADER_INJECTIONS = (
    "/articles%0D%0ASet-Cookie:%20injected=1",
    "/articles%0ASet-Cookie:%20injected=1",
    "/articles%0DSet-Cookie:%20injected=1",
    "/v1/articles/%0D%0ASet-Cookie:%20injected=1/",
    "/%0D%0A%0D%0A<script>alert(1)</script>",
    "/articles?x=%0D%0ASet-Cookie:%20injected=1",
)


def _headers_of(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")[1:]


@pytest.mark.parametrize("target", HEADER_INJECTIONS)
def test_crlf_in_redirected_paths_never_reaches_a_header(target: str) -> None:
    app = demo_app("memory")
    with serving(app.app) as server:
        request = f"GET {target} HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n"
        raw = raw_request(server.port, request.encode("latin-1"))
    status_line = raw.split(b"\r\n", 1)[0]
    assert status_line.split()[1] in (b"307", b"400", b"404"), raw[:200]
    names = [line.split(b":", 1)[0].strip().lower() for line in _headers_of(raw)]
    assert b"set-cookie" not in names
    assert all(re.fullmatch(rb"[A-Za-z0-9-]+", name) for name in names), names
    if status_line.split()[1] == b"307":
        location = next(line for line in _headers_of(raw) if line.lower().startswith(b"location:"))
        assert b"\r" not in location and b"\n" not in location
        assert location.split(b":", 1)[1].strip().startswith(b"http://example.org/v1/")


@pytest.mark.parametrize("raw_path", ("/articles\r\nSet-Cookie: injected=1",
                                      "/v1/articles/\r\nX-Injected: 1/",
                                      "/articles\nSet-Cookie: injected=1",
                                      "//evil.example\r\n/"))
def test_crlf_in_decoded_wsgi_path_is_quoted_in_location(raw_path: str) -> None:
    app = demo_app("memory")
    request = Request.blank("/", environ={"PATH_INFO": raw_path, "HTTP_HOST": "example.org"})
    response = request.get_response(app.app)
    for name, value in response.headerlist:
        assert "\r" not in name + value and "\n" not in name + value, (name, value)
    assert "Set-Cookie" not in response.headers
    assert "X-Injected" not in response.headers
    if response.status_int == 307:
        assert response.headers["Location"].startswith("http://example.org/v1/")


@pytest.mark.parametrize("path", ("//evil.example/", "///evil.example/articles",
                                  "/\\evil.example/", "//evil.example/v1/articles/"))
def test_redirects_stay_on_this_site(path: str) -> None:
    app = demo_app("memory")
    response = app.get(path, extra_environ={"HTTP_HOST": "example.org"}, expect_errors=True)
    if response.status_int == 307:
        location = response.headers["Location"]
        assert location.startswith("http://example.org/v1/"), location
        assert "//evil" not in location
    else:
        assert_client_error(response)
