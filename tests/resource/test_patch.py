"""Unit tests of PATCH bodies and Response-Behavior shaping."""

from __future__ import annotations

import pytest

from cliquetish.resource.patch import (
    JSON,
    JSON_PATCH,
    MERGE_PATCH,
    apply_patch,
    merge_patch,
    shape_response,
)

RECORD = {"id": "a", "last_modified": 1, "title": "T", "meta": {"x": 1, "y": 2}, "n": 1}


def test_rfc7396_examples() -> None:
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "c"}, {"a": ["b"]}) == {"a": ["b"]}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch(["a", "b"], ["c", "d"]) == ["c", "d"]
    assert merge_patch({"a": "b"}, ["c"]) == ["c"]
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch([1, 2], {"a": "b", "c": None}) == {"a": "b"}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_json_is_a_shallow_merge() -> None:
    result = apply_patch(JSON, {"data": {"meta": {"x": 5}, "n": None}}, RECORD, None)
    assert result.data["meta"] == {"x": 5}
    assert result.data["n"] is None
    assert result.permissions is None
    assert result.sent == {"meta": {"x": 5}, "n": None}


def test_merge_patch_is_deep() -> None:
    result = apply_patch(MERGE_PATCH, {"data": {"meta": {"x": 5}, "n": None}}, RECORD, None)
    assert result.data["meta"] == {"x": 5, "y": 2}
    assert "n" not in result.data


def test_permissions_merge() -> None:
    current = {"read": ["a"], "write": ["b"]}
    result = apply_patch(MERGE_PATCH, {"permissions": {"read": None}}, RECORD, current)
    assert result.permissions == {"write": ["b"]}
    result = apply_patch(JSON, {"permissions": {"read": ["c"]}}, RECORD, current)
    assert result.permissions == {"read": ["c"], "write": ["b"]}


def test_json_patch_on_data_and_permissions() -> None:
    operations = [
        {"op": "replace", "path": "/data/title", "value": "U"},
        {"op": "remove", "path": "/data/meta/x"},
        {"op": "add", "path": "/permissions/read/-", "value": "c"},
    ]
    result = apply_patch(JSON_PATCH, operations, RECORD, {"read": ["a"], "write": []})
    assert result.data["title"] == "U"
    assert result.data["meta"] == {"y": 2}
    assert result.permissions == {"read": ["a", "c"], "write": []}
    assert set(result.sent) == {"title", "meta"}
    assert RECORD["meta"] == {"x": 1, "y": 2}


@pytest.mark.parametrize("operations", [
    {"op": "add"}, [{"op": "nope", "path": "/data/x"}], [{"op": "remove", "path": "/data/zz"}],
    [{"op": "add", "path": "/permissions/read/-", "value": "x"}],
    [{"op": "test", "path": "/data/title", "value": "other"}],
    [{"op": "remove", "path": "/data"}], [{"op": "add", "path": "/other", "value": 1}],
    [5], [{"path": "/data/x"}],
])
def test_bad_json_patches_are_400(operations) -> None:
    with pytest.raises(Exception) as caught:
        apply_patch(JSON_PATCH, operations, RECORD, None)
    assert getattr(caught.value, "code", None) == 400


def test_shapes() -> None:
    stored = {"id": "a", "last_modified": 2, "title": "t", "n": 1, "other": 3}
    sent = {"title": "T", "n": 1}
    assert shape_response("full", stored, sent) == stored
    assert shape_response("light", stored, sent) == {
        "id": "a", "last_modified": 2, "title": "t", "n": 1}
    assert shape_response("diff", stored, sent) == {"id": "a", "last_modified": 2, "title": "t"}
