"""Hostile request bodies: deep nesting, huge sizes, bytes that are not UTF-8, NUL characters,
content types nobody asked for.

Each is refused with a clean 4xx JSON error and writes nothing, on every write endpoint (POST,
PUT, PATCH, batch). NUL characters are legitimate JSON (``\\u0000``): in values and keys they
are stored and read back exactly; in ids they are refused.
"""

from __future__ import annotations

import io
import json
import uuid
from urllib.parse import urlencode

import pytest
import webtest
from webob import Request

from tests.hostile.conftest import Guard, assert_client_error, assert_error
from tests.hostile.demo_apps import ALICE

TEN_MEGABYTES = 10 * 1024 * 1024
JSON_HEADERS = {**ALICE, "Content-Type": "application/json"}


def _write_targets(guard: Guard) -> list[tuple[str, str]]:
    """``(method, path)`` of every endpoint that takes a JSON body."""
    article = guard.before["article/"][0]["id"]
    return [
        ("POST", "/v1/articles"),
        ("POST", "/v1/bookmarks"),
        ("PUT", f"/v1/articles/{uuid.uuid4()}"),
        ("PUT", f"/v1/articles/{article}"),
        ("PATCH", f"/v1/articles/{article}"),
        ("POST", "/v1/batch"),
    ]


def _nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", (1000, 10_000, 100_000))
@pytest.mark.parametrize("kind", ("array", "object"))
def test_deeply_nested_json_is_refused(app: webtest.TestApp, guard: Guard, depth: int,
                                       kind: str) -> None:
    inner = _nested(depth, kind)
    bodies = (inner, b'{"data": {"x": ' + inner + b"}}", b'{"data": ' + inner + b"}",
              b'{"requests": [{"method": "POST", "path": "/articles", "body": {"data": {"x": '
              + inner + b"}}}]}")
    for method, path in _write_targets(guard):
        for body in bodies:
            response = app.request(path, method=method, body=body, headers=JSON_HEADERS,
                                   expect_errors=True)
            assert_error(response, 400)
    assert app.get("/v1/__heartbeat__", status=200).json
    guard.unchanged()


def test_nesting_within_the_limit_is_accepted(app: webtest.TestApp) -> None:
    data = {"x": _nested(30, "array").decode()}
    body = b'{"data": {"x": ' + _nested(30, "array") + b"}}"
    created = app.post("/v1/articles", body, headers=JSON_HEADERS, status=201).json["data"]
    stored = app.get(f"/v1/articles/{created['id']}", headers=ALICE, status=200).json["data"]
    assert str(stored["x"]).count("[") == data["x"].count("[")


def test_ten_megabyte_bodies_are_413(app: webtest.TestApp, guard: Guard) -> None:
    huge = b'{"data": {"x": "' + b"a" * TEN_MEGABYTES + b'"}}'
    for method, path in _write_targets(guard):
        response = app.request(path, method=method, body=huge, headers=JSON_HEADERS,
                               expect_errors=True)
        body = assert_error(response, 413, 113)
        assert "limit" in body["message"]
    guard.unchanged()


@pytest.mark.parametrize("chunked", (True, False))
def test_ten_megabyte_bodies_without_declared_length_are_413(
    app: webtest.TestApp, guard: Guard, chunked: bool
) -> None:
    huge = b'{"data": {"x": "' + b"a" * TEN_MEGABYTES + b'"}}'
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
               "wsgi.input": io.BytesIO(huge), "HTTP_AUTHORIZATION": ALICE["Authorization"],
               "HTTP_HOST": "localhost"}
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["wsgi.input_terminated"] = True
    request = Request.blank("/v1/articles", environ=environ)
    request.environ.pop("CONTENT_LENGTH", None)
    response = request.get_response(app.app)
    assert response.status_int == 413, response.body[:200]
    assert response.json["errno"] == 113
    guard.unchanged()


