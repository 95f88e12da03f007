"""The contracts between cliquetish and its pluggable parts (zope.interface markers).

A backend instance is registered as a utility providing one of these; reach it with
``request.registry.getUtility(IStorage)`` or the reified ``request.storage`` property.
"""

from zope.interface import Interface

__all__ = ["ICache", "IMetrics", "IPermission", "IStorage"]


class IStorage(Interface):
    """Record storage: see :class:`cliquetish.storage.StorageBase`."""


class ICache(Interface):
    """Short-lived key/value state: see :class:`cliquetish.cache.CacheBase`."""


class IPermission(Interface):
    """Access-control entries and principals: see :class:`cliquetish.permission.PermissionBase`."""


class IMetrics(Interface):
    """Timers and counters: see :mod:`cliquetish.metrics`."""
