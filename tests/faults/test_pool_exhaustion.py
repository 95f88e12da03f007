"""An exhausted connection pool fails fast instead of queueing forever.

The pool has one connection (``pool_size = 1``, ``max_overflow = 0``, one second of
``pool_timeout_seconds``) and the test holds it. Concurrent requests that need the database get
503 errno 201 with ``Retry-After`` after about the pool timeout (the client gives up far later,
so a request queueing forever fails the test), endpoints that need no database keep answering,
``__heartbeat__`` says 503, and once the connection is released the service writes again.
"""

from __future__ import annotations

import threading

from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import make_app
from tests.faults.conftest import create_database
from tests.faults.serving import Reply, request, serving
from tests.hostile.demo_apps import ALICE, DEMO_SETTINGS
from tests.private_servers import PrivatePostgreSQL

POOL_TIMEOUT_SECONDS = 1.0
CLIENT_TIMEOUT_SECONDS = 20.0
"""Far beyond the pool timeout: a request that queued forever would end here."""
FAST_ENOUGH_SECONDS = POOL_TIMEOUT_SECONDS + 5.0


def _concurrently(url: str, count: int) -> list[Reply]:
    replies: list[Reply] = []
    lock = threading.Lock()

    def create(index: int) -> None:
        reply = request(url, "POST", "/v1/articles", {"data": {"n": index}}, ALICE,
                        timeout=CLIENT_TIMEOUT_SECONDS)
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=create, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CLIENT_TIMEOUT_SECONDS + 5)
    assert len(replies) == count, "a request never came back"
    return replies


def test_exhausted_pool_fails_fast(private_postgresql: PrivatePostgreSQL) -> None:
    url = create_database(private_postgresql, "pool_exhaustion")
    app = make_app({
        **DEMO_SETTINGS,
        "storage_backend": "cliquetish.storage.postgresql", "storage_url": url,
        "permission_backend": "cliquetish.permission.postgresql", "permission_url": url,
        "storage_pool_size": 1, "storage_max_overflow": 0,
        "storage_pool_timeout_seconds": POOL_TIMEOUT_SECONDS,
        "heartbeat_timeout_seconds": 3,
    })
    registry = app.app.registry
    storage = registry.getUtility(IStorage)
    for marker in (IStorage, IPermission):
        registry.getUtility(marker).initialize_schema()
    pool = storage.client.engine.pool
    assert (pool.size(), pool.checkedout()) == (1, 0)

    with serving(app.app) as server:
        first = request(server.url, "POST", "/v1/articles", {"data": {"n": -1}}, ALICE)
        assert first.status == 201, first.body
        held = storage.client.engine.connect()
        try:
            assert pool.checkedout() == 1
            replies = _concurrently(server.url, 4)
            for reply in replies:
                assert reply.status == 503, reply.body
                assert reply.errno == 201
                assert reply.headers["retry-after"].isdigit()
                assert reply.elapsed < FAST_ENOUGH_SECONDS, reply.elapsed
            lb = request(server.url, "GET", "/v1/__lbheartbeat__")
            assert lb.status == 200
            heartbeat = request(server.url, "GET", "/v1/__heartbeat__")
            assert heartbeat.status == 503 and heartbeat.json["storage"] is False
            assert heartbeat.elapsed < FAST_ENOUGH_SECONDS
        finally:
            held.close()
        assert pool.checkedout() == 0
        after = request(server.url, "POST", "/v1/articles", {"data": {"n": 99}}, ALICE)
        assert after.status == 201, after.body
        heartbeat = request(server.url, "GET", "/v1/__heartbeat__")
        assert heartbeat.status == 200, heartbeat.body
    assert pool.checkedout() == 0
    stored, _ = storage.get_all("article", "")
    assert sorted(record["n"] for record in stored) == [-1, 99]
