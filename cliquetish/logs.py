"""Log formatting: the request id on every line, classic text and JSON (mozlog) formatters.

The request id of the request being served lives in a context variable set by the request id
tween (:mod:`cliquetish.tweens.request_id`). :class:`RequestIdFilter` copies it onto each log
record as ``record.rid``; both formatters print it, reading the context variable themselves when
no filter ran. Choose a formatter in the ``[formatter_*]`` sections of an ini file::

    [formatter_classic]
    class = cliquetish.logs.ClassicFormatter

    [formatter_json]
    class = cliquetish.logs.JsonFormatter

Structured events (such as ``request.summary``) carry their fields in ``extra={"fields": {...}}``:
the classic formatter prints them as ``key=value`` pairs, the JSON one under ``Fields``.
"""

from __future__ import annotations

import logging
import os
import socket
from contextvars import ContextVar
from typing import Any

import orjson

__all__ = [
    "ClassicFormatter",
    "JsonFormatter",
    "RequestIdFilter",
    "current_request_id",
    "install_request_id_filter",
    "request_id_var",
]

request_id_var: ContextVar[str | None] = ContextVar("cliquetish_request_id", default=None)
"""The id of the request being served in this thread (None outside a request)."""


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Put the current request id on every record as ``rid`` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "rid", None) is None:
            record.rid = request_id_var.get()
        return True


def install_request_id_filter(logger: logging.Logger | None = None) -> None:
    """Add a :class:`RequestIdFilter` to each handler of ``logger`` (the root by default).

    Handlers that already have one are left alone, so calling this again is harmless.
    """
    logger = logger if logger is not None else logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())


def _record_rid(record: logging.LogRecord) -> str | None:
    rid = getattr(record, "rid", None)
    return rid if rid is not None else request_id_var.get()


_PLAIN_UNSAFE = frozenset(' "=')


def _classic_value(value: Any) -> str:
    """A value for ``key=value``: as is when plain, JSON-quoted when it has spaces or controls.

    Quoting escapes line breaks, so a hostile path cannot forge a log line.
    """
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    if text and text.isprintable() and _PLAIN_UNSAFE.isdisjoint(text):
        return text
    return orjson.dumps(text).decode()


class ClassicFormatter(logging.Formatter):
    """One readable line per record: ``time LEVEL [logger][rid] message key=value ...``."""

    default_format = "%(asctime)s %(levelname)-5.5s [%(name)s][%(rid)s] %(message)s"

    def __init__(
        self, fmt: str | None = None, datefmt: str | None = None, style: str = "%", **kwargs: Any
    ) -> None:
        super().__init__(fmt or self.default_format, datefmt, style, **kwargs)  # type: ignore[arg-type]

    def format(self, record: logging.LogRecord) -> str:
        had_rid = "rid" in record.__dict__
        saved = record.__dict__.get("rid")
        rid = _record_rid(record)
        record.rid = rid if rid is not None else "-"
        try:
            line = super().format(record)
        finally:  # other handlers see the record as it was
            if had_rid:
                record.rid = saved
            else:
                del record.rid
        fields = getattr(record, "fields", None)
        if fields:
            pairs = " ".join(f"{key}={_classic_value(value)}" for key, value in fields.items())
            first, newline, rest = line.partition("\n")
            line = f"{first} {pairs}{newline}{rest}"
        return line


# Syslog severities, as mozlog uses them.
_SEVERITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, in the mozlog shape.

    ``{"Timestamp", "Type", "Logger", "Hostname", "EnvVersion", "Severity", "Pid", "Fields"}``:
    ``Timestamp`` in nanoseconds, ``Type`` the event name (the message of a structured record,
    ``log`` otherwise), ``Logger`` the logger name, ``Fields`` the event's fields plus ``msg``
    for plain records, ``rid`` and the formatted exception under ``error``.
    """

    env_version = "2.0"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hostname = socket.gethostname()
        self.pid = os.getpid()

    def format(self, record: logging.LogRecord) -> str:
        structured = getattr(record, "fields", None)
        fields: dict[str, Any] = dict(structured) if structured else {}
        if structured:
            event = record.getMessage()
        else:
            event = "log"
            fields["msg"] = record.getMessage()
        rid = _record_rid(record)
        if rid is not None:
            fields.setdefault("rid", rid)
        if record.exc_info:
            fields["error"] = self.formatException(record.exc_info)
        document = {
            "Timestamp": int(record.created * 1_000_000_000),
            "Type": event,
            "Logger": record.name,
            "Hostname": self.hostname,
            "EnvVersion": self.env_version,
            "Severity": _SEVERITIES.get(record.levelno, 6),
            "Pid": self.pid,
            "Fields": fields,
        }
        return orjson.dumps(document, default=str).decode()
