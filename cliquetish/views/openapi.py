"""``GET /v1/__api__``: the OpenAPI 3.0 document of every endpoint, resources included.

The document is generated from what the application registered (see :mod:`cliquetish.openapi`)
on the first request and then served from memory.
"""

from __future__ import annotations

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from cliquetish.cornice_hooks import add_service
from cliquetish.openapi.document import cached_document
from cliquetish.views.errors import json_error_handler

__all__ = ["includeme", "openapi_view"]


def openapi_view(request: Request) -> Response:
    """The cached document as JSON."""
    response = request.response
    response.content_type = "application/json"
    response.charset = None
    response.body = cached_document(request.registry)
    response.headers["Cache-Control"] = "no-cache"
    return response


def includeme(config: Configurator) -> None:
    """Add ``GET /<version>/__api__`` (under the route prefix when one is set)."""
    prefix = config.get_settings()["version_prefix"]
    route_prefix = (config.route_prefix or "").strip("/")
    service = Service(
        name="openapi",
        path="/__api__" if route_prefix == prefix else f"/{prefix}/__api__",
        description="The OpenAPI 3.0 document of this API",
        error_handler=json_error_handler,
        permission=NO_PERMISSION_REQUIRED,
    )
    service.add_view("GET", openapi_view)
    add_service(config, service)
