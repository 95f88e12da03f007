"""Start and stop one gunicorn server; sample the memory of its workers from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path


def port_is_open(port: int) -> bool:
    """True when something accepts connections on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid``."""
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    if children_file.exists():
        return [int(child) for child in children_file.read_text().split()]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


class GunicornServer:
    """A gunicorn master started by the harness, stopped by its own process id."""

    def __init__(self, command: list[str], port: int, cwd: Path, env: dict[str, str],
                 log_path: Path) -> None:
        self.command = command
        self.port = port
        self.cwd = cwd
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout_seconds: float = 60.0) -> None:
        """Start the server and wait until its port accepts connections and workers are up."""
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use: stop that server first")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env,
                                        stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; "
                                   f"see {self.log_path}:\n{self.log_tail()}")
            if port_is_open(self.port) and len(self.worker_pids()) >= 1:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start in {timeout_seconds} s; see {self.log_path}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """Process ids of the gunicorn workers."""
        return children_of(self.process.pid) if self.process else []

    def workers_rss_kib(self) -> int:
        """Sum of the workers' resident set sizes, in KiB."""
        return sum(rss_kib(pid) for pid in self.worker_pids())

    def stop(self, timeout_seconds: float = 15.0) -> None:
        """Ask the master to stop (SIGTERM), then kill it and its workers by id if it lingers."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        workers = self.worker_pids()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            for pid in [self.process.pid, *workers]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            self.process.wait(5)
        self.process = None


class RssSampler:
    """Samples the workers' total RSS in a thread; ``peak_mib`` once stopped."""

    def __init__(self, server: GunicornServer, interval_seconds: float = 0.1) -> None:
        self.server = server
        self.interval_seconds = interval_seconds
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self.server.workers_rss_kib())
            self._stop.wait(self.interval_seconds)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self.server.workers_rss_kib())

    @property
    def peak_mib(self) -> float:
        """Peak RSS over the workers, in MiB."""
        return self.peak_kib / 1024


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_snapshot(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each process."""
    return {pid: cpu_seconds(pid) for pid in pids}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots (processes born meanwhile count in full)."""
    return sum(max(0.0, spent - before.get(pid, 0.0)) for pid, spent in after.items())
