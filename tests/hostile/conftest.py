"""Fixtures of the hostile-input tests: the demo on memory and PostgreSQL, seeded, and a guard
that proves a refused request wrote nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from tests.hostile.demo_apps import ALICE, BACKENDS, demo_app, reset, snapshot


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest) -> Iterator[webtest.TestApp]:
    """The demo on each backend, holding one bookmark and one article of alice."""
    test_app = demo_app(request.param)
    reset(test_app)
    test_app.post_json("/v1/bookmarks", {"data": {"url": "https://example.org/", "title": "a"}},
                       headers=ALICE, status=201)
    test_app.post_json("/v1/articles", {"data": {"title": "first"}}, headers=ALICE, status=201)
    yield test_app
    reset(test_app)


class Guard:
    """Remembers the data before a hostile request; :meth:`unchanged` compares after it."""

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app
        self.before = snapshot(app)

    def unchanged(self) -> None:
        """Fail when any record, tombstone or permission differs from the start of the test."""
        assert snapshot(self.app) == self.before


@pytest.fixture
def guard(app: webtest.TestApp) -> Guard:
    """A :class:`Guard` taken once the seed records exist."""
    return Guard(app)


def assert_error(response: Any, status: int, errno: int | None = None) -> dict[str, Any]:
    """``response`` is the JSON error body of the protocol with this status (and errno)."""
    assert response.status_int == status, (response.status, response.body[:300])
    assert response.content_type == "application/json"
    body = response.json
    assert body["code"] == status
    assert isinstance(body["errno"], int)
    if errno is not None:
        assert body["errno"] == errno, body
    assert "Traceback" not in response.text
    return body


def assert_client_error(response: Any) -> dict[str, Any]:
    """``response`` is a 4xx JSON error (any 4xx)."""
    assert 400 <= response.status_int < 500, (response.status, response.body[:300])
    return assert_error(response, response.status_int)
