"""Run wrk with bench/wrk/workload.lua and turn its report into figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).parent / "wrk" / "workload.lua"


@dataclass
class LoadSpec:
    """What wrk sends: one method and path (``{id}`` picked from ``ids_file``), maybe a body."""

    method: str
    path: str
    ok_status: int
    body: str = ""
    auth: str = ""
    ids_file: Path | None = None


@dataclass
class LoadResult:
    """Figures of one wrk run (latencies over every answer, in milliseconds)."""

    duration_seconds: float
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    ok_status: int
    peak_rss_mib: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        """Answers received, whatever their status."""
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        """Answers with the expected status."""
        return self.statuses.get(self.ok_status, 0)

    @property
    def attempts(self) -> int:
        """Answers plus socket errors."""
        return self.answered + sum(self.socket_errors.values())

    @property
    def ok_per_second(self) -> float:
        """Expected answers per second."""
        return self.ok / self.duration_seconds if self.duration_seconds else 0.0

    @property
    def error_percent(self) -> float:
        """Share of attempts that did not get the expected answer."""
        return 100.0 * (self.attempts - self.ok) / self.attempts if self.attempts else 100.0

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly figures."""
        return {
            "ok_per_second": round(self.ok_per_second, 1),
            "error_percent": round(self.error_percent, 2),
            "p50_ms": self.p50_ms, "p90_ms": self.p90_ms, "p99_ms": self.p99_ms,
            "max_ms": self.max_ms, "peak_rss_mib": round(self.peak_rss_mib, 1),
            "statuses": {str(code): count for code, count in sorted(self.statuses.items())},
            "socket_errors": self.socket_errors, "answered": self.answered,
            "duration_seconds": round(self.duration_seconds, 2), **self.extra,
        }


def wrk_binary() -> str:
    """Path of wrk, or a clear error."""
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    return found


def run_wrk(port: int, spec: LoadSpec, duration_seconds: float, connections: int,
            threads: int, max_requests: int) -> LoadResult:
    """Run one bounded wrk load against ``127.0.0.1:port`` and parse its report."""
    env = {
        **os.environ,
        "BENCH_METHOD": spec.method, "BENCH_PATH": spec.path, "BENCH_BODY": spec.body,
        "BENCH_AUTH": spec.auth, "BENCH_IDS_FILE": str(spec.ids_file or ""),
        "BENCH_MAX_REQUESTS": str(max_requests), "BENCH_THREADS": str(threads),
    }
    command = [
        wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{duration_seconds:g}s",
        "--timeout", "10s", "-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}",
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True,
                               timeout=duration_seconds + 60, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            report = json.loads(line[len("BENCH_JSON "):])
            break
    else:
        raise RuntimeError(f"wrk gave no report (exit {completed.returncode}):\n"
                           f"{completed.stdout}\n{completed.stderr}")
    latency = report["latency_us"]
    return LoadResult(
        duration_seconds=report["duration_us"] / 1e6,
        statuses={int(code): count for code, count in report["statuses"].items()},
        socket_errors=report["socket_errors"],
        p50_ms=latency["p50"] / 1000, p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000, max_ms=latency["max"] / 1000,
        ok_status=spec.ok_status,
    )
