"""Unit tests of record schemas and body checks."""

from __future__ import annotations

import time

import colander
import pytest

from cliquetish import schema
from cliquetish.resource.schema import (
    CompiledSchema,
    InvalidBody,
    check_body,
    check_permissions,
)


class Strict(schema.ResourceSchema):
    url = schema.URL()
    title = colander.SchemaNode(colander.String(), missing=colander.drop)
    added = schema.TimeStamp()

    class Options:
        readonly_fields = ("url",)
        unique_fields = ("url",)


class Loose(Strict):
    class Options:
        preserve_unknown = True


def test_options_are_read_with_defaults() -> None:
    strict = CompiledSchema(Strict)
    assert strict.readonly_fields == ("url",)
    assert strict.unique_fields == ("url",)
    assert strict.preserve_unknown is False
    loose = CompiledSchema(Loose)
    assert loose.preserve_unknown is True
    assert loose.readonly_fields == ()


def test_schemaless_keeps_everything() -> None:
    compiled = CompiledSchema(None)
    assert compiled.schemaless
    data = {"anything": {"nested": [1]}, "id": "x", "last_modified": 3}
    assert compiled.check_data(data) == data
    assert compiled.is_known_field("whatever.deep")


def test_known_fields() -> None:
    compiled = CompiledSchema(Strict)
    assert compiled.is_known_field("title")
    assert compiled.is_known_field("url.host")
    assert compiled.is_known_field("id")
    assert not compiled.is_known_field("nope")


def test_valid_data_is_deserialized_with_builtins() -> None:
    compiled = CompiledSchema(Strict)
    before = int(time.time() * 1000)
    checked = compiled.check_data({"url": " http://a.org/x ", "id": "abc", "last_modified": 7})
    assert checked["url"] == "http://a.org/x"
    assert checked["id"] == "abc"
    assert checked["last_modified"] == 7
    assert checked["added"] >= before


def test_timestamp_given_is_kept() -> None:
    assert CompiledSchema(Strict).check_data({"url": "http://a.org", "added": 5})["added"] == 5


@pytest.mark.parametrize(("data", "name"), [
    ({}, "data.url"),
    ({"url": "not a url"}, "data.url"),
    ({"url": "http://a.org", "title": 5}, "data.title"),
    ({"url": "http://a.org", "extra": 1}, "data.extra"),
    ({"url": "http://a.org", "id": 5}, "data.id"),
    ({"url": "http://a.org", "last_modified": "x"}, "data.last_modified"),
    ({"url": "http://a.org", "last_modified": -1}, "data.last_modified"),
    ({"url": "http://a.org", "last_modified": True}, "data.last_modified"),
    ({"url": "http://a.org", "last_modified": 2**63}, "data.last_modified"),
    ([1], "data"),
])
def test_invalid_data_names_the_field(data, name) -> None:
    with pytest.raises(InvalidBody) as caught:
        CompiledSchema(Strict).check_data(data)
    assert caught.value.details[0]["name"] == name
    assert caught.value.details[0]["location"] == "body"
    assert caught.value.details[0]["description"]


def test_preserve_unknown_keeps_extra_fields() -> None:
    checked = CompiledSchema(Loose).check_data({"url": "http://a.org", "extra": [1]})
    assert checked["extra"] == [1]


def test_permissions() -> None:
    assert check_permissions({"read": ["a", "a", "b"]}, ("read", "write")) == {"read": ["a", "b"]}
    for bad, name in [
        ([], "permissions"), ({"admin": []}, "permissions.admin"),
        ({"read": "a"}, "permissions.read"), ({"write": ["a", 5]}, "permissions.write.1"),
        ({"write": [""]}, "permissions.write.0"),
    ]:
        with pytest.raises(InvalidBody) as caught:
            check_permissions(bad, ("read", "write"))
        assert caught.value.details[0]["name"] == name


def test_body_top_level() -> None:
    assert check_body({"data": {}}, False) == {"data": {}}
    assert check_body({"data": {}, "permissions": {}}, True)
    for body, allow, name in [
        ([], True, "body"), ("x", True, "body"), ({"data": {}, "permissions": {}}, False,
                                                   "permissions"),
        ({"foo": 1}, True, "foo"),
    ]:
        with pytest.raises(InvalidBody) as caught:
            check_body(body, allow)
        assert caught.value.details[0]["name"] == name
