"""Resource events: what subscribers hear when records are read, created, updated or deleted.

Subscribe with Pyramid's ``config.add_subscriber``, optionally narrowed by the predicates this
module adds::

    config.add_subscriber(on_change, ResourceChanged,
                          for_actions=("create", "delete"), for_resources=("article",))

* :class:`ResourceChanged` is sent just before the request's transaction commits, so a
  subscriber that raises aborts the transaction: nothing the request wrote is kept.
* :class:`AfterResourceChanged` is sent after a successful commit (its errors are logged, the
  data is already written).
* :class:`ResourceRead` is sent before commit for reads (listings and records).

Events are grouped: one event per (resource, parent, action) per transaction, so a batch that
creates three articles sends one ``ResourceChanged`` with three impacted records. Every event has
``payload`` = ``{"timestamp", "action", "uri", "user_id", "resource_name"}`` (plus
``"<resource_name>_id"`` when one record is impacted; ``uri`` is then the record's URI, else the
collection's; URIs have no version prefix), ``impacted_records`` (a list of ``{"new"}`` for
creations and reads, ``{"new", "old"}`` for updates, ``{"old"}`` for deletions) and ``request``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from pyramid.config import Configurator
from zope.interface import implementedBy

from cliquetish.undo import active_transaction

__all__ = [
    "ACTIONS",
    "AfterResourceChanged",
    "ResourceChanged",
    "ResourceEvent",
    "ResourceRead",
    "includeme",
    "listening",
    "notify_resource_event",
]

logger = logging.getLogger(__name__)

Impacted = list[dict[str, Any]] | Callable[[], list[dict[str, Any]]]
"""Impacted records, or a callable making them (only called when someone listens)."""


class ACTIONS(StrEnum):
    """What happened to the records of an event."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    READ = "read"


class ResourceEvent:
    """Base of the resource events (see the module docstring for the attributes)."""

    def __init__(
        self, payload: dict[str, Any], impacted_records: list[dict[str, Any]], request: Any
    ) -> None:
        self.payload = payload
        self.impacted_records = impacted_records
        self.request = request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.payload}>"


class ResourceRead(ResourceEvent):
    """Records were read (sent before commit)."""


class ResourceChanged(ResourceEvent):
    """Records were created, updated or deleted (sent before commit; raising aborts)."""


class AfterResourceChanged(ResourceEvent):
    """Records were created, updated or deleted and the transaction committed."""


@dataclass
class _PendingEvent:
    payload: dict[str, Any]
    request: Any
    collection_uri: str
    impacted: list[dict[str, Any]] = field(default_factory=list)

    def finished_payload(self) -> dict[str, Any]:
        payload = dict(self.payload)
        id_key = f"{payload['resource_name']}_id"
        if len(self.impacted) == 1 and id_key in payload:
            return payload
        payload.pop(id_key, None)
        payload["uri"] = self.collection_uri
        return payload


class _TransactionEvents:
    """The events of one transaction, grouped by (resource, parent, action)."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str, str], _PendingEvent] = {}

    def add(self, key: tuple[str, str, str], event: _PendingEvent) -> None:
        current = self.pending.get(key)
        if current is None:
            self.pending[key] = event
            return
        current.impacted.extend(event.impacted)
        current.payload["timestamp"] = max(
            current.payload["timestamp"], event.payload["timestamp"]
        )
        current.payload.pop(f"{current.payload['resource_name']}_id", None)

    def events(self, change_class: type[ResourceEvent]) -> Iterable[ResourceEvent]:
        for pending in self.pending.values():
            read = pending.payload["action"] == ACTIONS.READ.value
            if read and change_class is AfterResourceChanged:
                continue
            event_class = ResourceRead if read else change_class
            yield event_class(pending.finished_payload(), pending.impacted, pending.request)


_DATA_KEY = _TransactionEvents  # our data's key in a transaction: a lasting object (keyed by id)


def _has_subscribers(registry: Any, event_classes: Iterable[type]) -> bool:
    if not getattr(registry, "has_listeners", True):  # Pyramid's: no subscriber at all
        return False
    adapters = registry.adapters
    return any(adapters.subscriptions((implementedBy(cls),), None) for cls in event_classes)


def listening(registry: Any, action: ACTIONS) -> bool:
    """True when a subscriber would hear events of ``action`` (to skip work otherwise)."""
    if action is ACTIONS.READ:
        return _has_subscribers(registry, (ResourceRead,))
    return _has_subscribers(registry, (ResourceChanged, AfterResourceChanged))


def _current_transaction(request: Any) -> Any:
    """The request's active transaction, or None (a safe method runs outside any)."""
    manager = getattr(request, "tm", None)
    if manager is None:
        return None
    return active_transaction(manager)


