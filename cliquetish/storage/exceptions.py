"""Exceptions raised by storage (and cache and permission) backends.

The exception views map them to HTTP answers: :class:`BackendError` → 503 errno 201 with
``Retry-After``; :class:`UnicityError` → 409 errno 122; :class:`RecordNotFoundError` → 404
errno 110/111; :class:`ReadonlyError` → 405 errno 115.
"""

from __future__ import annotations

from typing import Any

from cliquetish.errors import CliquetishError

__all__ = [
    "BackendError",
    "ModifiedMeanwhileError",
    "ReadonlyError",
    "RecordNotFoundError",
    "StorageError",
    "UnicityError",
]


class StorageError(CliquetishError):
    """Root of the storage exceptions."""


class BackendError(StorageError):
    """The server behind a backend failed or could not be reached (wraps the original)."""

    def __init__(self, original: BaseException | None = None, message: str | None = None) -> None:
        self.original = original
        if message is None:
            message = f"{type(original).__name__}: {original}" if original else "Backend error"
        super().__init__(message)


class RecordNotFoundError(StorageError):
    """No live record has this id."""


class UnicityError(StorageError):
    """A record with the same value of a unique field exists; ``record`` is that one."""

    def __init__(self, field: str, record: dict[str, Any]) -> None:
        self.field = field
        self.record = record
        super().__init__(f"Record {record.get('id')} has {field} already")


class ModifiedMeanwhileError(StorageError):
    """A conditional write (``expected_last_modified``) found the record changed or gone;
    ``record`` is the current live record, or None."""

    def __init__(self, record: dict[str, Any] | None) -> None:
        self.record = record
        super().__init__("The record was modified meanwhile" if record else "No live record")


class ReadonlyError(StorageError):
    """The backend is read-only."""
