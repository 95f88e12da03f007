"""The database connection of a request dies after its writes, before the commit.

The commit then fails in the zope transaction (outside any storage call): the client must get
503 errno 201 with ``Retry-After`` (not a 500), nothing of the request may be stored, and the
next request must succeed on a fresh connection.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import transaction
from pyramid.config import Configurator
from pyramid.request import Request

import cliquetish
from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import make_app
from tests.faults.conftest import create_database
from tests.hostile.demo_apps import ALICE, DEMO_SETTINGS
from tests.private_servers import PrivatePostgreSQL


def write_then_lose_connection(request: Request) -> dict[str, Any]:
    """Create a record, then have the server terminate this request's connection."""
    storage = request.storage
    storage.create("doomed", "tests", {"title": "written before the commit failed"})
    with storage.client.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    url = request.registry.settings["storage_url"]
    admin = psycopg2.connect(url)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()
    return {"written": True}


def app_factory(global_config: Any = None, **settings: Any) -> Any:
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan("cliquetish.demo")
    config.add_route("doomed", "/doomed")
    config.add_view(write_then_lose_connection, route_name="doomed", renderer="json")
    return config.make_wsgi_app()


def test_connection_lost_before_commit_is_503_and_writes_nothing(
    private_postgresql: PrivatePostgreSQL,
) -> None:
    url = create_database(private_postgresql, "commit_failure")
    app = make_app({**DEMO_SETTINGS, "storage_backend": "cliquetish.storage.postgresql",
                    "storage_url": url, "permission_backend": "cliquetish.permission.postgresql",
                    "permission_url": url}, app_factory=app_factory)
    registry = app.app.registry
    for marker in (IStorage, IPermission):
        registry.getUtility(marker).initialize_schema()
    storage = registry.getUtility(IStorage)

    response = app.post("/v1/doomed", headers=ALICE, expect_errors=True)

    assert response.status_int == 503, response.body
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"].isdigit()
    # The failed transaction stays on this thread until the next one begins (as the next
    # request's would): end it before reading outside any request.
    transaction.manager.abort()
    records, _ = storage.get_all("doomed", "tests", include_deleted=True)
    assert records == []
    created = app.post_json("/v1/articles", {"data": {"title": "next"}}, headers=ALICE,
                            status=201).json["data"]
    assert storage.get("article", "", created["id"])["title"] == "next"