@pytest.mark.parametrize("raw", (
    b'{"data": {"title": "\xff\xfe"}}',
    b'{"data": {"\xc3\x28": "x"}}',
    b'{"data": {"title": "\xed\xa0\x80"}}',
    b'{"data": {"title": "\\ud800"}}',
    b"\xef\xbb\xbf\xff{}",
    b'{"data": {"title": "caf\xe9"}}',
))
def test_invalid_utf8_bodies_are_400(app: webtest.TestApp, guard: Guard, raw: bytes) -> None:
    for method, path in _write_targets(guard):
        response = app.request(path, method=method, body=raw, headers=JSON_HEADERS,
                               expect_errors=True)
        assert_error(response, 400)
    guard.unchanged()


def test_invalid_utf8_in_batch_sub_requests_is_refused(app: webtest.TestApp, guard: Guard
                                                       ) -> None:
    bodies = (
        b'{"requests": [{"method": "POST", "path": "/articles", "body": {"data": '
        b'{"t": "\xff"}}}]}',
        b'{"requests": [{"method": "GET", "path": "/articles/\xff"}]}',
    )
    for body in bodies:
        response = app.post("/v1/batch", body, headers=JSON_HEADERS, expect_errors=True)
        assert_error(response, 400)
    response = app.post_json("/v1/batch", {"requests": [
        {"method": "POST", "path": "/articles", "body": {"data": {"t": 1}}},
        {"method": "GET", "path": "/articles/%ff"},
        {"method": "GET", "path": "/articles?title=%ff"},
    ]}, headers=ALICE, expect_errors=True)
    if response.status_int == 200:
        statuses = [sub["status"] for sub in response.json["responses"]]
        assert statuses[1:] == [400, 400], statuses
    else:
        assert_client_error(response)
        guard.unchanged()


def test_nul_characters_in_values_and_keys_round_trip(app: webtest.TestApp) -> None:
    data = {"title": "a\u0000b", "nul\u0000key": "\u0000", "list": ["\u0000", {"\u0000": 0}]}
    created = app.post_json("/v1/articles", {"data": data}, headers=ALICE, status=201).json
    stored = app.get(f"/v1/articles/{created['data']['id']}", headers=ALICE, status=200).json
    assert {key: stored["data"][key] for key in data} == data
    bookmark = {"url": "https://example.org/\u0000", "title": "\u0000", "extra\u0000": True}
    created = app.post_json("/v1/bookmarks", {"data": bookmark}, headers=ALICE,
                            expect_errors=True)
    if created.status_int == 201:
        record_id = created.json["data"]["id"]
        stored = app.get(f"/v1/bookmarks/{record_id}", headers=ALICE, status=200).json["data"]
        assert {key: stored[key] for key in bookmark} == bookmark
    else:
        assert_error(created, 400, 107)
    query = urlencode({"title": json.dumps("a\u0000b")})
    listed = app.get(f"/v1/articles?{query}", headers=ALICE, status=200).json["data"]
    assert [record["title"] for record in listed] == ["a\u0000b"]


@pytest.mark.parametrize("content_type", (
    "text/xml", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
    "application/octet-stream", "application/javascript", "application/jsonx",
    "application/json-patch+jsonx", "*/*", "application/json\r\nX-Injected: 1",
))
def test_unknown_content_types_are_415(app: webtest.TestApp, guard: Guard, content_type: str
                                       ) -> None:
    article = guard.before["article/"][0]["id"]
    for method, path in (("POST", "/v1/articles"), ("PUT", f"/v1/articles/{article}"),
                         ("PATCH", f"/v1/articles/{article}"), ("POST", "/v1/bookmarks")):
        response = app.request(path, method=method, body=b'{"data": {"title": "changed"}}',
                               headers={**ALICE, "Content-Type": content_type},
                               expect_errors=True)
        assert_error(response, 415)
        assert "X-Injected" not in response.headers
    guard.unchanged()


def test_body_that_is_not_an_object_is_400(app: webtest.TestApp, guard: Guard) -> None:
    for raw in (b"null", b"[]", b'"data"', b"1e999", b"NaN", b'{"data": [1]}',
                b'{"data": {"id": 5}}', b'{"data": {}, "permissions": "x"}', b"{" * 3):
        for method, path in _write_targets(guard)[:5]:
            response = app.request(path, method=method, body=raw, headers=JSON_HEADERS,
                                   expect_errors=True)
            assert_client_error(response)
    guard.unchanged()
