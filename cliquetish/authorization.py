"""May this request do that: permission checks from settings and from the permission backend.

A permission is granted to a request when one of ``request.principals``

* is listed in the setting ``<resource_name>_<permission>_principals``
  (``article_create_principals = system.Authenticated``), or
* has an access-control entry on the object (``/articles/<id>``) in the permission backend.

``write`` implies ``read`` in both places. :func:`require` turns a refusal into the protocol's
answer: 401 errno 104 (``WWW-Authenticate``) for anonymous requests, 403 errno 121 otherwise.
"""

from __future__ import annotations

from typing import Any

from pyramid.security import forget

from cliquetish.errors import ERRORS, http_error
from cliquetish.settings import as_list

__all__ = [
    "READ",
    "WRITE",
    "forbidden",
    "implied_permissions",
    "is_allowed",
    "require",
    "require_authenticated",
    "setting_principals",
    "unauthorized",
]

READ = "read"
WRITE = "write"
CREATE = "create"

IMPLIED_BY: dict[str, tuple[str, ...]] = {READ: (READ, WRITE)}
"""Permissions granted by other ones: whoever may write may read."""


_CACHE_ATTRIBUTE = "cliquetish_setting_principals"
"""Registry attribute caching the parsed ``*_principals`` settings."""


def implied_permissions(permission: str) -> tuple[str, ...]:
    """The permissions any of which grants ``permission`` (``read`` → ``read``, ``write``)."""
    return IMPLIED_BY.get(permission, (permission,))


def setting_principals(registry: Any, resource_name: str, permission: str) -> frozenset[str]:
    """Principals the settings grant ``permission`` on every ``resource_name`` object.

    Parsed once per registry (the settings are fixed once the application is built).
    """
    cache = getattr(registry, _CACHE_ATTRIBUTE, None)  # an attribute: no lookup per request
    if cache is None:
        cache = {}
        setattr(registry, _CACHE_ATTRIBUTE, cache)
    key = (resource_name, permission)
    principals = cache.get(key)
    if principals is None:
        settings = registry.settings or {}
        names = set()
        for granting in implied_permissions(permission):
            names.update(as_list(settings.get(f"{resource_name}_{granting}_principals") or ""))
        principals = cache[key] = frozenset(names)
    return principals


def is_allowed(
    request: Any, resource_name: str, permission: str, object_uri: str | None = None
) -> bool:
    """True when the request may do ``permission`` on ``resource_name`` objects (settings) or
    on the object ``object_uri`` (settings, then the permission backend)."""
    principals = request.principals
    if not setting_principals(request.registry, resource_name, permission).isdisjoint(principals):
        return True
    backend = request.permission
    if object_uri is None or backend is None:
        return False
    return bool(
        backend.check_permission(object_uri, implied_permissions(permission), principals)
    )


def _credentials_sent(request: Any) -> bool:
    return bool(request.headers.get("Authorization"))


def unauthorized(request: Any) -> Any:
    """The 401 answer: errno 105 when credentials were sent but not recognised, else 104."""
    headers = dict(forget(request))
    if _credentials_sent(request):
        errno = ERRORS.INVALID_AUTH_TOKEN
        message = "The credentials sent are not valid."
    else:
        errno = ERRORS.MISSING_AUTH_TOKEN
        message = "Authentication is needed to use this endpoint."
    return http_error(401, errno, message, headers=headers)


def forbidden(request: Any) -> Any:
    """The 403 answer (errno 121)."""
    return http_error(403, ERRORS.FORBIDDEN, "The authenticated user may not do this.")


def require(
    request: Any, resource_name: str, permission: str, object_uri: str | None = None
) -> None:
    """Raise the 401 or 403 answer unless :func:`is_allowed`."""
    if is_allowed(request, resource_name, permission, object_uri):
        return
    if request.prefixed_userid is None:
        raise unauthorized(request)
    raise forbidden(request)


def require_authenticated(request: Any) -> None:
    """Raise 401 (errno 104, or 105 for credentials not recognised) when anonymous."""
    if request.prefixed_userid is None:
        raise unauthorized(request)
