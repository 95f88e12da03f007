"""Configurator directives and the single loader of the three backend kinds.

``includeme`` adds these as ``config.add_storage``, ``config.add_cache``,
``config.add_permission``, ``config.add_heartbeat`` and ``config.add_api_capability``. Each
registers through ``config.action`` with a discriminator, so two storages set by two includes
conflict loudly and the introspector lists what is wired.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.registry import Registry
from zope.interface import Interface

from cliquetish.errors import ConfigurationError
from cliquetish.interfaces import ICache, IPermission, IStorage

__all__ = [
    "BACKEND_KINDS",
    "HeartbeatCheck",
    "add_api_capability",
    "add_backend",
    "add_cache",
    "add_heartbeat",
    "add_permission",
    "add_request_properties",
    "add_storage",
    "api_capabilities",
    "heartbeat_checks",
    "load_backends",
]

HeartbeatCheck = Callable[[Any], bool]
"""A heartbeat check: called with the request, returns True when healthy."""

BACKEND_KINDS: dict[str, type[Interface]] = {
    "storage": IStorage,
    "cache": ICache,
    "permission": IPermission,
}


class IHeartbeatChecks(Interface):
    """Marker of the registry utility holding the ``{name: check}`` heartbeat map."""


class IApiCapabilities(Interface):
    """Marker of the registry utility holding the ``{name: {description, url}}`` map."""


def _mapping_utility(registry: Registry, marker: type[Interface]) -> dict[str, Any]:
    utility = registry.queryUtility(marker)
    if utility is None:
        utility = {}
        registry.registerUtility(utility, marker)
    return utility


def heartbeat_checks(registry: Registry) -> dict[str, HeartbeatCheck]:
    """The registered heartbeat checks, by name."""
    return _mapping_utility(registry, IHeartbeatChecks)


def api_capabilities(registry: Registry) -> dict[str, dict[str, str]]:
    """The capabilities listed by the hello view, by name."""
    return _mapping_utility(registry, IApiCapabilities)


def add_heartbeat(config: Configurator, name: str, check: HeartbeatCheck) -> None:
    """Add a check to ``__heartbeat__``: ``check(request) -> bool``, shown under ``name``."""

    def register() -> None:
        heartbeat_checks(config.registry)[name] = check

    intr = config.introspectable("cliquetish heartbeats", name, name, "cliquetish heartbeat")
    intr["check"] = check
    config.action(("cliquetish-heartbeat", name), register, introspectables=(intr,))


def add_api_capability(
    config: Configurator, name: str, description: str, url: str, **extra: Any
) -> None:
    """List a capability in the hello view under ``capabilities``."""
    capability = {"description": description, "url": url, **extra}

    def register() -> None:
        api_capabilities(config.registry)[name] = capability

    intr = config.introspectable("cliquetish capabilities", name, name, "cliquetish capability")
    intr["capability"] = capability
    config.action(("cliquetish-capability", name), register, introspectables=(intr,))


def add_backend(config: Configurator, kind: str, backend: Any) -> None:
    """Register ``backend`` as the ``kind`` (storage, cache or permission) and its heartbeat."""
    marker = BACKEND_KINDS[kind]

    def register() -> None:
        config.registry.registerUtility(backend, marker)

    intr = config.introspectable("cliquetish backends", kind, kind, "cliquetish backend")
    intr["backend"] = backend
    config.action(("cliquetish-backend", kind), register, introspectables=(intr,))
    config.add_heartbeat(kind, lambda request: backend.ping())


def add_storage(config: Configurator, storage: Any) -> None:
    """Use ``storage`` (a :class:`cliquetish.storage.StorageBase`)."""
    add_backend(config, "storage", storage)


def add_cache(config: Configurator, cache: Any) -> None:
    """Use ``cache`` (a :class:`cliquetish.cache.CacheBase`)."""
    add_backend(config, "cache", cache)


def add_permission(config: Configurator, permission: Any) -> None:
    """Use ``permission`` (a :class:`cliquetish.permission.PermissionBase`)."""
    add_backend(config, "permission", permission)


def _import_backend_module(key: str, dotted: str) -> Any:
    try:
        module = importlib.import_module(dotted)
    except ImportError as error:
        raise ConfigurationError(
            f"Invalid setting {key} = {dotted!r}: cannot import it ({error})", key=key
        ) from error
    if not callable(getattr(module, "load_from_config", None)):
        raise ConfigurationError(
            f"Invalid setting {key} = {dotted!r}: the module has no load_from_config()", key=key
        )
    return module


def load_backends(config: Configurator) -> None:
    """Load the backend of each kind named in the settings (an empty name means none)."""
    settings = config.get_settings()
    for kind in BACKEND_KINDS:
        key = f"{kind}_backend"
        dotted = settings.get(key) or ""
        if not dotted:
            continue
        module = _import_backend_module(key, dotted)
        add_backend(config, kind, module.load_from_config(config))


def _backend_getter(marker: type[Interface]) -> Callable[[Any], Any]:
    def getter(request: Any) -> Any:
        return request.registry.queryUtility(marker)

    return getter


def add_request_properties(config: Configurator) -> None:
    """``request.storage``, ``request.cache`` and ``request.permission`` (None when absent)."""
    for kind, marker in BACKEND_KINDS.items():
        config.add_request_method(_backend_getter(marker), kind, reify=True)

