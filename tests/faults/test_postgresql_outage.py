"""PostgreSQL (storage and permissions) stopped under load, then started again.

The demo runs on a private cluster, served by waitress, under a few client threads writing and
reading articles. While the server is down every answer is 2xx or 503 errno 201 with
``Retry-After`` (never 500), ``__heartbeat__`` answers 503 within its timeout; once the server is
back the same application serves again; every create answered 2xx (before, during or after) is
in the database; the database password appears in no log line.
"""

from __future__ import annotations

import logging

import pytest

from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import make_app
from tests.faults.conftest import DATABASE_PASSWORD, create_database
from tests.faults.scenario import check_outage, run_outage
from tests.hostile.demo_apps import ALICE, DEMO_SETTINGS
from tests.private_servers import PrivatePostgreSQL

HEARTBEAT_TIMEOUT_SECONDS = 3.0


def test_postgresql_outage_under_load(private_postgresql: PrivatePostgreSQL,
                                      caplog: pytest.LogCaptureFixture) -> None:
    url = create_database(private_postgresql, "outage")
    app = make_app({
        **DEMO_SETTINGS,
        "storage_backend": "cliquetish.storage.postgresql", "storage_url": url,
        "permission_backend": "cliquetish.permission.postgresql", "permission_url": url,
        "storage_pool_timeout_seconds": 2, "permission_pool_timeout_seconds": 2,
        "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT_SECONDS,
    })
    registry = app.app.registry
    storage = registry.getUtility(IStorage)
    for marker in (IStorage, IPermission):
        registry.getUtility(marker).initialize_schema()

    with caplog.at_level(logging.INFO):
        report = run_outage(app.app, ALICE, private_postgresql.stop, private_postgresql.start)

    print("PostgreSQL outage:", report.load.summary(), "acknowledged:",
          len(report.load.acknowledged), "recovery s:", round(report.recovery_seconds, 2),
          "heartbeat s:", round(report.heartbeat_during.elapsed, 2))
    check_outage(report, HEARTBEAT_TIMEOUT_SECONDS)
    stored, _ = storage.get_all("article", "")
    stored_ids = {record["id"] for record in stored}
    missing = report.load.acknowledged - stored_ids
    assert not missing, f"{len(missing)} of {len(report.load.acknowledged)} acknowledged lost"
    assert len(report.load.acknowledged) >= 10, report.load.summary()
    assert any("Backend error" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + str(record.exc_info[1] if record.exc_info else "")
        assert DATABASE_PASSWORD not in text, record.name
