"""Private PostgreSQL and Redis servers that a test may stop and start.

Fault tests must never touch the machine's shared servers: they start their own, on a free port
and in a temporary folder, with :class:`PrivatePostgreSQL` or :class:`PrivateRedis`::

    server = PrivateRedis()
    server.start()
    self.addCleanup(server.destroy)
    ... server.url ...
    server.stop()    # the backend now meets a dead server
    server.start()   # same port, same data folder

PostgreSQL is initialised with ``initdb`` (as the ``postgres`` OS user when running as root)
and run with ``pg_ctl``; Redis runs ``redis-server`` with persistence off. When the binaries are
missing, :func:`require_binaries` skips the test (and fails it in CI).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

__all__ = ["PrivatePostgreSQL", "PrivateRedis", "free_port", "require_binaries"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_until(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)


def _postgresql_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def require_binaries(*names: str) -> None:
    """Skip (fail in CI) unless the server binaries ``names`` are installed."""
    missing = [name for name in names
               if name == "pg_ctl" and _postgresql_bin() is None
               or name != "pg_ctl" and shutil.which(name) is None]
    if not missing:
        return
    message = f"missing server binaries: {', '.join(missing)}"
    if os.environ.get("CI") == "true":
        raise AssertionError(message)
    raise unittest.SkipTest(message)


class PrivatePostgreSQL:
    """A throw-away PostgreSQL cluster on a free port (trust authentication, no fsync)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cliquetish-pg-"))
        self.data = self.folder / "data"
        self.bin = _postgresql_bin()
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        """URL of the ``postgres`` database of the cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def _initdb(self) -> None:
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")

    def start(self) -> None:
        """Start the server (creating the cluster the first time); wait until it accepts."""
        if not self.data.exists():
            self._initdb()
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
                   " -c fsync=off -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.folder / "server.log"), "-o", options, "-w", "start")
        _wait_until(lambda: _listening(self.port), "PostgreSQL start")

    def stop(self) -> None:
        """Stop the server (``fast`` mode: clients cut, data kept); wait for the port to close."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                  "stop")
        _wait_until(lambda: not _listening(self.port), "PostgreSQL stop")

    def destroy(self) -> None:
        """Stop the server if it runs and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A throw-away ``redis-server`` on a free port, without persistence (``persistent=True``:
    an append-only file synced at every write, so a restart keeps every acknowledged write)."""

    def __init__(self, persistent: bool = False) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cliquetish-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent \
            else ["--appendonly", "no"]

    @property
    def url(self) -> str:
        """URL of database 0 of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             *self.persistence, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_until(lambda: _listening(self.port), "Redis start")

    def stop(self) -> None:
        """Stop the server and wait until it is gone."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
        _wait_until(lambda: not _listening(self.port), "Redis stop")

    def destroy(self) -> None:
        """Stop the server if it runs and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
