"""Numbers and lists out of any sane range: ``_limit=10**30``, timestamps below zero or beyond
2**63, thousands of sort fields or filters, huge ``last_modified`` values in bodies and
preconditions. Each gets a clean answer (200 within the rules, or a 4xx), never a 5xx."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
import webtest

from tests.hostile.conftest import Guard, assert_client_error, assert_error
from tests.hostile.demo_apps import ALICE

BEYOND_BIGINT = (str(2**63), str(2**63 + 1), str(2**64), str(10**30), "9" * 400, "9" * 5000)
"""Integers no signed 64-bit column holds (the last one beyond Python's int() digit limit)."""


@pytest.mark.parametrize("limit", (str(10**30), str(2**63), str(2**31), "9" * 400, "9" * 5000))
def test_huge_limit_is_capped(app: webtest.TestApp, guard: Guard, limit: str) -> None:
    for path in ("/v1/articles", "/v1/bookmarks"):
        response = app.get(f"{path}?_limit={limit}", headers=ALICE, status=200)
        assert len(response.json["data"]) == 1
        assert "Next-Page" not in response.headers
    guard.unchanged()


@pytest.mark.parametrize("limit", ("0", "-1", "-" + str(10**30), "1e3", "1.5", "0x10", " ", "١٢"))
def test_invalid_limit_is_400(app: webtest.TestApp, guard: Guard, limit: str) -> None:
    response = app.get("/v1/articles?" + urlencode({"_limit": limit}), headers=ALICE,
                       expect_errors=True)
    body = assert_error(response, 400, 107)
    assert body["details"][0]["name"] == "_limit"
    guard.unchanged()


@pytest.mark.parametrize("name", ("_since", "_before"))
@pytest.mark.parametrize("value", ("-1", "-9223372036854775808", '"-5"', "1e3", "abc", "",
                                   "١٢٣"))
def test_negative_or_malformed_timestamps_are_400(app: webtest.TestApp, guard: Guard, name: str,
                                                  value: str) -> None:
    response = app.get("/v1/articles?" + urlencode({name: value}), headers=ALICE,
                       expect_errors=True)
    body = assert_error(response, 400, 107)
    assert body["details"][0]["name"] == name
    guard.unchanged()


@pytest.mark.parametrize("value", BEYOND_BIGINT)
def test_timestamps_beyond_bigint_are_answered(app: webtest.TestApp, guard: Guard, value: str
                                               ) -> None:
    for path in ("/v1/articles", "/v1/bookmarks"):
        since = app.get(f"{path}?_since={value}", headers=ALICE, expect_errors=True)
        if since.status_int == 200:
            assert since.json["data"] == []
        else:
            assert_error(since, 400, 107)
        before = app.get(f"{path}?_before={value}", headers=ALICE, expect_errors=True)
        if before.status_int == 200:
            assert len(before.json["data"]) == 1
        else:
            assert_error(before, 400, 107)
        for query in (f"min_last_modified={value}", f"lt_last_modified={value}",
                      f"last_modified={value}", f"in_last_modified=1,{value}",
                      f"gt_last_modified={value}"):
            response = app.get(f"{path}?{query}", headers=ALICE, expect_errors=True)
            if response.status_int != 200:
                assert_error(response, 400, 107)
        response = app.delete(f"{path}?_since={value}", headers=ALICE, expect_errors=True)
        if response.status_int == 200:
            assert response.json["data"] == []
        else:
            assert_error(response, 400, 107)
    guard.unchanged()


@pytest.mark.parametrize("value", BEYOND_BIGINT + ("-1",))
def test_huge_etags_in_preconditions(app: webtest.TestApp, guard: Guard, value: str) -> None:
    record_id = guard.before["article/"][0]["id"]
    path = f"/v1/articles/{record_id}"
    etag = f'"{value}"'
    response = app.get(path, headers={**ALICE, "If-None-Match": etag}, expect_errors=True)
    assert response.status_int in (200, 400), response.status
    for method in ("PUT", "PATCH", "DELETE"):
        response = app.request(path, method=method, body=b'{"data": {"title": "x"}}',
                               headers={**ALICE, "If-Match": etag}, expect_errors=True)
        assert response.status_int in (400, 412), (method, response.status)
    guard.unchanged()


@pytest.mark.parametrize("value", (2**63, 2**64, 10**30, -1, -(2**63) - 1, 1.5, "1", True,
                                   None))
def test_out_of_range_last_modified_in_bodies(app: webtest.TestApp, value: object) -> None:
    """A client ``last_modified`` is an integer timestamp: out of range or of another type is
    refused (400) or ignored (the server stamps the record), never stored broken."""
    created = app.post_json("/v1/articles", {"data": {"last_modified": value, "title": "t"}},
                            headers=ALICE, expect_errors=True)
    if created.status_int == 201:
        stamp = created.json["data"]["last_modified"]
        assert isinstance(stamp, int) and 0 < stamp < 2**63
        record = app.get(f"/v1/articles/{created.json['data']['id']}", headers=ALICE,
                         status=200).json["data"]
        assert record["last_modified"] == stamp
    else:
        assert_client_error(created)
    put = app.put_json(f"/v1/articles/{uuid.uuid4()}",
                       {"data": {"last_modified": value}}, headers=ALICE, expect_errors=True)
    if put.status_int != 201:
        assert_client_error(put)
    listing = app.get("/v1/articles", headers=ALICE, status=200).json["data"]
    assert all(isinstance(r["last_modified"], int) and r["last_modified"] < 2**63
               for r in listing)


@pytest.mark.parametrize("count", (200, 3000))
def test_huge_sort_lists_are_refused_or_answered(app: webtest.TestApp, guard: Guard, count: int
                                                 ) -> None:
    fields = ",".join(f"f{index}" for index in range(count))
    for path in ("/v1/articles", "/v1/bookmarks"):
        response = app.get(f"{path}?_sort={fields}", headers=ALICE, expect_errors=True)
        if response.status_int == 200:
            assert len(response.json["data"]) == 1
        else:
            body = assert_error(response, 400, 107)
            assert body["details"][0]["name"] == "_sort"
    guard.unchanged()


def test_thousands_of_filters_and_fields(app: webtest.TestApp, guard: Guard) -> None:
    filters = "&".join(f"not_f{index}=1" for index in range(2000))
    fields = ",".join(f"f{index}" for index in range(2000))
    ids = ",".join(str(uuid.uuid4()) for _ in range(2000))
    for query in (filters, f"_fields={fields}", f"in_id={ids}", f"exclude_id={ids}"):
        for path in ("/v1/articles", "/v1/bookmarks"):
            response = app.get(f"{path}?{query}", headers=ALICE, expect_errors=True)
            if response.status_int != 200:
                assert_client_error(response)
    response = app.delete(f"/v1/articles?in_id={ids}", headers=ALICE, expect_errors=True)
    if response.status_int == 200:
        assert response.json["data"] == []
    else:
        assert_client_error(response)
    guard.unchanged()


def test_deep_json_filter_values_are_400(app: webtest.TestApp, guard: Guard) -> None:
    for value in ('{"a":' * 60_000 + "1" + "}" * 60_000, "[" * 100 + "]" * 100):
        response = app.get("/v1/articles?" + urlencode({"title": value}), headers=ALICE,
                           expect_errors=True)
        assert_error(response, 400, 107)
    guard.unchanged()


@pytest.mark.parametrize("value", ("1e999", "-1e999", "1" * 5000, "NaN", "Infinity",
                                   "0." + "0" * 5000 + "1"))
def test_extreme_numbers_in_filters(app: webtest.TestApp, guard: Guard, value: str) -> None:
    for operator in ("", "min_", "lt_", "in_", "not_"):
        response = app.get(f"/v1/articles?{operator}title={value}", headers=ALICE,
                           expect_errors=True)
        if response.status_int == 200:
            assert response.json["data"] in ([], guard.before["article/"])
        else:
            assert_client_error(response)
    guard.unchanged()
