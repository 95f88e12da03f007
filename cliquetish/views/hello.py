"""``GET /v1/``: what this service is, its settings, capabilities and the current user."""

from __future__ import annotations

from typing import Any

from cornice import Service
from pyramid.authorization import Authenticated, Everyone
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from cliquetish.cornice_hooks import add_service
from cliquetish.directives import api_capabilities
from cliquetish.views import json_response
from cliquetish.views.errors import json_error_handler

__all__ = ["hello_view", "includeme", "static_hello", "user_info"]


def static_hello(settings: dict[str, Any]) -> dict[str, Any]:
    """The part of the hello body that only depends on the settings."""
    body = {
        "project_name": settings["project_name"],
        "project_version": settings["project_version"],
        "http_api_version": settings["http_api_version"],
        "project_docs": settings["project_docs"],
        "settings": {
            "batch_max_requests": settings["batch_max_requests"],
            "readonly": settings["readonly"],
        },
    }
    if settings.get("eos"):
        body["eos"] = settings["eos"]
    return body


def user_info(request: Request) -> dict[str, Any] | None:
    """``{"id", "principals"}`` of the authenticated user, None for anonymous requests."""
    userid = request.authenticated_userid
    if userid is None:
        return None
    prefixed = getattr(request, "prefixed_userid", None) or userid
    principals = getattr(request, "prefixed_principals", None)
    if principals is None:
        principals = [Everyone, Authenticated, prefixed]
    return {"id": prefixed, "principals": list(principals)}


def hello_view(request: Request) -> Response:
    """The hello body, with the URL of this endpoint and the user when authenticated."""
    settings = request.registry.settings
    body = dict(static_hello(settings))
    body["url"] = request.route_url("hello")
    body["capabilities"] = api_capabilities(request.registry)
    user = user_info(request)
    if user is not None:
        body["user"] = user
    return json_response(request, body)


def includeme(config: Configurator) -> None:
    """Add the hello endpoint at the root of the prefix."""
    hello = Service(
        name="hello",
        path="/",
        description="Welcome to the API: versions, settings, capabilities, user.",
        error_handler=json_error_handler,
        permission=NO_PERMISSION_REQUIRED,
    )
    hello.add_view("GET", hello_view, accept="application/json")
    add_service(config, hello)
