"""Decoding JSON request bodies safely: :func:`load_json_body`.

Bad JSON and bytes that are not UTF-8 give ``400`` errno 106; arrays and objects nested deeper
than ``json_max_depth`` give ``400`` errno 107 naming the body. The depth is measured on the raw
bytes without recursion, so even a body nested 10,000 deep costs a linear scan, never the stack.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

import orjson
from pyramid.httpexceptions import HTTPException
from pyramid.request import Request

from cliquetish.errors import ERRORS, http_error

__all__ = ["HARD_MAX_DEPTH", "invalid_json_error", "json_depth", "load_json_body", "too_deep_error"]

HARD_MAX_DEPTH = 1024
"""Deepest nesting ever accepted, whatever ``json_max_depth`` says: the JSON decoder itself
recurses, and nothing deeper reaches it."""

# A JSON string (escapes included), to be removed before counting brackets. An unterminated
# string runs to the end of the input: the pattern can never fail once started, so matching
# stays linear whatever the bytes (no backtracking from every quote of a hostile body).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw`` (0 for a scalar), brackets in strings aside.

    Works on any bytes, valid JSON or not, in linear time and constant stack.
    """
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_BRACKET_STEP.__getitem__, brackets))))


def invalid_json_error(reason: str) -> HTTPException:
    """``400`` errno 106: the body is not JSON."""
    return http_error(
        400,
        ERRORS.BADJSON,
        f"Invalid JSON in body: {reason}",
        details=[{"location": "body", "name": "", "description": f"Invalid JSON: {reason}"}],
    )


def too_deep_error(max_depth: int) -> HTTPException:
    """``400`` errno 107: the body nests deeper than ``max_depth``."""
    description = f"JSON nested deeper than {max_depth} levels"
    return http_error(
        400,
        ERRORS.INVALID_PARAMETERS,
        f"body: {description}",
        details=[{"location": "body", "name": "", "description": description}],
    )


def load_json_body(request: Request) -> Any:
    """The decoded JSON body of ``request``.

    :raises HTTPBadRequest: errno 106 when the body is not UTF-8 JSON (an empty body included),
        errno 107 when it nests deeper than the ``json_max_depth`` setting (at most
        :data:`HARD_MAX_DEPTH`).
    """
    raw = request.body
    max_depth = min(request.registry.settings.get("json_max_depth", 64), HARD_MAX_DEPTH)
    # Each level needs an opening bracket: few brackets in all means no need to measure.
    if raw.count(b"[") + raw.count(b"{") > max_depth and json_depth(raw) > max_depth:
        raise too_deep_error(max_depth)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise invalid_json_error(str(error)) from None
