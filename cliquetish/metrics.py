"""Metrics: timers and counters sent to statsd, or nothing at all.

The registry always holds an :class:`~cliquetish.interfaces.IMetrics` utility: a
:class:`StatsdMetrics` when ``statsd_url`` is set (``udp://host:port``, needs the ``monitoring``
extra), a :class:`NoOpMetrics` otherwise. Use it anywhere::

    metrics = request.registry.getUtility(IMetrics)
    with metrics.timer("storage.get"):
        ...
    metrics.count("bookmarks.created")

:func:`watch_execution_time` times every public method of an object (a backend) at once, and
costs nothing when metrics are off.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlparse

from pyramid.config import Configurator
from pyramid.registry import Registry
from zope.interface import implementer

from cliquetish.errors import ConfigurationError
from cliquetish.interfaces import IMetrics

__all__ = [
    "Metrics",
    "NoOpMetrics",
    "StatsdMetrics",
    "get_metrics",
    "includeme",
    "load_from_settings",
    "metric_name",
    "watch_execution_time",
]


class Metrics(Protocol):
    """What an IMetrics utility offers."""

    enabled: bool

    def timer(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """A context manager timing its block under ``name``."""

    def timing(self, name: str, milliseconds: float) -> None:
        """Record a duration already measured."""

    def count(self, name: str, value: int = 1) -> None:
        """Add ``value`` to the counter ``name``."""


@implementer(IMetrics)
class NoOpMetrics:
    """Metrics that go nowhere (no ``statsd_url``)."""

    enabled = False

    @contextlib.contextmanager
    def timer(self, name: str) -> Iterator[None]:
        """Time nothing."""
        yield

    def timing(self, name: str, milliseconds: float) -> None:
        """Drop the duration."""

    def count(self, name: str, value: int = 1) -> None:
        """Drop the count."""


@implementer(IMetrics)
class StatsdMetrics:
    """Metrics sent over UDP to a statsd server."""

    enabled = True

    def __init__(self, host: str, port: int, prefix: str) -> None:
        import statsd

        self.client = statsd.StatsClient(host, port, prefix=prefix or None)

    def timer(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """A context manager sending the duration of its block (milliseconds)."""
        return self.client.timer(name)

    def timing(self, name: str, milliseconds: float) -> None:
        """Send a duration already measured."""
        self.client.timing(name, milliseconds)

    def count(self, name: str, value: int = 1) -> None:
        """Increment the counter ``name``."""
        self.client.incr(name, value)


_UNSAFE_METRIC_CHARS = str.maketrans({":": "_", "|": "_", "@": "_", " ": "_", "/": "_"})


def metric_name(*parts: str) -> str:
    """Join ``parts`` with dots, replacing characters the statsd protocol reserves."""
    return ".".join(part.translate(_UNSAFE_METRIC_CHARS) for part in parts if part)


def load_from_settings(settings: dict[str, Any]) -> Metrics:
    """The metrics the settings ask for.

    :raises ConfigurationError: ``statsd_url`` is not ``udp://host:port`` or statsd is missing.
    """
    url = settings.get("statsd_url") or ""
    if not url:
        return NoOpMetrics()
    parsed = urlparse(url)
    try:
        port = parsed.port or 8125
    except ValueError as error:
        raise ConfigurationError(
            f"Invalid setting statsd_url = {url!r}: {error}", key="statsd_url"
        ) from error
    if parsed.scheme != "udp" or not parsed.hostname:
        raise ConfigurationError(
            f"Invalid setting statsd_url = {url!r}: expected udp://host:port", key="statsd_url"
        )
    try:
        return StatsdMetrics(parsed.hostname, port, settings.get("statsd_prefix") or "")
    except ImportError as error:
        raise ConfigurationError(
            "Setting statsd_url needs the statsd package: pip install 'cliquetish[monitoring]'",
            key="statsd_url",
        ) from error


def get_metrics(registry: Registry) -> Metrics:
    """The IMetrics utility of ``registry`` (a no-op one when none is registered)."""
    return registry.queryUtility(IMetrics) or NoOpMetrics()


def _timed(method: Callable[..., Any], metrics: Metrics, name: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with metrics.timer(name):
            return method(*args, **kwargs)

    return wrapper


def watch_execution_time(obj: Any, prefix: str, metrics: Metrics) -> Any:
    """Time each public method of ``obj`` under ``<prefix>.<method>``; return ``obj``.

    The methods are wrapped on the instance itself. With metrics off, ``obj`` is left untouched.
    """
    if not metrics.enabled:
        return obj
    for name, method in inspect.getmembers(obj, inspect.ismethod):
        if not name.startswith("_"):
            setattr(obj, name, _timed(method, metrics, metric_name(prefix, name)))
    return obj


def includeme(config: Configurator) -> None:
    """Register the IMetrics utility now, so that backends loaded later can use it."""
    metrics = load_from_settings(config.get_settings())
    config.registry.registerUtility(metrics, IMetrics)
