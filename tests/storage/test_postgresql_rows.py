"""Rows read from PostgreSQL become records: the fast path (orjson) and the careful one."""

from __future__ import annotations

import json

import pytest

from cliquetish.storage.evaluation import loads_all
from cliquetish.storage.postgresql import _row_record, _row_records
from cliquetish.storage.postgresql.textcodec import encode, encode_text


def stored_text(data: object) -> str:
    """The data column's text as PostgreSQL gives it back (``CAST(data AS text)`` spacing)."""
    return json.dumps(encode(data), ensure_ascii=False)


VALUES = [
    2**70, -(2**70), 2**64, 2**63, -(2**63) - 1, 10**18, 123456789012345678,
    10**400, 1.5, 1e300, -0.25,
    "1234567890123456789012 as text", "é9999999999999999999", "a\x00b", "a\x01b", "\x01\x02",
    [1, 2**65, {"deep": -(10**30)}], {"k\x00ey": "v"}, {}, [], None, True,
]


@pytest.mark.parametrize("value", VALUES)
def test_a_row_gives_back_the_stored_value(value: object) -> None:
    record = _row_record("some-id", 17, stored_text({"v": value}))
    assert record == {"v": value, "id": "some-id", "last_modified": 17}
    assert type(record["v"]) is type(value)


def test_an_encoded_id_is_decoded() -> None:
    record = _row_record(encode_text("id\x00'x\x01"), 3, "{}")
    assert record == {"id": "id\x00'x\x01", "last_modified": 3}


@pytest.mark.parametrize("value", VALUES)
def test_a_page_of_rows_gives_back_each_stored_value(value: object) -> None:
    plain = [{"rank": rank, "title": f"record {rank}"} for rank in range(20)]
    page = [*plain[:7], {"v": value}, *plain[7:]]
    rows = [(f"id-{index}", index, stored_text(data)) for index, data in enumerate(page)]
    records = _row_records(rows)
    assert records == [{**data, "id": f"id-{index}", "last_modified": index}
                       for index, data in enumerate(page)]
    assert type(records[7]["v"]) is type(value)


def test_digits_of_two_texts_never_make_one_long_integer() -> None:
    # the texts are searched joined by a space: the digits ending one text and those of the
    # next never count as one run; a long integer in any text sends the page the careful way
    texts = ["123456789012", "1234567890", "[12345678901234567890123]"]
    assert loads_all(texts[:2]) == [123456789012, 1234567890]
    assert loads_all(texts) == [123456789012, 1234567890, [12345678901234567890123]]
    assert type(loads_all(texts)[2][0]) is int
    assert loads_all([]) == []


def test_encoded_ids_of_a_page_are_decoded() -> None:
    rows = [(encode_text("id\x00'x\x01"), 3, "{}"), ("plain", 4, '{"a": 1}')]
    assert _row_records(rows) == [{"id": "id\x00'x\x01", "last_modified": 3},
                                  {"a": 1, "id": "plain", "last_modified": 4}]
