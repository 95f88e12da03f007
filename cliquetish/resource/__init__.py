"""Resources: a class becomes a collection and a record endpoint with the whole protocol.

::

    from cliquetish import resource, schema

    class BookmarkSchema(schema.ResourceSchema):
        url = schema.URL()

    @resource.register()
    class Bookmark(resource.UserResource):
        schema = BookmarkSchema

gives ``/v1/bookmarks`` and ``/v1/bookmarks/{id}`` once ``config.scan()`` finds the class.
``register_resource(config, Bookmark)`` does the same without scanning. Keyword arguments
override the name (``name="bookmark"``), the plural (``plural="bookmarks"``) and any attribute
of :class:`~cliquetish.resource.viewset.ViewSet` (``collection_path``, ``record_path``,
``collection_methods``, ``record_methods``, ``service_name``).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import venusian
from pyramid.config import Configurator
from pyramid.registry import Registry
from zope.interface import Interface

from cliquetish.cornice_hooks import add_service
from cliquetish.errors import ConfigurationError
from cliquetish.interfaces import IPermission
from cliquetish.resource.access import ShareableResource, UserResource
from cliquetish.resource.base import Resource
from cliquetish.resource.model import IdGenerator, UUID4Generator
from cliquetish.resource.schema import URL, ResourceSchema, TimeStamp
from cliquetish.resource.viewset import ResourceSetup, ViewSet, build_setup, make_services

__all__ = [
    "URL",
    "IdGenerator",
    "Resource",
    "ResourceSchema",
    "ResourceSetup",
    "ShareableResource",
    "TimeStamp",
    "UUID4Generator",
    "UserResource",
    "ViewSet",
    "register",
    "register_resource",
    "registered_resources",
]

VENUSIAN_CATEGORY = "pyramid"  # the category config.scan() runs by default


class IResources(Interface):
    """Marker of the registry utility holding ``{name: ResourceSetup}``."""


def registered_resources(registry: Registry) -> dict[str, ResourceSetup]:
    """The resources of an application, by name (paths, schema, methods, services)."""
    resources = registry.queryUtility(IResources)
    if resources is None:
        resources = {}
        registry.registerUtility(resources, IResources)
    return resources


def _viewset(resource_class: type, overrides: dict[str, Any]) -> ViewSet:
    known = {item.name for item in fields(ViewSet)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigurationError(
            f"{resource_class.__name__}: unknown register() arguments {', '.join(unknown)}"
        )
    base = getattr(resource_class, "viewset", None) or ViewSet()
    values = {item.name: getattr(base, item.name) for item in fields(ViewSet)}
    values.update(overrides)
    return ViewSet(**values)


def register_resource(config: Configurator, resource_class: type, **overrides: Any) -> None:
    """Add the endpoints of ``resource_class`` to the application being configured.

    ``name`` defaults to the class name in lower case, ``plural`` to the name plus ``s``.
    Two resources of the same name conflict when the configuration commits.
    """
    if not (isinstance(resource_class, type) and issubclass(resource_class, Resource)):
        raise ConfigurationError(f"{resource_class!r} is not a cliquetish Resource class")
    name = overrides.pop("name", None) or resource_class.__name__.lower()
    plural = overrides.pop("plural", None) or f"{name}s"
    viewset = _viewset(resource_class, overrides)
    setup = build_setup(resource_class, config.get_settings(), name, plural, viewset)
    setup.services = make_services(setup, viewset, config.route_prefix)
    config.include("cliquetish.events")
    for service in setup.services:
        add_service(config, service)

    def register() -> None:
        if issubclass(resource_class, ShareableResource) and (
            config.registry.queryUtility(IPermission) is None
        ):
            raise ConfigurationError(
                f"{resource_class.__name__} is a ShareableResource: its per-record permissions "
                "need a permission backend (set permission_backend)",
                key="permission_backend",
            )
        registered_resources(config.registry)[name] = setup

    intr = config.introspectable("cliquetish resources", name, name, "cliquetish resource")
    intr["setup"] = setup
    config.action(("cliquetish-resource", name), register, introspectables=(intr,))


def register(depth: int = 1, **overrides: Any) -> Any:
    """Class decorator: register the resource when ``config.scan()`` finds it."""

    def wrapped(resource_class: type) -> type:
        def callback(context: Any, name: str, ob: Any) -> None:
            register_resource(context.config.with_package(info.module), resource_class,
                              **overrides)

        info = venusian.attach(resource_class, callback, category=VENUSIAN_CATEGORY,
                               depth=depth)
        return resource_class

    return wrapped
