"""Soak test: mixed reads and writes on the demo (PostgreSQL) for a long time, then the checks.

    python bench/soak.py [--duration 600] [--connections 16] [--server gunicorn|waitress]

Starts the demo (storage, permission and cache on PostgreSQL, database ``cliquetish_soak``,
dropped and created again, with the index on ``rank`` of docs/backends.rst unless
``--no-sort-index``) under gunicorn (``--workers`` gthread workers of ``--threads``
threads) or waitress (``--threads`` threads), on 127.0.0.1, configured through ``CLIQUETISH_*``
environment variables. ``--connections`` client threads then send a mix of creates, lists,
filtered and ``_since`` lists, reads, patches, deletes and heartbeats, as several users, until
``--duration`` seconds (or ``--max-requests`` answers) have passed. Every ``--report-every``
seconds a progress line is printed.

At the end: the count of 5xx answers and socket errors, the server's RSS (summed over the
workers) once warmed up (after ``--warmup`` seconds) and at the end with the growth in percent,
and the connections the server holds in ``pg_stat_activity`` (by state) during and after the
load. When the server's autovacuum is off, the script runs ``VACUUM ANALYZE`` every 30
seconds in its place (without statistics the planner picks plans whose cost grows with the
collection, and without vacuuming the indexes fill with entries of dead rows).
The run passes (exit 0) with no 5xx, no socket error, an RSS growth under
``--max-rss-growth`` percent and no connection left busy or idle in a transaction once the load
stopped; the figures are saved as JSON in ``bench/results/``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from server import children_of, port_is_open, rss_kib

from cliquetish.storage.postgresql.queries import sort_index_statement

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATABASE = "cliquetish_soak"
USERS = [f"soak{index}:password{index}" for index in range(8)]
ACTIONS = (  # (name, weight)
    ("create", 25), ("create_bookmark", 8), ("list", 15), ("list_filtered", 8),
    ("list_since", 6), ("read", 17), ("patch", 10), ("delete", 5), ("heartbeat", 3),
    ("batch", 3),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=30,
                        help="seconds after which the RSS of reference is taken")
    parser.add_argument("--connections", type=int, default=16, help="client connections")
    parser.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--pg", default="host=127.0.0.1 port=5432 user=postgres",
                        help="libpq DSN of the PostgreSQL server (without dbname)")
    parser.add_argument("--max-requests", type=int, default=5_000_000)
    parser.add_argument("--no-sort-index", action="store_true",
                        help="leave out the operator's index on rank (sorted lists then slow "
                             "down as the collection grows)")
    parser.add_argument("--max-rss-growth", type=float, default=10.0, help="percent")
    parser.add_argument("--report-every", type=float, default=30, help="seconds")
    return parser.parse_args(argv)


# Database and server ---------------------------------------------------------------------------

def admin(dsn: str, database: str = "postgres") -> Any:
    """An autocommit connection to ``database``."""
    connection = psycopg2.connect(f"{dsn} dbname={database}")
    connection.autocommit = True
    return connection


def recreate_database(dsn: str) -> None:
    """Drop and create the soak database (never any other)."""
    connection = admin(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        connection.close()


def server_environment(dsn: str) -> dict[str, str]:
    """The settings of the demo, as environment variables."""
    parts = dict(item.split("=", 1) for item in dsn.split())
    url = (f"postgresql://{parts.get('user', 'postgres')}@{parts.get('host', '127.0.0.1')}:"
           f"{parts.get('port', '5432')}/{DATABASE}")
    env = {**os.environ, "CLIQUETISH_USERID_HMAC_SECRET": "soak-secret",
           "CLIQUETISH_ARTICLE_CREATE_PRINCIPALS": "system.Authenticated"}
    for kind in ("storage", "permission", "cache"):
        env[f"CLIQUETISH_{kind.upper()}_BACKEND"] = f"cliquetish.{kind}.postgresql"
        env[f"CLIQUETISH_{kind.upper()}_URL"] = url
    return env


def migrate(env: dict[str, str], dsn: str, sort_index: bool) -> None:
    """Create the schemas, in a child process configured like the server; then the index on
    ``rank`` that docs/backends.rst tells operators to create for sorted listings."""
    code = ("from cliquetish.demo import main\n"
            "from cliquetish.interfaces import ICache, IPermission, IStorage\n"
            "registry = main({}).registry\n"
            "for marker in (IStorage, IPermission, ICache):\n"
            "    registry.getUtility(marker).initialize_schema()\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    if sort_index:
        connection = admin(dsn, DATABASE)
        try:
            with connection.cursor() as cursor:
                # the filtered listing sorts on rank, ascending
                cursor.execute(sort_index_statement("rank", "records_rank_sort_idx", 1))
        finally:
            connection.close()


def server_command(args: argparse.Namespace) -> list[str]:
    """gunicorn (gthread workers) or waitress, serving the demo's factory."""
    if args.server == "waitress":
        return [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{args.port}",
                f"--threads={args.threads}", "--call", "cliquetish.demo:main"]
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{args.port}",
            "--workers", str(args.workers), "--worker-class", "gthread",
            "--threads", str(args.threads), "--log-level", "warning", "cliquetish.demo:main()"]


