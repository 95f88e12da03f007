"""Cornice's per-request hook and view wrapper run only when a cornice service needs them."""

from __future__ import annotations

from typing import Any

import colander
import cornice.pyramidhook
import pytest
from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.config import Configurator
from pyramid.interfaces import INewRequest

import cliquetish
from cliquetish.cornice_hooks import add_service, needs_view_wrapper, services_need_request_hook
from cliquetish.testing import auth_headers, make_app

ALICE = auth_headers("alice", "alice-password")


def new_request_handlers(registry: Any) -> list[Any]:
    """Handlers of ``NewRequest`` (registered for the interface or, by cornice, the class)."""
    return [registration.handler for registration in registry.registeredHandlers()
            if registration.required[0].isOrExtends(INewRequest)]


def stamp(response: Any, request: Any) -> Any:
    response.headers["X-Filtered"] = request.matchdict.get("name", "none")
    return response


class Greeting(colander.MappingSchema):
    name = colander.SchemaNode(colander.String(), validator=colander.Length(max=10))


def app_with(service: Service | None, add: Any = None) -> Any:
    def factory(global_config: Any = None, **settings: Any) -> Any:
        config = Configurator(settings=settings)
        cliquetish.initialize(config, version="1.0.0")
        if add is not None:
            add(config, service)
        elif service is not None:
            config.add_cornice_service(service)
        return config.make_wsgi_app()

    return make_app({}, app_factory=factory)


def test_without_filters_or_cors_no_request_is_hooked() -> None:
    app = make_app({"article_create_principals": "system.Authenticated"})  # the demo
    registry = app.app.registry
    assert new_request_handlers(registry) == []
    assert registry.has_listeners is False  # the router sends none of its four events
    assert not services_need_request_hook(registry.cornice_services.values())
    app.get("/v1/", status=200)
    response = app.post_json("/v1/articles", {"data": {"title": "kept"}}, headers=ALICE,
                             status=201)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    record_path = f"/v1/articles/{response.json['data']['id']}"
    assert app.get(record_path, headers=ALICE).json["data"]["title"] == "kept"


def test_cornice_validation_still_answers_json_errors() -> None:
    greet = Service(name="greet-validated", path="/greet")

    @greet.post(schema=Greeting(), validators=(colander_body_validator,))
    def create(request: Any) -> dict[str, Any]:
        return {"hello": request.validated["name"]}

    app = app_with(greet)
    assert new_request_handlers(app.app.registry) == []
    assert app.post_json("/v1/greet", {"name": "bob"}).json == {"hello": "bob"}
    error = app.post_json("/v1/greet", {"name": "x" * 11}, status=400).json
    assert error["status"] == "error"  # cornice's own error handler
    assert [(e["location"], e["name"]) for e in error["errors"]] == [("body", "name")]


def test_a_service_with_filters_gets_them_applied() -> None:
    greet = Service(name="greet-filtered", path="/greet/{name}", filters=(stamp,))

    @greet.get()
    def hello(request: Any) -> dict[str, Any]:
        return {"hello": request.matchdict["name"]}

    app = app_with(greet)
    assert len(new_request_handlers(app.app.registry)) == 1
    response = app.get("/v1/greet/ann")
    assert response.json == {"hello": "ann"}
    assert response.headers["X-Filtered"] == "ann"


def test_a_view_with_filters_gets_them_applied() -> None:
    greet = Service(name="greet-view-filtered", path="/greet/{name}")

    @greet.get(filters=(stamp,))
    def hello(request: Any) -> dict[str, Any]:
        return {"hello": request.matchdict["name"]}

    app = app_with(greet)
    assert app.get("/v1/greet/zoe").headers["X-Filtered"] == "zoe"


