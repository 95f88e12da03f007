"""Shared pytest fixtures (see tests/servers.py for the servers)."""

from __future__ import annotations

import pytest

from tests.servers import require_postgresql, require_redis


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    """URL of the test PostgreSQL database."""
    return require_postgresql()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis database."""
    return require_redis()
