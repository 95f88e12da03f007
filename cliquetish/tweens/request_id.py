"""Level 0, receiving: give each request an id, echo it and put it on every log line.

A sane ``X-Request-Id`` from the client (1 to 128 characters among ``A-Z a-z 0-9 . _ -``) is
kept, so that a request can be followed across services; anything else is replaced by a fresh
UUID4 (hex). A sub-request (batch) keeps the id of the request it is part of. The id is
``request.request_id``, the ``X-Request-Id`` response header and the ``rid`` of every log
record written while the request is served.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from cliquetish.logs import request_id_var

__all__ = ["HEADER", "new_request_id", "request_id_from", "request_id_tween_factory"]

HEADER = "X-Request-Id"

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def new_request_id() -> str:
    """A random UUID4 in hex, as ``uuid.uuid4().hex`` gives, for a fifth of its cost: 16
    random bytes with the version (4) and variant (RFC 4122) bits set."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


def request_id_from(request: Request) -> str:
    """The client's ``X-Request-Id`` when sane, else the id of the request being served (for
    a sub-request), else a new UUID4 hex.

    Registered as the reified ``request.request_id`` property.
    """
    given = request.environ.get("HTTP_X_REQUEST_ID")
    if given and _SANE_REQUEST_ID.fullmatch(given):
        return given
    # A sub-request (batch) served while its parent is being served shares the parent's id.
    return request_id_var.get() or new_request_id()


def request_id_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Tween setting the request id for the logs and echoing it in ``X-Request-Id``."""

    def request_id_tween(request: Request) -> Any:
        rid = request.request_id
        token = request_id_var.set(rid)
        try:
            response = handler(request)
        finally:
            request_id_var.reset(token)
        response.headerlist.append((HEADER, rid))  # nobody else sets it: no need to replace
        return response

    return request_id_tween
