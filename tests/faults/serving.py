"""A real waitress server on 127.0.0.1 in a thread, and small HTTP clients for it.

:class:`ThreadedServer` serves a WSGI application on a free port until :meth:`stop`.
:func:`request` sends one request with ``http.client`` and returns a :class:`Reply` (status,
headers, raw header block, JSON body); :func:`raw_request` writes bytes on a socket and returns
the raw answer, for tests that must see the response headers exactly as sent.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import waitress
from waitress.server import BaseWSGIServer


class ThreadedServer:
    """waitress serving ``app`` on 127.0.0.1 (a free port) from a background thread."""

    def __init__(self, app: Any, threads: int = 8) -> None:
        self.server: BaseWSGIServer = waitress.create_server(
            app, host="127.0.0.1", port=0, threads=threads, expose_tracebacks=False,
            channel_timeout=30, clear_untrusted_proxy_headers=True,
        )
        self.port: int = self.server.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="waitress-test", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self._stopping:
                raise

    def stop(self) -> None:
        """Close every channel, stop the worker threads and wait for the loop to end."""
        self._stopping = True
        for channel in list(self.server._map.values()):
            channel.handle_close()
        self.server.task_dispatcher.shutdown()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def serving(app: Any, threads: int = 8) -> Iterator[ThreadedServer]:
    """Serve ``app`` for the duration of the block."""
    server = ThreadedServer(app, threads)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Reply:
    """One HTTP answer as the client saw it."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def json(self) -> Any:
        """The body decoded as JSON (None when empty or not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def errno(self) -> int | None:
        """The errno of a JSON error body."""
        body = self.json
        return body.get("errno") if isinstance(body, dict) else None


def request(
    server_url: str,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    connection: http.client.HTTPConnection | None = None,
) -> Reply:
    """Send one request (``body`` is JSON-encoded unless bytes) and read the whole answer.

    :raises OSError: the connection failed or timed out.
    """
    payload = body if isinstance(body, bytes | type(None)) else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    own = connection is None
    if connection is None:
        host = server_url.split("//", 1)[1]
        connection = http.client.HTTPConnection(host, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        if own:
            connection.close()
    return Reply(
        status=response.status,
        headers={name.lower(): value for name, value in response.getheaders()},
        body=data,
        elapsed=time.monotonic() - started,
        raw_headers=response.getheaders(),
    )


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Write ``data`` to 127.0.0.1:``port`` and return every byte answered (until close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)
