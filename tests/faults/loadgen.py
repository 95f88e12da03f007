"""A small, bounded load of mixed reads and writes on the demo, recording every answer.

:class:`Load` runs a few client threads against a :class:`~tests.faults.serving.ThreadedServer`.
Each thread loops over: create an article, list articles, read the record it created last, until
the load is stopped or reaches ``max_requests``. Every answer is kept as an :class:`Outcome`
labelled with the phase the test was in when the request started (``before``, ``during``,
``after``...), and every create answered 2xx adds its id to :attr:`Load.acknowledged`.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.faults.serving import Reply, request

WRITE, LIST, READ = "POST /articles", "GET /articles", "GET /articles/{id}"


@dataclass(frozen=True)
class Outcome:
    """One request as the client saw it (``status`` 0: the connection itself failed)."""

    phase: str
    action: str
    status: int
    errno: int | None
    retry_after: str | None
    elapsed: float


class Load:
    """``clients`` threads sending mixed requests with ``headers`` until :meth:`stop`."""

    def __init__(self, server_url: str, headers: dict[str, str], clients: int = 4,
                 max_requests: int = 20_000, timeout: float = 20.0) -> None:
        self.server_url = server_url
        self.headers = headers
        self.timeout = timeout
        self.phase = "before"
        self.outcomes: list[Outcome] = []
        self.acknowledged: set[str] = set()
        self._budget = itertools.count()
        self._max_requests = max_requests
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, name=f"load-{index}", daemon=True)
                         for index in range(clients)]

    def start(self) -> Load:
        """Start the client threads."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop the clients and wait for their last requests."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        assert not any(thread.is_alive() for thread in self._threads), "a client is stuck"

    def _connection(self) -> http.client.HTTPConnection:
        host = self.server_url.split("//", 1)[1]
        return http.client.HTTPConnection(host, timeout=self.timeout)

    def _send(self, connection: http.client.HTTPConnection, action: str, method: str,
              path: str, body: Any = None) -> Reply | None:
        phase = self.phase
        started = time.monotonic()
        try:
            reply = request(self.server_url, method, path, body, self.headers,
                            connection=connection)
        except (OSError, http.client.HTTPException):
            connection.close()
            self._record(Outcome(phase, action, 0, None, None, time.monotonic() - started))
            return None
        self._record(Outcome(phase, action, reply.status, reply.errno,
                             reply.headers.get("retry-after"), reply.elapsed))
        return reply

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _client(self) -> None:
        connection = self._connection()
        last_id: str | None = None
        number = 0
        while not self._stop.is_set() and next(self._budget) < self._max_requests:
            number += 1
            reply = self._send(connection, WRITE, "POST", "/v1/articles",
                               {"data": {"n": number, "thread": threading.current_thread().name}})
            if reply is not None and 200 <= reply.status < 300:
                last_id = reply.json["data"]["id"]
                with self._lock:
                    self.acknowledged.add(last_id)
            self._send(connection, LIST, "GET", "/v1/articles?_limit=5")
            if last_id is not None:
                self._send(connection, READ, "GET", f"/v1/articles/{last_id}")
        connection.close()

    def in_phase(self, phase: str) -> list[Outcome]:
        """The outcomes of requests started during ``phase``."""
        with self._lock:
            return [outcome for outcome in self.outcomes if outcome.phase == phase]

    def successes_since(self, count: int) -> int:
        """How many 2xx writes happened after the first ``count`` outcomes."""
        with self._lock:
            recent = self.outcomes[count:]
        return sum(1 for o in recent if o.action == WRITE and 200 <= o.status < 300)

    def summary(self) -> dict[str, dict[int, int]]:
        """``{phase: {status: count}}``."""
        table: dict[str, dict[int, int]] = {}
        with self._lock:
            for outcome in self.outcomes:
                statuses = table.setdefault(outcome.phase, {})
                statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        return table
