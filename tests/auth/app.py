"""A small Pyramid application built with ``cliquetish.initialize`` (routes under /v1) and views
that exercise the authentication and authorization API directly (no resource layer involved)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import webtest
from pyramid.config import Configurator

import cliquetish
from cliquetish import authorization
from cliquetish.testing import prefixed

SECRET = "auth-tests-secret"


def whoami(request: Any) -> dict[str, Any]:
    """Who the request is, as the authentication layer sees it."""
    identity = request.identity
    return {
        "userid": request.prefixed_userid,
        "principals": list(request.principals),
        "policy": identity.policy_name if identity else None,
    }


def needs_authentication(request: Any) -> dict[str, Any]:
    """Refuses anonymous requests."""
    authorization.require_authenticated(request)
    return {"userid": request.prefixed_userid}


def needs_permission(request: Any) -> dict[str, Any]:
    """Checks ``permission`` on ``/articles/<id>`` (or on the resource when id is ``-``)."""
    object_id = request.matchdict["id"]
    uri = None if object_id == "-" else f"/articles/{object_id}"
    authorization.require(request, "article", request.matchdict["permission"], uri)
    return {"allowed": True}


def grant_read(request: Any) -> dict[str, Any]:
    """Grants ``read`` on ``/articles/<id>`` to the caller, then fails when ``?fail=1``."""
    authorization.require_authenticated(request)
    object_uri = f"/articles/{request.matchdict['id']}"
    request.permission.add_principal_to_ace(object_uri, "read", request.prefixed_userid)
    if request.params.get("fail"):
        raise RuntimeError("failing after the write")
    return {"granted": object_uri}


class EditorsOnly:
    """A context whose ACL lets ``group:editors`` (and nobody else) ``edit``."""

    __acl__ = [("Allow", "group:editors", "edit")]

    def __init__(self, request: Any) -> None:
        self.request = request


def edit(request: Any) -> dict[str, Any]:
    """Protected by Pyramid's ``permission="edit"``."""
    return {"edited": True}


def refuse(request: Any) -> Any:
    """Raises a bare HTTPForbidden itself (not a permission refusal)."""
    from pyramid.httpexceptions import HTTPForbidden

    raise HTTPForbidden()


def make_auth_app(settings: Mapping[str, Any] | None = None) -> webtest.TestApp:
    """The test application with ``settings`` (unprefixed) over a known secret."""
    merged = {"userid_hmac_secret": SECRET, **(settings or {})}
    config = Configurator(settings=prefixed(merged))
    cliquetish.initialize(config, version="1.0.0")
    config.add_route("whoami", "/whoami")
    config.add_view(whoami, route_name="whoami", renderer="json")
    config.add_route("authenticated", "/authenticated")
    config.add_view(needs_authentication, route_name="authenticated", renderer="json")
    config.add_route("permission", "/articles/{id}/{permission}")
    config.add_view(needs_permission, route_name="permission", renderer="json")
    config.add_route("grant", "/grant/{id}")
    config.add_view(grant_read, route_name="grant", renderer="json", request_method="POST")
    config.add_route("edit", "/edit", factory=EditorsOnly)
    config.add_view(edit, route_name="edit", renderer="json", permission="edit")
    config.add_route("refuse", "/refuse")
    config.add_view(refuse, route_name="refuse")
    return webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost:80"})
