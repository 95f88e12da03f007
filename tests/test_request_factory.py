"""Request properties are built into one request class at start-up, not added per request."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request

import cliquetish
from cliquetish.testing import auth_headers, make_app

ALICE = auth_headers("alice", "alice-password")


def answer(request: Request) -> dict[str, Any]:
    return {"class": type(request).__name__, "shout": request.shout,
            "storage": type(request.storage).__name__, "userid": request.prefixed_userid}


def app_factory(global_config: Any = None, **settings: Any) -> Any:
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.add_request_method(lambda request: request.method.upper() + "!", "shout",
                              reify=True)
    config.add_route("answer", "/answer")
    config.add_view(answer, route_name="answer", renderer="json")
    return config.make_wsgi_app()


def test_the_properties_are_in_the_request_class() -> None:
    app = make_app({}, app_factory=app_factory)
    registry = app.app.registry
    assert registry.queryUtility(IRequestExtensions).descriptors == {}
    factory = registry.queryUtility(IRequestFactory)
    assert issubclass(factory, Request)
    for name in ("storage", "permission", "cache", "principals", "prefixed_userid", "tm",
                 "request_id", "shout"):
        assert name in vars(factory), name
    body = app.get("/v1/answer", headers=ALICE).json
    assert body["class"] == "Request"
    assert body["shout"] == "GET!"
    assert body["storage"] == "MemoryStorage"
    assert body["userid"].startswith("basicauth:")


def test_a_property_added_by_a_later_commit_still_works() -> None:
    config = Configurator(settings={"cliquetish.userid_hmac_secret": "s"})
    cliquetish.initialize(config, version="1.0.0")
    config.add_route("answer", "/answer")
    config.add_view(answer, route_name="answer", renderer="json")
    config.add_request_method(lambda request: "early", "shout", reify=True)
    config.commit()
    config.add_request_method(lambda request: "late", "late", reify=True)
    app = config.make_wsgi_app()
    request = Request.blank("/v1/answer", headers=ALICE)
    response = request.get_response(app)
    assert response.json["shout"] == "early"
    assert app.registry.queryUtility(IRequestExtensions).descriptors.keys() == {"late"}


def test_sub_requests_of_a_batch_have_the_properties() -> None:
    app = make_app({}, app_factory=app_factory)
    body = {"requests": [{"method": "GET", "path": "/answer"}]}
    response = app.post_json("/v1/batch", body, headers=ALICE)
    assert response.json["responses"][0]["body"]["shout"] == "GET!"
