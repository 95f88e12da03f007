"""Pagination tokens: where a page ended, signed so that a token only works where it came from.

A token is URL-safe base64 (unpadded) of the JSON ``{"v": {field: value, ...}, "s": sig}``:
``v`` holds the sort values of the last record of the page (a field the record does not have
is left out, meaning :data:`~cliquetish.storage.MISSING`), and ``s`` is an HMAC-SHA256 keyed
by the application's secret over the *scope* (collection, user, filters and sort of the
listing) and ``v``. A token given to another collection, user, filter or sort, or altered in
any way, fails the signature check and :func:`decode_token` raises :class:`InvalidToken`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from cliquetish.jsonbody import json_depth
from cliquetish.storage import MISSING, Keyset, Sort
from cliquetish.storage.evaluation import loads, resolve

__all__ = [
    "InvalidToken",
    "decode_token",
    "encode_token",
    "keyset_of",
]

SIGNATURE_LENGTH = 32
"""Hex characters of the signature kept in a token (128 bits)."""

MAX_TOKEN_DEPTH = 128
"""Deepest JSON nesting of a token's payload (sort values of nested fields included)."""


class InvalidToken(ValueError):
    """The token is not one this application made for this listing."""


def keyset_of(record: Mapping[str, Any], sorting: Sequence[Sort]) -> dict[str, Any]:
    """The sort values of ``record`` (fields it lacks left out), read as the storage does."""
    values = {}
    for sort in sorting:
        value = resolve(record, sort.field)
        if value is not MISSING:
            values[sort.field] = value
    return values


def _canonical(values: Mapping[str, Any]) -> bytes:
    """JSON of ``values`` with sorted keys (integers of any size kept)."""
    try:
        return orjson.dumps(values, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")


def _signature(secret: bytes, scope: str, values_json: bytes) -> str:
    digest = hmac.digest(secret, scope.encode("utf-8") + b"\n" + values_json, "sha256")
    return digest.hex()[:SIGNATURE_LENGTH]


def encode_token(secret: bytes, scope: str, values: Mapping[str, Any]) -> str:
    """A token for the page ending at a record with these sort ``values``."""
    values_json = _canonical(values)
    signature = _signature(secret, scope, values_json)
    payload = b'{"v":' + values_json + b',"s":"' + signature.encode("ascii") + b'"}'
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode("ascii")


def _decode_payload(token: str) -> Any:
    try:
        raw = token.encode("ascii")
        padded = raw + b"=" * (-len(raw) % 4)
        decoded = base64.urlsafe_b64decode(padded)
    except (UnicodeError, binascii.Error, ValueError) as error:
        raise InvalidToken("the token is not valid base64 JSON") from error
    if json_depth(decoded) > MAX_TOKEN_DEPTH:  # checked before decoding: deep JSON is costly
        raise InvalidToken("the token is not a pagination token")
    try:
        return loads(decoded)
    except (UnicodeError, ValueError, RecursionError) as error:
        raise InvalidToken("the token is not valid base64 JSON") from error


def decode_token(secret: bytes, scope: str, token: str, sorting: Sequence[Sort]) -> Keyset:
    """The :class:`~cliquetish.storage.Keyset` a token stands for.

    :raises InvalidToken: malformed, altered, or made for another scope.
    """
    payload = _decode_payload(token)
    if not isinstance(payload, dict) or set(payload) != {"v", "s"}:
        raise InvalidToken("the token is not a pagination token")
    values, signature = payload["v"], payload["s"]
    if not isinstance(values, dict) or not isinstance(signature, str):
        raise InvalidToken("the token is not a pagination token")
    expected = _signature(secret, scope, _canonical(values))
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        raise InvalidToken("the token does not belong to this listing")
    return Keyset({sort.field: values.get(sort.field, MISSING) for sort in sorting})