@dataclass
class Server:
    """The server process; its RSS summed over the workers (or itself, for waitress)."""

    process: subprocess.Popen

    def pids(self) -> list[int]:
        return children_of(self.process.pid) or [self.process.pid]

    def rss_mib(self) -> float:
        return sum(rss_kib(pid) for pid in self.pids()) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(args: argparse.Namespace, env: dict[str, str], log_path: Path) -> Server:
    """Start the server and wait until it answers."""
    if port_is_open(args.port):
        raise SystemExit(f"port {args.port} is in use: choose another with --port")
    with log_path.open("ab") as log:
        process = subprocess.Popen(server_command(args), env=env, stdout=log, stderr=log,
                                   start_new_session=True)
    server = Server(process)
    deadline = time.monotonic() + 60
    while not port_is_open(args.port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"the server did not start; see {log_path}")
        time.sleep(0.2)
    return server


def autovacuum_is_on(dsn: str) -> bool:
    """Whether the server analyzes growing tables by itself."""
    connection = admin(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            return cursor.fetchone()[0] == "on"
    finally:
        connection.close()


def analyze(dsn: str) -> None:
    """``VACUUM ANALYZE`` the soak database, as autovacuum would."""
    connection = admin(dsn, DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def pg_connections(dsn: str) -> dict[str, int]:
    """Connections of the server to the soak database, by state."""
    connection = admin(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity"
                           " WHERE datname = %s AND application_name = 'cliquetish'"
                           " GROUP BY 1", (DATABASE,))
            return {state: count for state, count in cursor.fetchall()}
    finally:
        connection.close()


# Load -----------------------------------------------------------------------------------------

@dataclass
class Tally:
    """Answers of every client, shared."""

    statuses: Counter = field(default_factory=Counter)
    by_action: Counter = field(default_factory=Counter)
    seconds_by_action: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    socket_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, status: int, body: bytes, seconds: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.by_action[(action, status)] += 1
            self.seconds_by_action[action] += seconds
            if status >= 500 and len(self.server_errors) < 20:
                self.server_errors.append(f"{action} {status} {body[:200]!r}")

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + self.socket_errors

    def snapshot(self) -> tuple[Counter, Counter]:
        """Answers and seconds spent, per action, so far."""
        with self.lock:
            counts: Counter = Counter()
            for (action, _), count in self.by_action.items():
                counts[action] += count
            return counts, Counter(self.seconds_by_action)

    def mean_ms(self, since: tuple[Counter, Counter] | None = None) -> dict[str, float]:
        """Mean latency of each action in milliseconds (since a :meth:`snapshot`)."""
        counts, seconds = self.snapshot()
        if since is not None:
            counts, seconds = counts - since[0], seconds - since[1]
        return {action: round(seconds[action] / count * 1000, 1)
                for action, count in sorted(counts.items()) if count}


class Client(threading.Thread):
    """One connection sending the weighted mix of :data:`ACTIONS` until told to stop."""

    def __init__(self, port: int, number: int, tally: Tally, stop: threading.Event,
                 max_requests: int) -> None:
        super().__init__(name=f"soak-client-{number}", daemon=True)
        self.port, self.tally, self.stop_event = port, tally, stop
        self.max_requests = max_requests
        self.random = random.Random(number)  # noqa: S311 - load mix, not security
        user = USERS[number % len(USERS)]
        self.auth = "Basic " + base64.b64encode(user.encode()).decode()
        self.ids: deque[str] = deque(maxlen=500)
        self.since = 0
        self.connection: http.client.HTTPConnection | None = None

    def send(self, action: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": self.auth, "Content-Type": "application/json"}
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            with self.tally.lock:
                self.tally.socket_errors += 1
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            return None
        self.tally.add(action, response.status, raw, time.perf_counter() - started)
        return json.loads(raw) if raw and response.status < 300 else None

    def step(self) -> None:
        names, weights = zip(*ACTIONS, strict=True)
        action = self.random.choices(names, weights)[0]
        record = self.random.choice(self.ids) if self.ids else None
        rank = self.random.randint(0, 1000)
        if action == "create" or (record is None and action in ("read", "patch", "delete")):
            answer = self.send("create", "POST", "/v1/articles",
                               {"data": {"title": f"t{rank}", "rank": rank, "tags": ["soak"]}})
            if answer:
                self.ids.append(answer["data"]["id"])
                self.since = self.since or answer["data"]["last_modified"]
        elif action == "create_bookmark":
            self.send(action, "POST", "/v1/bookmarks",
                      {"data": {"url": f"https://example.org/{rank}", "title": "b"}})
        elif action == "list":
            self.send(action, "GET", "/v1/articles?_limit=20&_sort=-last_modified")
        elif action == "list_filtered":
            self.send(action, "GET", f"/v1/articles?min_rank={rank}&_limit=10&_sort=rank")
        elif action == "list_since":
            self.send(action, "GET", f"/v1/articles?_since={self.since}&_limit=50")
        elif action == "read":
            self.send(action, "GET", f"/v1/articles/{record}")
        elif action == "patch":
            self.send(action, "PATCH", f"/v1/articles/{record}", {"data": {"rank": rank}})
        elif action == "delete":
            self.ids.remove(record)
            self.send(action, "DELETE", f"/v1/articles/{record}")
        elif action == "heartbeat":
            self.send(action, "GET", "/v1/__heartbeat__")
        else:
            self.send(action, "POST", "/v1/batch", {"requests": [
                {"method": "POST", "path": "/articles", "body": {"data": {"rank": rank}}},
                {"method": "GET", "path": "/articles?_limit=5"}]})

    def run(self) -> None:
        while not self.stop_event.is_set() and self.tally.total < self.max_requests:
            self.step()
        if self.connection is not None:
            self.connection.close()


# Run ------------------------------------------------------------------------------------------

def progress(started: float, tally: Tally, server: Server, dsn: str,
             previous: dict[str, Any] | None) -> dict[str, Any]:
    """One line of figures (``per_s``: since the previous line), printed and returned."""
    elapsed = time.monotonic() - started
    before_t, before_n = (previous["t"], previous["answers"]) if previous else (0, 0)
    line = {"t": round(elapsed), "answers": tally.total,
            "per_s": round((tally.total - before_n) / max(elapsed - before_t, 1e-9)),
            "5xx": sum(n for s, n in tally.statuses.items() if s >= 500),
            "socket_errors": tally.socket_errors, "rss_mib": round(server.rss_mib(), 1),
            "pg": pg_connections(dsn),
            "ms": tally.mean_ms(previous.pop("_snapshot") if previous else None)}
    print(json.dumps(line), flush=True)
    line["_snapshot"] = tally.snapshot()
    return line


def run_load(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    """Drive the load; sample RSS and connections; return the figures."""
    tally, stop = Tally(), threading.Event()
    clients = [Client(args.port, n, tally, stop, args.max_requests)
               for n in range(args.connections)]
    figures: dict[str, Any] = {"rss_idle_mib": round(server.rss_mib(), 1), "samples": [],
                               "analyze_every_s": 0 if autovacuum_is_on(args.pg) else 30}
    started = time.monotonic()
    for client in clients:
        client.start()
    next_report, warmed = started + args.report_every, False
    next_analyze = started + 5 if figures["analyze_every_s"] else float("inf")
    while time.monotonic() - started < args.duration and tally.total < args.max_requests:
        time.sleep(0.5)
        if time.monotonic() >= next_analyze:
            analyze(args.pg)
            next_analyze += figures["analyze_every_s"]
        if not warmed and time.monotonic() - started >= args.warmup:
            figures["rss_warm_mib"], warmed = round(server.rss_mib(), 1), True
        if time.monotonic() >= next_report:
            previous = figures["samples"][-1] if figures["samples"] else None
            figures["samples"].append(progress(started, tally, server, args.pg, previous))
            next_report += args.report_every
    figures["rss_end_mib"] = round(server.rss_mib(), 1)
    if figures["samples"]:
        figures["samples"][-1].pop("_snapshot", None)
    stop.set()
    for client in clients:
        client.join(70)
    figures.setdefault("rss_warm_mib", figures["rss_idle_mib"])
    figures["elapsed_s"] = round(time.monotonic() - started, 1)
    figures["tally"] = tally
    return figures


def verdict(args: argparse.Namespace, figures: dict[str, Any], after: dict[str, int]
            ) -> dict[str, Any]:
    """The summary and whether the run passes."""
    tally: Tally = figures.pop("tally")
    warm, end = figures["rss_warm_mib"], figures["rss_end_mib"]
    growth = (end - warm) / warm * 100 if warm else 0.0
    peak = max((sum(s["pg"].values()) for s in figures["samples"]), default=0)
    summary = {
        "server": args.server, "connections": args.connections, "duration_s": args.duration,
        "sort_index": not args.no_sort_index,
        "answers": tally.total, "per_s": round(tally.total / figures["elapsed_s"]),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "5xx": sum(n for s, n in tally.statuses.items() if s >= 500),
        "socket_errors": tally.socket_errors, "server_errors": tally.server_errors,
        "mean_ms_by_action": tally.mean_ms(),
        "rss_idle_mib": figures["rss_idle_mib"], "rss_warm_mib": warm, "rss_end_mib": end,
        "rss_growth_percent": round(growth, 2),
        "pg_connections_peak": peak, "pg_connections_after": after,
        "analyze_every_s": figures["analyze_every_s"],
        "samples": figures["samples"],
    }
    busy_after = sum(n for state, n in after.items() if state != "idle")
    summary["passed"] = (summary["5xx"] == 0 and tally.socket_errors == 0
                         and growth < args.max_rss_growth and busy_after == 0)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the soak test; 0 when it passes."""
    args = parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_path = RESULTS_DIR / f"soak-{stamp}.log"
    recreate_database(args.pg)
    env = server_environment(args.pg)
    migrate(env, args.pg, not args.no_sort_index)
    server = start_server(args, env, log_path)
    try:
        figures = run_load(args, server)
        time.sleep(2)  # requests finishing, connections going back to the pools
        after = pg_connections(args.pg)
    finally:
        server.stop()
    summary = verdict(args, figures, after)
    (RESULTS_DIR / f"soak-{stamp}.json").write_text(json.dumps(summary, indent=2))
    shown = {key: value for key, value in summary.items() if key != "samples"}
    print(json.dumps(shown, indent=2))
    print(f"{'PASSED' if summary['passed'] else 'FAILED'}; server log: {log_path}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
