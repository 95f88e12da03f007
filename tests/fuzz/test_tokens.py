"""Property: a pagination token that is not the one the server made is refused with 400, never
anything else; decoding one raises nothing but :class:`InvalidToken`.

Hypothesis makes up tokens: random text, random bytes in base64, base64 of random JSON, of
well-shaped payloads (``{"v": ..., "s": ...}``) with a wrong signature, of deeply nested JSON,
genuine tokens altered by one character, and genuine tokens of another collection, user, filter
or sort. They are sent to the HTTP endpoint and given to the decoder of
:mod:`cliquetish.resource.pagination`.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cliquetish.resource.pagination import InvalidToken, decode_token, encode_token
from cliquetish.storage import Keyset, Sort
from tests.hostile.demo_apps import ALICE, BOB, demo_app, reset

SECRET = b"token-secret"
SCOPE = "article\n\nbasicauth:alice\n[]"
SORTING = [Sort("title", 1), Sort("last_modified", -1)]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


def _b64(raw: bytes, padded: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(raw)
    return (encoded if padded else encoded.rstrip(b"=")).decode("ascii")


def _payload(values: Any, signature: Any) -> str:
    return _b64(json.dumps({"v": values, "s": signature}).encode())


FORGED_TOKENS = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=120).map(_b64),
    st.binary(max_size=120).map(lambda raw: _b64(raw, padded=True)),
    JSON_VALUES.map(lambda value: _b64(json.dumps(value).encode())),
    st.builds(_payload, JSON_VALUES, st.text(max_size=40) | JSON_VALUES),
    st.builds(_payload, st.dictionaries(st.sampled_from(["title", "last_modified", "x"]),
                                        JSON_VALUES, max_size=3),
              st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)),
    st.integers(1, 200_000).map(lambda depth: _b64(b"[" * depth + b"]" * depth)),
    st.integers(1, 70_000).map(lambda depth: _b64(b'{"v":' * depth + b"1" + b"}" * depth)),
)


DEEP_TOKENS = (_b64(b'{"v":' * 70_000 + b"1" + b"}" * 70_000),
               _b64(b"[" * 200_000 + b"]" * 200_000))
"""Nesting that crashed the JSON decoder before the depth check (objects) or cost a recursion."""


@given(token=FORGED_TOKENS)
@example(token=DEEP_TOKENS[0])
@example(token=DEEP_TOKENS[1])
@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_decoder_raises_only_invalid_token(token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SECRET, SCOPE, token, SORTING)


@given(values=st.dictionaries(st.sampled_from(["title", "last_modified"]), JSON_VALUES,
                              max_size=2),
       scope=st.text(max_size=30))
@settings(max_examples=100, deadline=None, database=None)
def test_decoder_accepts_only_its_own_scope(values: dict[str, Any], scope: str) -> None:
    token = encode_token(SECRET, SCOPE, values)
    keyset = decode_token(SECRET, SCOPE, token, SORTING)
    assert isinstance(keyset, Keyset)
    if scope != SCOPE:
        with pytest.raises(InvalidToken):
            decode_token(SECRET, scope, token, SORTING)
    with pytest.raises(InvalidToken):
        decode_token(SECRET + b"x", SCOPE, token, SORTING)


def _genuine_token(query: str) -> str:
    app = demo_app("memory")
    response = app.get(f"/v1/articles?{query}&_limit=1", headers=ALICE, status=200)
    return parse_qs(urlsplit(response.headers["Next-Page"]).query)["_token"][0]


@pytest.fixture(scope="module")
def genuine() -> str:
    """A real token of alice's article listing sorted by title (three articles stored)."""
    app = demo_app("memory")
    reset(app)
    for title in ("a", "b", "c"):
        app.post_json("/v1/articles", {"data": {"title": title}}, headers=ALICE, status=201)
    return _genuine_token("_sort=title")


def _assert_token_refused(token: str, query: str = "_sort=title", headers: Any = ALICE
                          ) -> None:
    app = demo_app("memory")
    response = app.get(f"/v1/articles?{query}&_token={quote(token, safe='')}",
                       headers=headers, expect_errors=True)
    assert response.status_int == 400, (token[:80], response.status, response.body[:200])
    assert response.json["errno"] == 107
    assert response.json["details"][0]["name"] == "_token"


@given(token=FORGED_TOKENS)
@example(token=DEEP_TOKENS[0])
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_forged_tokens_are_400_over_http(genuine: str, token: str) -> None:
    if token != genuine:
        _assert_token_refused(token)


@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_altered_tokens_are_400_over_http(genuine: str, position: int, replacement: str
                                          ) -> None:
    index = position % len(genuine)
    altered = genuine[:index] + replacement + genuine[index + 1:]
    if _decoded(altered) != _decoded(genuine):  # same bytes (ignored bits): same token
        _assert_token_refused(altered)


def _decoded(token: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None


def test_tokens_are_bound_to_their_listing(genuine: str) -> None:
    app = demo_app("memory")
    accepted = app.get(f"/v1/articles?_sort=title&_limit=1&_token={genuine}", headers=ALICE,
                       status=200)
    assert [record["title"] for record in accepted.json["data"]] == ["b"]
    _assert_token_refused(genuine, "_sort=-title")
    _assert_token_refused(genuine, "_sort=title&title=%22b%22")
    _assert_token_refused(genuine, "_sort=title&_since=1")
    _assert_token_refused(genuine, headers=BOB)
    response = app.get(f"/v1/bookmarks?_sort=title&_token={genuine}", headers=ALICE,
                       expect_errors=True)
    assert response.status_int == 400
