"""Assembling the OpenAPI 3.0 document of an application, and caching it per registry."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry
from zope.interface import Interface

from cliquetish.openapi.builtins import batch_schemas, builtin_paths
from cliquetish.openapi.components import ERROR_SCHEMA, HEADERS, SECURITY_SCHEMES
from cliquetish.openapi.operations import resource_paths, resource_schemas, shared_schemas
from cliquetish.openapi.resources import registered_resources

__all__ = ["OPENAPI_VERSION", "build_document", "cached_document", "routed_paths"]

OPENAPI_VERSION = "3.0.3"


class IOpenAPIDocument(Interface):
    """Marker of the registry utility caching the document as JSON bytes."""


def routed_paths(registry: Registry) -> set[str]:
    """The path pattern of every route of the application (``/v1/__heartbeat__``...)."""
    mapper = registry.queryUtility(IRoutesMapper)
    routes = mapper.get_routes() if mapper is not None else []
    return {"/" + route.pattern.lstrip("/") for route in routes}


def _info(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": settings.get("project_name") or "cliquetish",
        "version": settings.get("project_version") or "0",
        "description": (
            f"HTTP API {settings.get('http_api_version')}. Every error answers the JSON error "
            "body (code, errno, error, message, details, info). Documentation: "
            f"{settings.get('project_docs')}"
        ),
    }


def build_document(registry: Registry) -> dict[str, Any]:
    """The OpenAPI document of the application: built-in endpoints and every resource."""
    settings = registry.settings
    prefix = "/" + settings["version_prefix"]
    paths = builtin_paths(routed_paths(registry), prefix)
    schemas: dict[str, Any] = {
        "Error": ERROR_SCHEMA,
        **batch_schemas(settings["batch_max_requests"]),
        **shared_schemas(),
    }
    tags = [{"name": "Utilities"}, {"name": "Batch"}]
    for description in registered_resources(registry):
        paths.update(resource_paths(description))
        schemas.update(resource_schemas(description))
        tags.append({"name": description.plural, "description": description.description})
    document = {
        "openapi": OPENAPI_VERSION,
        "info": _info(settings),
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    return copy.deepcopy(document)


def cached_document(registry: Registry) -> bytes:
    """The document as JSON, built on first use and kept for the registry's lifetime."""
    cached = registry.queryUtility(IOpenAPIDocument)
    if cached is None:
        cached = orjson.dumps(build_document(registry))
        registry.registerUtility(cached, IOpenAPIDocument)
    return cached
