"""load_json_body: 400 errno 106 for bad JSON, 107 past json_max_depth, never a crash."""

from __future__ import annotations

import pytest

from cliquetish.jsonbody import json_depth, load_json_body
from tests.tweens.apps import add_plain_view, build_app


def echo(request):
    return {"data": load_json_body(request)}


@pytest.fixture(scope="module")
def app():
    settings = {"json_max_depth": "5", "max_request_body_bytes": "4000000"}
    return build_app(settings, lambda config: add_plain_view(
        config, "echo", "/echo", echo, renderer="json", request_method="POST"))


def post(app, body: bytes, status: int):
    return app.post("/v1/echo", body, headers={"Content-Type": "application/json"},
                    status=status)


def test_valid_json_is_decoded(app) -> None:
    body = b'{"title": "\xc3\xa9t\xc3\xa9", "tags": [["a"], {"b": [1]}]}'
    assert post(app, body, 200).json == {"data": {"title": "été", "tags": [["a"], {"b": [1]}]}}


@pytest.mark.parametrize("body", [b"{", b"", b"{'a': 1}", b'{"a": 1} trailing', b"NaN",
                                  b'{"a": "\xff\xfe"}', b'"\xed\xa0\x80"'])
def test_bad_json_or_bad_utf8_is_400_errno_106(app, body) -> None:
    response = post(app, body, 400)
    assert response.json["errno"] == 106
    assert response.json["message"].startswith("Invalid JSON")
    assert response.json["details"][0]["location"] == "body"


def test_nesting_past_the_limit_is_400_errno_107(app) -> None:
    post(app, b"[[[[[1]]]]]", 200)
    response = post(app, b"[[[[[[1]]]]]]", 400)
    assert response.json["errno"] == 107
    assert response.json["message"] == "body: JSON nested deeper than 5 levels"


def test_brackets_inside_strings_do_not_count(app) -> None:
    body = b'{"a": "[[[[[[[[[[{{{{{{{{", "b": "\\"[[[[[[[[["}'
    assert post(app, body, 200).json["data"]["a"] == "[[[[[[[[[[{{{{{{{{"


@pytest.mark.parametrize("depth", [10_000, 400_000])
def test_very_deep_bodies_are_refused_without_recursion(app, depth) -> None:
    assert post(app, b"[" * depth + b"]" * depth, 400).json["errno"] == 107
    assert post(app, b'{"a":' * depth + b"1" + b"}" * depth, 400).json["errno"] == 107


def test_the_default_depth_limit_holds_against_a_huge_setting() -> None:
    app = build_app({"json_max_depth": "100000000"}, lambda config: add_plain_view(
        config, "echo", "/echo", echo, renderer="json", request_method="POST"))
    assert post(app, b"[" * 5000 + b"]" * 5000, 400).json["errno"] == 107


@pytest.mark.parametrize(("raw", "depth"), [
    (b"1", 0), (b"[]", 1), (b'[{"a": [1]}, []]', 3), (b'["]]]", "[[[["]', 1),
    (b'["\\\\", [1]]', 2), (b'["unterminated [[[[', 1), (b"]]]", 0), (b'"\\', 0),
])
def test_json_depth(raw, depth) -> None:
    assert json_depth(raw) == depth


def test_json_depth_stays_linear_on_hostile_quotes() -> None:
    # Every quote starts an unterminated string: a backtracking scan would be quadratic.
    assert json_depth(b"[" * 65 + b'"\\"' * 200_000) == 65
