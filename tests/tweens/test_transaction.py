"""Which requests run in a transaction: writes do, safe methods (GET, HEAD, OPTIONS) do not."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.request import Request

import cliquetish
from cliquetish.interfaces import IStorage
from cliquetish.testing import auth_headers, make_app
from cliquetish.undo import active_transaction

ALICE = auth_headers("alice", "alice-password")


def probe(request: Request) -> dict[str, Any]:
    """Say whether the request runs in a transaction; store a record when asked to."""
    if "write" in request.params:
        request.storage.create("probe", "", {"method": request.method})
        if "fail" in request.params:
            raise RuntimeError("the view fails after its write")
    return {"in_transaction": active_transaction(request.tm) is not None}


def app_factory(global_config: Any = None, **settings: Any) -> Any:
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan("cliquetish.demo")
    config.add_route("probe", "/probe")
    config.add_view(probe, route_name="probe", renderer="json")
    return config.make_wsgi_app()


@pytest.fixture
def app() -> Any:
    return make_app({}, app_factory=app_factory)


def stored(app: Any) -> list[str]:
    records, _ = app.app.registry.getUtility(IStorage).get_all("probe", "")
    return sorted(record["method"] for record in records)


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_safe_methods_run_outside_any_transaction(app: Any, method: str) -> None:
    response = app.request("/v1/probe", method=method, headers=ALICE)
    assert response.json == {"in_transaction": False}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_run_in_a_transaction(app: Any, method: str) -> None:
    response = app.request("/v1/probe", method=method, headers=ALICE)
    assert response.json == {"in_transaction": True}


def test_a_failed_write_request_keeps_nothing(app: Any) -> None:
    app.post("/v1/probe?write&fail", headers=ALICE, status=500)
    assert stored(app) == []


def test_a_write_of_a_safe_method_is_committed_at_once(app: Any) -> None:
    # Documented: a GET view that writes keeps what it wrote, even when it fails afterwards.
    app.get("/v1/probe?write&fail", headers=ALICE, status=500)
    app.get("/v1/probe?write", headers=ALICE, status=200)
    assert stored(app) == ["GET", "GET"]


def test_a_get_in_a_batch_runs_in_the_batch_transaction(app: Any) -> None:
    body = {"requests": [{"method": "GET", "path": "/probe"}]}
    response = app.post_json("/v1/batch", body, headers=ALICE)
    assert response.json["responses"][0]["body"] == {"in_transaction": True}


def test_an_application_hook_is_kept() -> None:
    app = make_app({"tm.activate_hook": "tests.tweens.test_transaction.always"},
                   app_factory=app_factory)
    assert app.get("/v1/probe", headers=ALICE).json == {"in_transaction": True}


def always(request: Request) -> bool:
    """A ``tm.activate_hook`` of an application: every request in a transaction."""
    return True
