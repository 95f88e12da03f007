"""Redis (storage, permissions and cache) stopped under load, then started again.

Same protocol as the PostgreSQL outage: 2xx or 503 errno 201 with ``Retry-After`` while Redis is
down, ``__heartbeat__`` 503 within its timeout, service back without restarting the application,
every create answered 2xx still stored (the private Redis syncs its append-only file at every
write, as a production Redis used as a storage must).
"""

from __future__ import annotations

from cliquetish.interfaces import IStorage
from cliquetish.testing import make_app
from tests.faults.scenario import check_outage, run_outage
from tests.hostile.demo_apps import ALICE, DEMO_SETTINGS
from tests.private_servers import PrivateRedis

HEARTBEAT_TIMEOUT_SECONDS = 3.0


def test_redis_outage_under_load(private_redis: PrivateRedis) -> None:
    url = private_redis.url
    settings = {**DEMO_SETTINGS, "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT_SECONDS}
    for kind in ("storage", "permission", "cache"):
        settings[f"{kind}_backend"] = f"cliquetish.{kind}.redis"
        settings[f"{kind}_url"] = url
        settings[f"{kind}_pool_timeout_seconds"] = 2
    app = make_app(settings)
    storage = app.app.registry.getUtility(IStorage)

    report = run_outage(app.app, ALICE, private_redis.stop, private_redis.start)

    print("Redis outage:", report.load.summary(), "acknowledged:",
          len(report.load.acknowledged), "recovery s:", round(report.recovery_seconds, 2),
          "heartbeat s:", round(report.heartbeat_during.elapsed, 2))
    check_outage(report, HEARTBEAT_TIMEOUT_SECONDS)
    stored, _ = storage.get_all("article", "")
    stored_ids = {record["id"] for record in stored}
    missing = report.load.acknowledged - stored_ids
    assert not missing, f"{len(missing)} of {len(report.load.acknowledged)} acknowledged lost"
    assert len(report.load.acknowledged) >= 10, report.load.summary()
