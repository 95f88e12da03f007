"""Cornice, with its per-request hook only where a service needs it.

Cornice's own ``includeme`` subscribes :func:`cornice.pyramidhook.wrap_request` to every
``NewRequest``. The hook gives the request ``validated``, ``errors`` and ``info``, and adds two
response callbacks: one applies the service's ``filters`` and cornice's CORS headers, the
other adds ``X-Content-Type-Options`` (which the security-headers tween adds to every response
anyway). Having a subscriber at all also makes Pyramid's router send its four events
(``NewRequest``, ``BeforeTraversal``, ``ContextFound``, ``NewResponse``) on every request.
Together that is about a tenth of the CPU of a GET of one record.

:func:`includeme` includes cornice without that subscription and gives requests
``validated``, ``errors`` and ``info`` as lazy properties (made on first use: by cornice's view
wrapper, its validators and the error handler). Once the configuration is committed, it
subscribes cornice's hook after all when a registered service has ``filters`` or cornice's
CORS (``cors_origins``, ``cors_enabled``), so an application's own cornice services keep
cornice's whole behaviour. An application that includes ``cornice`` itself after
cliquetish includes nothing twice (cornice is marked as included) and the rule above applies;
one that includes it before (with cornice's ``handle_exceptions = false``, so that
cliquetish's exception views answer) keeps cornice as it is, subscription included.

Cornice also wraps every view of a service in a function that runs the validators, checks
``request.errors`` and records ``request.cornice_args`` for the filters. Cliquetish's own
services (the resources, hello, the heartbeats...) have no validators, no filters and no CORS
of cornice's: for them the wrapper only calls the view, at the cost of a few per cent of a GET
of one record. :func:`add_service` registers such a service exactly as
``config.add_cornice_service`` does (route, views, the fallback view answering 405), the view
itself standing where the wrapper would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import cornice
import cornice.pyramidhook
from cornice import Service
from cornice.errors import Errors
from cornice.pyramidhook import wrap_request
from pyramid.config import Configurator
from pyramid.events import NewRequest
from pyramid.interfaces import INewRequest

__all__ = [
    "CORNICE_INCLUDE",
    "HOOK_ORDER",
    "add_service",
    "includeme",
    "needs_view_wrapper",
    "services_need_request_hook",
]

HOOK_ORDER = 90
"""Order of the configuration action deciding on the hook: after every action of the default
order (0), when every service has been registered."""


def _has_filters_or_cors(service: Service) -> bool:
    """True when ``service`` (or one of its views) has response filters, or cornice's CORS."""
    if service.cors_enabled or getattr(service, "filters", None):
        return True
    return any(args.get("filters") for _method, _view, args in service.definitions)


def services_need_request_hook(services: Any) -> bool:
    """True when one of the cornice ``services`` has response filters or cornice's CORS."""
    return any(_has_filters_or_cors(service) for service in services)


def needs_view_wrapper(service: Service) -> bool:
    """True when cornice's view wrapper does more than call the view for ``service``: it has
    response filters or cornice's CORS, or a view with validators or a ``klass``."""
    return _has_filters_or_cors(service) or any(
        args.get("validators") or "klass" in args for _method, _view, args in service.definitions)


def _plain_view(view: Callable[..., Any], args: dict[str, Any], method: str,
                route_args: dict[str, Any] | None = None) -> Callable[..., Any]:
    return view


@contextmanager
def _views_unwrapped() -> Iterator[None]:
    """Cornice registers the views themselves (its ``decorate_view`` returns each view as it
    is) while the block runs. Configuration is single-threaded: the swap is local to it."""
    wrap = cornice.pyramidhook.decorate_view
    cornice.pyramidhook.decorate_view = _plain_view
    try:
        yield
    finally:
        cornice.pyramidhook.decorate_view = wrap


def add_service(config: Configurator, service: Service) -> None:
    """``config.add_cornice_service(service)``, without cornice's per-request view wrapper
    when the service does not need it (see :func:`needs_view_wrapper` and the module)."""
    if needs_view_wrapper(service):
        config.add_cornice_service(service)
        return
    with _views_unwrapped():
        config.add_cornice_service(service)


def _validated(request: Any) -> dict[str, Any]:
    return {}


def _info(request: Any) -> dict[str, Any]:
    return {}


def _errors(request: Any) -> Errors:
    if request.registry.settings.get("available_languages"):
        return Errors(localizer=request.localizer)
    return Errors()


def _subscribe_if_needed(registry: Any) -> None:
    services = getattr(registry, "cornice_services", {}).values()
    if services_need_request_hook(services):
        registry.registerHandler(wrap_request, (INewRequest,))


CORNICE_INCLUDE = f"{cornice.includeme.__module__}:{cornice.includeme.__name__}"
"""How Pyramid names cornice's include, to include it once whoever asks."""


def includeme(config: Configurator) -> None:
    """Include cornice without its ``NewRequest`` subscription (see the module).

    Cornice's include is marked as done, as ``config.include("cornice")`` would mark it, so an
    application that includes cornice afterwards does not register it twice; one that included
    it before keeps it as it is, hook included.
    """
    if not config.action_state.processSpec(CORNICE_INCLUDE):
        return
    add_subscriber = config.add_subscriber

    def add_other_subscribers(subscriber: Any, iface: Any = None, **predicates: Any) -> None:
        if subscriber is wrap_request and iface is NewRequest and not predicates:
            return
        add_subscriber(subscriber, iface, **predicates)

    config.add_subscriber = add_other_subscribers  # type: ignore[method-assign]
    try:
        cornice.includeme(config)
    finally:
        del config.add_subscriber
    config.add_request_method(_validated, "validated", reify=True)
    config.add_request_method(_errors, "errors", reify=True)
    config.add_request_method(_info, "info", reify=True)
    config.action(None, lambda: _subscribe_if_needed(config.registry), order=HOOK_ORDER)