def test_a_service_with_cornice_cors_keeps_the_hook() -> None:
    greet = Service(name="greet-cors", path="/greet", cors_origins=("https://example.org",))

    @greet.get()
    def hello(request: Any) -> dict[str, Any]:
        return {"hello": "world"}

    assert services_need_request_hook([greet])
    app = app_with(greet)
    assert len(new_request_handlers(app.app.registry)) == 1
    response = app.get("/v1/greet", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.org"


def greeting_app(include_cornice: str) -> Any:
    """An application including cornice itself, ``before`` or ``after`` cliquetish."""
    greet = Service(name=f"greet-{include_cornice}", path="/greet")

    @greet.get()
    def hello(request: Any) -> dict[str, Any]:
        return {"hello": "world"}

    def factory(global_config: Any = None, **settings: Any) -> Any:
        config = Configurator(settings=settings)
        if include_cornice == "before":  # without cornice's exception views: ours answer
            config.add_settings({"handle_exceptions": False})
            config.include("cornice")
        cliquetish.initialize(config, version="1.0.0")
        if include_cornice == "after":
            config.include("cornice")  # already included: nothing registered twice
        config.add_cornice_service(greet)
        return config.make_wsgi_app()

    return make_app({}, app_factory=factory)


def test_an_application_including_cornice_afterwards_gets_no_conflict() -> None:
    app = greeting_app("after")
    assert new_request_handlers(app.app.registry) == []
    assert app.get("/v1/greet").json == {"hello": "world"}
    app.get("/v1/", status=200)


def test_an_application_including_cornice_first_keeps_its_hook() -> None:
    app = greeting_app("before")
    assert len(new_request_handlers(app.app.registry)) == 1
    assert app.get("/v1/greet").json == {"hello": "world"}
    assert app.get("/v1/", status=200).headers["X-Content-Type-Options"] == "nosniff"


def registered_views(registry: Any, route_name: str) -> dict[str, Any]:
    """The view callable of each request method of a route, as Pyramid calls it."""
    views = {}
    for intr in registry.introspector.get_category("views"):
        view = intr["introspectable"]
        methods = view["request_methods"]
        if view["route_name"] == route_name and methods:
            methods = (methods,) if isinstance(methods, str) else methods
            views.update(dict.fromkeys(methods, view["callable"]))
    return views


def test_the_resource_views_are_registered_without_cornice_wrapper() -> None:
    app = make_app({"article_create_principals": "system.Authenticated"})
    views = registered_views(app.app.registry, "article-record")
    assert set(views) >= {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
    # cornice's wrapper would be named after the view and the method: article_get__GET
    assert {name: view.__name__ for name, view in views.items()}["GET"] == "article_get"
    hello = registered_views(app.app.registry, "hello")["GET"]
    assert hello.__name__ == "hello_view"
    # what cornice's registration also gives stays: the 405 of a method the service lacks
    error = app.post_json("/v1/articles/some-id", {}, headers=ALICE, status=405).json
    assert error["errno"] == 115
    assert cornice.pyramidhook.decorate_view is not None


def test_an_application_service_without_validators_is_registered_plainly() -> None:
    greet = Service(name="greet-plain", path="/greet/{name}")

    @greet.get()
    def hello(request: Any) -> dict[str, Any]:
        return {"hello": request.matchdict["name"]}

    assert not needs_view_wrapper(greet)
    app = app_with(greet, add=add_service)
    assert registered_views(app.app.registry, "greet-plain")["GET"] is hello
    assert app.get("/v1/greet/ann").json == {"hello": "ann"}


@pytest.mark.parametrize("option", ["validators", "filters", "cors"])
def test_a_service_needing_cornice_wrapper_keeps_it(option: str) -> None:
    arguments = {"cors": {"cors_origins": ("https://example.org",)}}.get(option, {})
    greet = Service(name=f"greet-kept-{option}", path="/greet", **arguments)
    view_arguments: dict[str, Any] = {
        "validators": {"schema": Greeting(), "validators": (colander_body_validator,)},
        "filters": {"filters": (stamp,)},
    }.get(option, {})

    @greet.post(**view_arguments)
    def create(request: Any) -> dict[str, Any]:
        return {"hello": request.validated.get("name", "anyone")}

    assert needs_view_wrapper(greet)
    app = app_with(greet, add=add_service)
    assert registered_views(app.app.registry, f"greet-kept-{option}")["POST"] is not create
    if option == "validators":
        error = app.post_json("/v1/greet", {"name": "x" * 11}, status=400).json
        assert [(e["location"], e["name"]) for e in error["errors"]] == [("body", "name")]
    elif option == "filters":
        assert app.post_json("/v1/greet", {}).headers["X-Filtered"] == "none"
    else:
        response = app.post_json("/v1/greet", {}, headers={"Origin": "https://example.org"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://example.org"


def test_cornice_wraps_views_again_after_a_failed_registration() -> None:
    wrap = cornice.pyramidhook.decorate_view
    broken = Service(name="broken", path="/broken")
    broken.add_view("GET", lambda request: {})
    config = Configurator(settings={})
    with pytest.raises(AttributeError):  # no cornice included: no add_cornice_service
        add_service(config, broken)
    assert cornice.pyramidhook.decorate_view is wrap
