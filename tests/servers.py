"""The real PostgreSQL and Redis servers the backend tests talk to.

The servers come from ``CLIQUETISH_TEST_POSTGRESQL_URL`` and ``CLIQUETISH_TEST_REDIS_URL``
(defaults: the local servers). When one is down, its tests are skipped on a developer's machine
and fail in CI (``CI=true``): a backend test is never skipped there. Use
:func:`require_postgresql` / :func:`require_redis` from unittest classes (``setUpClass``) and the
``postgresql_url`` / ``redis_url`` fixtures from pytest functions.
"""

from __future__ import annotations

import os
import socket
import unittest
from urllib.parse import urlparse

POSTGRESQL_URL = os.environ.get(
    "CLIQUETISH_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/cliquetish_test"
)
REDIS_URL = os.environ.get("CLIQUETISH_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def reachable(url: str, default_port: int) -> bool:
    """True when a TCP connection to the URL's host and port opens within 2 s."""
    parsed = urlparse(url)
    address = (parsed.hostname or "127.0.0.1", parsed.port or default_port)
    try:
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


def _require(url: str, default_port: int, name: str) -> str:
    if reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if os.environ.get("CI") == "true":
        raise AssertionError(message + " (CI never skips backend tests)")
    raise unittest.SkipTest(message)


def require_postgresql() -> str:
    """The test PostgreSQL URL; skips (fails in CI) when the server is down."""
    return _require(POSTGRESQL_URL, 5432, "PostgreSQL")


def require_redis() -> str:
    """The test Redis URL; skips (fails in CI) when the server is down."""
    return _require(REDIS_URL, 6379, "Redis")
