"""A backend that still accepts connections but never answers (its processes frozen with
SIGSTOP, as a server swapping to death or a half-dead host would).

``__heartbeat__`` must still answer 503 within ``heartbeat_timeout_seconds`` (its checks hang, the
view does not wait for them); with Redis, whose client has socket timeouts, requests get 503
errno 201 after about ``<kind>_pool_timeout_seconds`` instead of hanging; once the processes
continue (SIGCONT), the service answers again without a restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

from cliquetish.testing import make_app
from tests.faults.conftest import create_database
from tests.faults.serving import request, serving
from tests.hostile.demo_apps import ALICE, DEMO_SETTINGS
from tests.private_servers import PrivatePostgreSQL, PrivateRedis

HEARTBEAT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 2.0
MARGIN_SECONDS = 3.0


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """Stop the processes ``pids`` (ours: started by the fixtures) for the block."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def test_frozen_redis(private_redis: PrivateRedis) -> None:
    settings = {**DEMO_SETTINGS, "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT_SECONDS}
    for kind in ("storage", "permission", "cache"):
        settings[f"{kind}_backend"] = f"cliquetish.{kind}.redis"
        settings[f"{kind}_url"] = private_redis.url
        settings[f"{kind}_pool_timeout_seconds"] = SOCKET_TIMEOUT_SECONDS
    app = make_app(settings)
    with serving(app.app) as server:
        assert request(server.url, "POST", "/v1/articles", {"data": {}}, ALICE).status == 201
        assert private_redis.process is not None
        with frozen([private_redis.process.pid]):
            heartbeat = request(server.url, "GET", "/v1/__heartbeat__")
            assert heartbeat.status == 503, heartbeat.body
            assert heartbeat.elapsed < HEARTBEAT_TIMEOUT_SECONDS + MARGIN_SECONDS
            write = request(server.url, "POST", "/v1/articles", {"data": {}}, ALICE)
            assert write.status == 503 and write.errno == 201, write.body
            assert write.headers["retry-after"].isdigit()
            assert write.elapsed < 2 * SOCKET_TIMEOUT_SECONDS + MARGIN_SECONDS
            assert request(server.url, "GET", "/v1/__lbheartbeat__").status == 200
        after = request(server.url, "POST", "/v1/articles", {"data": {}}, ALICE)
        assert after.status == 201, after.body
        assert request(server.url, "GET", "/v1/__heartbeat__").status == 200


def test_frozen_postgresql_heartbeat(private_postgresql: PrivatePostgreSQL) -> None:
    url = create_database(private_postgresql, "frozen")
    app = make_app({**DEMO_SETTINGS, "storage_backend": "cliquetish.storage.postgresql",
                    "storage_url": url, "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT_SECONDS})
    postmaster = int((private_postgresql.data / "postmaster.pid").read_text().split()[0])
    with serving(app.app) as server:
        assert request(server.url, "GET", "/v1/__heartbeat__").status == 200
        with frozen([postmaster, *_children(postmaster)]):
            for _ in range(2):  # the second probe shares the check still hanging
                heartbeat = request(server.url, "GET", "/v1/__heartbeat__")
                assert heartbeat.status == 503, heartbeat.body
                assert heartbeat.json == {"storage": False, "cache": True,
                                          "permission": True}
                assert heartbeat.elapsed < HEARTBEAT_TIMEOUT_SECONDS + MARGIN_SECONDS
            assert request(server.url, "GET", "/v1/__lbheartbeat__").status == 200
        healthy = request(server.url, "GET", "/v1/__heartbeat__", timeout=30)
        for _ in range(20):
            if healthy.status == 200:
                break
            healthy = request(server.url, "GET", "/v1/__heartbeat__", timeout=30)
        assert healthy.status == 200, healthy.body
