"""Where a resource answers: paths, service names, methods, and the per-application setup.

A :class:`ViewSet` describes the two endpoints of a resource (collection and record); every
attribute can be overridden by keyword arguments of ``@resource.register(...)``. A
:class:`ResourceSetup` is what one application knows of one registered resource (computed once
at start-up from the class, the view set and the settings); each request's resource instance
reads it instead of re-reading settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cornice import Service

from cliquetish.errors import ConfigurationError
from cliquetish.resource.schema import CompiledSchema
from cliquetish.settings import as_bool, as_optional_int
from cliquetish.storage import Sort

if TYPE_CHECKING:
    from cliquetish.resource.model import IdGenerator

__all__ = ["ENDPOINT_METHODS", "ResourceSetup", "ViewSet", "make_services"]

ENDPOINT_METHODS: dict[str, dict[str, str]] = {
    "collection": {
        "GET": "collection_get",
        "POST": "collection_post",
        "DELETE": "collection_delete",
    },
    "record": {"GET": "get", "PUT": "put", "PATCH": "patch", "DELETE": "delete"},
}
"""HTTP method → resource method, per endpoint (HEAD follows GET)."""


@dataclass
class ViewSet:
    """Paths, names and methods of a resource's endpoints (``{name}``/``{plural}`` filled in)."""

    collection_path: str = "/{plural}"
    record_path: str = "/{plural}/{{id}}"
    collection_methods: tuple[str, ...] = ("GET", "POST", "DELETE")
    record_methods: tuple[str, ...] = ("GET", "PUT", "PATCH", "DELETE")
    service_name: str = "{name}-{endpoint}"

    def enabled_methods(self, endpoint: str, name: str, settings: dict[str, Any]) -> list[str]:
        """The methods of ``endpoint`` not switched off by ``<endpoint>_<name>_<method>_enabled
        = false``."""
        declared = self.collection_methods if endpoint == "collection" else self.record_methods
        enabled = []
        for method in declared:
            key = f"{endpoint}_{name}_{method.lower()}_enabled"
            try:
                if as_bool(settings.get(key, True)):
                    enabled.append(method.upper())
            except ValueError as error:
                raise ConfigurationError(f"Invalid setting {key}: {error}", key=key) from error
        return enabled


@dataclass
class ResourceSetup:
    """One registered resource in one application."""

    name: str
    plural: str
    resource_class: type
    schema: CompiledSchema
    collection_path: str
    record_path: str
    object_uri_prefix: str
    collection_uri: str
    id_generator: IdGenerator
    default_sort: tuple[Sort, ...]
    page_size: int
    cache_expires_seconds: int | None
    token_secret: bytes
    methods: dict[str, list[str]] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    listing_queries: dict[str, Any] = field(default_factory=dict, repr=False)
    """Parsed listing querystrings, by querystring (see :func:`.listing.remembered_query`)."""


def _sorts(specs: tuple[str, ...]) -> tuple[Sort, ...]:
    return tuple(Sort(spec.lstrip("-+"), -1 if spec.startswith("-") else 1) for spec in specs)


def _page_size(settings: dict[str, Any]) -> int:
    max_fetch = settings.get("storage_max_fetch_size") or 10000
    paginate_by = settings.get("paginate_by")
    return min(paginate_by, max_fetch) if paginate_by else max_fetch


def _cache_expires(settings: dict[str, Any], name: str) -> int | None:
    key = f"{name}_cache_expires_seconds"
    try:
        return as_optional_int(settings.get(key))
    except ValueError as error:
        raise ConfigurationError(f"Invalid setting {key}: {error}", key=key) from error


def build_setup(
    resource_class: type, settings: dict[str, Any], name: str, plural: str, viewset: ViewSet
) -> ResourceSetup:
    """The :class:`ResourceSetup` of ``resource_class`` under ``settings``."""
    prefix = "/" + settings["version_prefix"]
    collection_path = prefix + viewset.collection_path.format(name=name, plural=plural)
    record_path = prefix + viewset.record_path.format(name=name, plural=plural)
    collection_uri = collection_path[len(prefix):]
    setup = ResourceSetup(
        name=name,
        plural=plural,
        resource_class=resource_class,
        schema=CompiledSchema(getattr(resource_class, "schema", None)),
        collection_path=collection_path,
        record_path=record_path,
        object_uri_prefix=collection_uri + "/",
        collection_uri=collection_uri,
        id_generator=resource_class.id_generator,
        default_sort=_sorts(tuple(resource_class.default_sort)),
        page_size=_page_size(settings),
        cache_expires_seconds=_cache_expires(settings, name),
        token_secret=(settings.get("userid_hmac_secret") or "").encode("utf-8"),
    )
    for endpoint in ENDPOINT_METHODS:
        setup.methods[endpoint] = viewset.enabled_methods(endpoint, name, settings)
    return setup


def _view(setup: ResourceSetup, method_name: str) -> Callable[[Any], Any]:
    resource_class = setup.resource_class

    def view(request: Any) -> Any:
        return getattr(resource_class(request, setup), method_name)()

    view.__name__ = f"{setup.name}_{method_name}"
    view.__doc__ = getattr(resource_class, method_name).__doc__
    return view


def make_services(setup: ResourceSetup, viewset: ViewSet, route_prefix: str | None = None
                  ) -> list[Service]:
    """The cornice services (collection and record) of a resource.

    ``route_prefix`` is the configurator's: when it already is the version prefix, the
    services' paths leave it out (Pyramid adds it to the routes).
    """
    services = []
    prefix = "/" + (route_prefix or "").strip("/")
    for endpoint, methods in ENDPOINT_METHODS.items():
        path = setup.collection_path if endpoint == "collection" else setup.record_path
        if prefix != "/" and path.startswith(prefix + "/"):
            path = path[len(prefix):]
        service = Service(
            name=viewset.service_name.format(name=setup.name, endpoint=endpoint),
            path=path,
            description=f"{setup.plural} {endpoint}",
        )
        for http_method in setup.methods[endpoint]:
            method_name = methods.get(http_method)
            if method_name is None:
                raise ConfigurationError(f"{setup.name}: unknown {endpoint} method {http_method}")
            service.add_view(http_method, _view(setup, method_name))
        services.append(service)
    return services
