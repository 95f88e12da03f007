"""One request class, with every request property built in, made once at start-up.

Pyramid adds the properties of ``config.add_request_method(..., property=True/reify=True)``
(``request.storage``, ``request.principals``, pyramid_tm's ``request.tm``...) to each request
by creating a new class per request, which costs more than many a whole view. Once the
configuration is complete, :func:`bake_request_properties` puts those properties into one
subclass of the request factory, registers it as the factory and leaves Pyramid nothing to add
per request. Request methods (not properties) are untouched. A property added by a later
configuration commit is added per request, the usual way.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request

__all__ = ["BAKE_ORDER", "bake_request_properties"]

BAKE_ORDER = 100
"""Order of the configuration action: after every action of the default order (0)."""

_MISSING = object()


def _bake(registry: Any) -> None:
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None or not extensions.descriptors:
        return
    factory = registry.queryUtility(IRequestFactory, default=Request)
    attributes = {"__module__": factory.__module__, **extensions.descriptors}
    baked = type(factory.__name__, (factory,), attributes)
    for name in ("__implemented__", "__provides__"):  # behave as the factory for zope lookups
        value = getattr(factory, name, _MISSING)
        if value is not _MISSING:
            setattr(baked, name, value)
    registry.registerUtility(baked, IRequestFactory)
    extensions.descriptors = {}


def bake_request_properties(config: Configurator) -> None:
    """Register the configuration action that builds the request class (see the module)."""
    config.action(None, lambda: _bake(config.registry), order=BAKE_ORDER)
