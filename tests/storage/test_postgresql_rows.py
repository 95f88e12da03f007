"""Rows read from PostgreSQL become records: the fast path (orjson) and the careful one."""

from __future__ import annotations

import json

import pytest

from cliquetish.storage.postgresql import _row_record
from cliquetish.storage.postgresql.textcodec import encode, encode_text


def stored_text(data: object) -> str:
    """The data column's text as PostgreSQL gives it back (``CAST(data AS text)`` spacing)."""
    return json.dumps(encode(data), ensure_ascii=False)


@pytest.mark.parametrize("value", [
    2**70, -(2**70), 2**64, 2**63, -(2**63) - 1, 10**18, 123456789012345678,
    10**400, 1.5, 1e300, -0.25,
    "1234567890123456789012 as text", "é9999999999999999999", "a\x00b", "a\x01b", "\x01\x02",
    [1, 2**65, {"deep": -(10**30)}], {"k\x00ey": "v"}, {}, [], None, True,
])
def test_a_row_gives_back_the_stored_value(value: object) -> None:
    record = _row_record("some-id", 17, stored_text({"v": value}))
    assert record == {"v": value, "id": "some-id", "last_modified": 17}
    assert type(record["v"]) is type(value)


def test_an_encoded_id_is_decoded() -> None:
    record = _row_record(encode_text("id\x00'x\x01"), 3, "{}")
    assert record == {"id": "id\x00'x\x01", "last_modified": 3}