def _before_commit(events: _TransactionEvents, registry: Any) -> None:
    for event in list(events.events(ResourceChanged)):
        registry.notify(event)


def _after_commit(success: bool, events: _TransactionEvents, registry: Any) -> None:
    if not success:
        return
    for event in list(events.events(AfterResourceChanged)):
        try:
            registry.notify(event)
        except Exception:
            logger.exception("AfterResourceChanged subscriber failed")


def _transaction_events(request: Any, transaction: Any) -> _TransactionEvents:
    try:
        return transaction.data(_DATA_KEY)
    except KeyError:
        events = _TransactionEvents()
        transaction.set_data(_DATA_KEY, events)
        transaction.addBeforeCommitHook(_before_commit, args=(events, request.registry))
        transaction.addAfterCommitHook(_after_commit, args=(events, request.registry))
        return events


def notify_resource_event(
    request: Any,
    resource_name: str,
    parent_id: str,
    action: ACTIONS,
    impacted: Impacted,
    timestamp: int,
    collection_uri: str,
    record_id: str | None = None,
) -> None:
    """Record an event of the request's transaction (sent at commit, grouped).

    ``impacted`` may be a callable returning the list, called only when someone listens:
    without subscribers this does (and costs) almost nothing.
    """
    registry = request.registry
    if not listening(registry, action):
        return
    payload: dict[str, Any] = {
        "timestamp": timestamp,
        "action": action.value,
        "uri": collection_uri if record_id is None else f"{collection_uri}/{record_id}",
        "user_id": getattr(request, "prefixed_userid", None),
        "resource_name": resource_name,
    }
    if record_id is not None:
        payload[f"{resource_name}_id"] = record_id
    records = impacted() if callable(impacted) else impacted
    pending = _PendingEvent(payload, request, collection_uri, list(records))
    transaction = _current_transaction(request)
    if transaction is None:
        events = _TransactionEvents()
        events.add((resource_name, parent_id, action.value), pending)
        _before_commit(events, registry)
        _after_commit(True, events, registry)
        return
    _transaction_events(request, transaction).add((resource_name, parent_id, action.value),
                                                  pending)


class _PayloadPredicate:
    """Subscriber predicate matching one payload key against a set of values."""

    key = ""
    name = ""

    def __init__(self, values: Any, config: Configurator) -> None:
        if isinstance(values, str | Enum):
            values = (values,)
        self.values = frozenset(v.value if isinstance(v, Enum) else str(v) for v in values)

    def text(self) -> str:
        return f"{self.name} = {sorted(self.values)}"

    phash = text

    def __call__(self, event: Any) -> bool:
        payload: Mapping[str, Any] | None = getattr(event, "payload", None)
        return payload is not None and payload.get(self.key) in self.values


class ForActions(_PayloadPredicate):
    """``for_actions=("create", ACTIONS.DELETE)``: only events of these actions."""

    key = "action"
    name = "for_actions"


class ForResources(_PayloadPredicate):
    """``for_resources=("article",)``: only events of these resources."""

    key = "resource_name"
    name = "for_resources"


def includeme(config: Configurator) -> None:
    """Add the ``for_actions`` and ``for_resources`` subscriber predicates."""
    config.add_subscriber_predicate("for_actions", ForActions)
    config.add_subscriber_predicate("for_resources", ForResources)
