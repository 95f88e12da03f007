"""Hostile batch payloads: header values that are not strings, header names and values with
control characters, wrong types everywhere. The whole batch is refused (400 errno 107 naming
the field) before any sub-request runs, so a valid write in the same batch is not made."""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from tests.hostile.conftest import Guard, assert_error
from tests.hostile.demo_apps import ALICE

VALID_WRITE = {"method": "POST", "path": "/articles", "body": {"data": {"title": "batched"}}}


def _batch(app: webtest.TestApp, payload: Any) -> Any:
    return app.post_json("/v1/batch", payload, headers=ALICE, expect_errors=True)


@pytest.mark.parametrize("value", (1, 1.5, None, True, [], ["a"], {}, {"a": "b"}, 10**30))
def test_non_string_header_values_are_refused(app: webtest.TestApp, guard: Guard, value: Any
                                              ) -> None:
    for payload in (
        {"requests": [VALID_WRITE, {"method": "GET", "path": "/articles",
                                    "headers": {"X-Anything": value}}]},
        {"defaults": {"headers": {"Authorization": value}}, "requests": [VALID_WRITE]},
        {"requests": [{**VALID_WRITE, "headers": {"If-Match": value}}]},
    ):
        body = assert_error(_batch(app, payload), 400, 107)
        assert "headers" in body["details"][0]["name"]
    guard.unchanged()


@pytest.mark.parametrize("headers", (
    {"X-A": "a\r\nSet-Cookie: x=1"},
    {"X-A": "a\nb"},
    {"X-A": "a\u0000b"},
    {"X-A\r\nSet-Cookie": "1"},
    {"": "1"},
    {"X A": "1"},
    {"X-\u00e9": "1"},
    {"Authorization": "Basic \u0000"},
))
def test_control_characters_in_headers_are_refused(app: webtest.TestApp, guard: Guard,
                                                   headers: dict[str, str]) -> None:
    response = _batch(app, {"requests": [VALID_WRITE, {**VALID_WRITE, "headers": headers}]})
    assert_error(response, 400, 107)
    assert "Set-Cookie" not in response.headers
    guard.unchanged()


@pytest.mark.parametrize("request_spec", (
    {"method": "FETCH", "path": "/articles"},
    {"method": 1, "path": "/articles"},
    {"method": None, "path": "/articles"},
    {"path": 5},
    {"path": "articles"},
    {"path": "/articles\r\nX: 1"},
    {"path": "/articles\u0000"},
    {"path": "http://evil.example/v1/articles"},
    {"path": "/batch"},
    {"path": "/v1/batch"},
    {"body": "x", "path": "/articles", "method": "POST", "extra": 1},
    "GET /articles",
    None,
    [],
))
def test_malformed_requests_refuse_the_whole_batch(app: webtest.TestApp, guard: Guard,
                                                   request_spec: Any) -> None:
    response = _batch(app, {"requests": [VALID_WRITE, request_spec]})
    assert_error(response, 400, 107)
    guard.unchanged()


@pytest.mark.parametrize("payload", (
    None, [], "requests", 1, {"requests": {}}, {"requests": []}, {"requests": None},
    {"defaults": [], "requests": [VALID_WRITE]}, {"defaults": "x", "requests": [VALID_WRITE]},
    {"requests": [VALID_WRITE] * 26}, {"requests": [VALID_WRITE], "other": 1},
))
def test_malformed_payloads_are_refused(app: webtest.TestApp, guard: Guard, payload: Any
                                        ) -> None:
    assert_error(_batch(app, payload), 400)
    guard.unchanged()


def test_sub_request_errors_undo_only_their_own_writes(app: webtest.TestApp, guard: Guard
                                                       ) -> None:
    response = _batch(app, {"requests": [
        {"method": "POST", "path": "/articles", "body": {"data": {"title": "\u0000"}}},
        {"method": "PUT", "path": "/articles/not-an-id", "body": {"data": {}}},
        {"method": "GET", "path": "/articles?_limit=" + "9" * 30},
        {"method": "GET", "path": "/articles?title=%ff"},
        {"method": "POST", "path": "/articles", "body": {"data": []}},
    ]})
    assert response.status_int == 200, response.body[:300]
    statuses = [sub["status"] for sub in response.json["responses"]]
    assert statuses == [201, 400, 200, 400, 400]
    titles = sorted(record["title"] for record in
                    app.get("/v1/articles", headers=ALICE, status=200).json["data"])
    assert titles == ["\u0000", "first"]
