"""Unit tests of pagination tokens."""

from __future__ import annotations

import base64

import orjson
import pytest

from cliquetish.resource.pagination import InvalidToken, decode_token, encode_token, keyset_of
from cliquetish.storage import MISSING, Keyset, Sort

SECRET = b"secret"
SORTING = [Sort("rank", 1), Sort("author.name", -1), Sort("last_modified", -1)]


def test_keyset_reads_dotted_fields_and_leaves_missing_ones_out() -> None:
    record = {"rank": 3, "author": {"name": "Ann"}, "last_modified": 10}
    assert keyset_of(record, SORTING) == {"rank": 3, "author.name": "Ann", "last_modified": 10}
    assert keyset_of({"last_modified": 5}, SORTING) == {"last_modified": 5}


def test_round_trip() -> None:
    values = {"rank": None, "author.name": "Ann", "last_modified": 10}
    token = encode_token(SECRET, "scope", values)
    assert "=" not in token and "/" not in token and "+" not in token
    assert decode_token(SECRET, "scope", token, SORTING) == Keyset(values)


def test_missing_values_come_back_as_missing() -> None:
    token = encode_token(SECRET, "scope", {"last_modified": 10})
    keyset = decode_token(SECRET, "scope", token, SORTING)
    assert keyset.values["rank"] is MISSING
    assert keyset.values["last_modified"] == 10


def test_big_integers_survive() -> None:
    values = {"rank": 2**70, "last_modified": 1}
    token = encode_token(SECRET, "scope", values)
    assert decode_token(SECRET, "scope", token, SORTING).values["rank"] == 2**70


@pytest.mark.parametrize("scope", ["other scope", "scope\n", ""])
def test_a_token_only_works_in_its_scope(scope) -> None:
    token = encode_token(SECRET, "scope", {"last_modified": 10})
    with pytest.raises(InvalidToken):
        decode_token(SECRET, scope, token, SORTING)


def test_another_secret_refuses_it() -> None:
    token = encode_token(SECRET, "scope", {"last_modified": 10})
    with pytest.raises(InvalidToken):
        decode_token(b"other", "scope", token, SORTING)


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def test_altered_values_are_refused() -> None:
    token = encode_token(SECRET, "scope", {"last_modified": 10})
    payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["v"]["last_modified"] = 11
    with pytest.raises(InvalidToken):
        decode_token(SECRET, "scope", _forge(payload), SORTING)


@pytest.mark.parametrize("token", [
    "", "garbage!", "é", "====", "abc", _forge([1, 2]), _forge({"v": {}}),
    _forge({"v": [], "s": "x"}), _forge({"v": {}, "s": 5}), _forge({"v": {}, "s": "é"}),
    _forge("text"), base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    base64.urlsafe_b64encode(b"[" * 100000).decode(),
])
def test_garbage_raises_invalid_token_only(token) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SECRET, "scope", token, SORTING)
