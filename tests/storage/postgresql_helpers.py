"""Helpers of the PostgreSQL storage tests that create indexes and read statistics."""

from __future__ import annotations

from pyramid.config import Configurator

from cliquetish.storage.postgresql import PostgreSQLStorage, load_from_config


def new_storage(url: str) -> PostgreSQLStorage:
    """A storage of ``url`` with its schema, that has not read the server's indexes yet."""
    storage: PostgreSQLStorage = load_from_config(Configurator(settings={"storage_url": url}))
    storage.initialize_schema()
    return storage


def run_sql(storage: PostgreSQLStorage, statement: str) -> None:
    """Run ``statement`` (DDL, ``ANALYZE``...) on the storage's database and commit it."""
    with storage.client.connect() as connection:
        connection.exec_driver_sql(statement)
        connection.commit()
