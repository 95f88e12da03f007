"""Versioned SQL schemas, applied idempotently.

A component (``storage``, ``permission``, ``cache``) keeps its schema as numbered files in a
folder: ``001_initial.sql``, ``002_<change>.sql``, ... The version applied is the row
``<component>_schema_version`` of the table ``metadata(name, value)``, shared by the
components living in one database. :func:`apply_migrations` applies the files numbered above
that version, in order, in one transaction under an advisory lock (two processes migrating at
once do it one after the other), and returns a line per action. Re-running it does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from cliquetish.storage.postgresql.client import PostgreSQLClient

__all__ = ["Migration", "apply_migrations", "current_version", "migrations_in"]

_FILE_NAME = re.compile(r"(\d{3})_[a-z0-9_]+\.sql")
_LOCK_ID = 0x636C6971  # one advisory lock for every schema change of cliquetish

METADATA_SQL = """
CREATE TABLE IF NOT EXISTS metadata (
    name text PRIMARY KEY,
    value text NOT NULL
)
"""


@dataclass(frozen=True)
class Migration:
    """One schema file: its version number, name and SQL."""

    version: int
    name: str
    sql: str


def migrations_in(folder: Path) -> list[Migration]:
    """The migrations of ``folder``, by version (file names ``NNN_words.sql``)."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise ValueError(f"Schema file {path} is not named NNN_words.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text("utf-8")))
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"Schema files of {folder} must be numbered 001, 002, ...: {versions}")
    return found


def _version_key(component: str) -> str:
    return f"{component}_schema_version"


def current_version(connection: sa.Connection, component: str) -> int:
    """The version of ``component`` in the database (0 when never installed)."""
    exists = connection.execute(sa.text("SELECT to_regclass('metadata') IS NOT NULL")).scalar()
    if not exists:
        return 0
    value = connection.execute(
        sa.text("SELECT value FROM metadata WHERE name = :name"),
        {"name": _version_key(component)},
    ).scalar()
    return int(value) if value is not None else 0


def apply_migrations(
    client: PostgreSQLClient, component: str, folder: Path, dry_run: bool = False
) -> list[str]:
    """Bring ``component``'s schema to the newest version of ``folder``; say what was done.

    With ``dry_run`` nothing changes and the lines say what would be done.
    """
    migrations = migrations_in(folder)
    newest = migrations[-1].version if migrations else 0
    lines: list[str] = []
    with client.connect(join_transaction=False) as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        version = current_version(connection, component)
        pending = [migration for migration in migrations if migration.version > version]
        if not pending:
            return [f"{component} schema is up to date (version {version})"]
        verb = "would apply" if dry_run else "applied"
        if not dry_run:
            connection.exec_driver_sql(METADATA_SQL)
        for migration in pending:
            if not dry_run:
                connection.exec_driver_sql(migration.sql)
            lines.append(f"{component} schema: {verb} {migration.name}")
        if not dry_run:
            connection.execute(
                sa.text(
                    "INSERT INTO metadata (name, value) VALUES (:name, :value)"
                    " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
                ),
                {"name": _version_key(component), "value": str(newest)},
            )
        lines.append(f"{component} schema {'would be' if dry_run else 'is'} at version {newest}"
                     f" (was {version})")
    return lines
