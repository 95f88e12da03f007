"""Side-by-side load benchmark of Kinto, cliquetish and a bare Pyramid view on PostgreSQL.

    python bench/run.py [--duration 10] [--connections 8] [--systems kinto,cliquetish,bare]
                        [--workloads heartbeat,get_record,...] [--big-records 1000000]

For each system, one after the other: recreate its database, create its schema, start gunicorn
(sync workers), seed the collection in SQL, then for each workload check the answer is right,
warm up, and run wrk while sampling the workers' memory. Then grow the collection to
``--big-records`` and time the list workloads again. Prints a markdown report and saves it
(with the raw figures as JSON) in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
from client import basicauth_user_id
from loadgen import LoadResult, run_wrk
from report import markdown
from server import GunicornServer, RssSampler
from systems import BENCH_DIR, REPO_DIR, SYSTEMS, System, connect, record_id, recreate_database
from workloads import LIST_WORKLOADS, WORKLOADS, CheckFailed, Context, Workload, expect

RESULTS_DIR = BENCH_DIR / "results"
SEED_AGE_MS = 3_600_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per workload")
    parser.add_argument("--warmup", type=float, default=1, help="untimed seconds before each")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--max-requests", type=int, default=100_000,
                        help="stop a workload after this many answers")
    parser.add_argument("--systems", default="kinto,cliquetish,bare")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--records", type=int, default=10_000, help="seeded records")
    parser.add_argument("--big-records", type=int, default=1_000_000,
                        help="records of the large collection for the list workloads (0: skip)")
    parser.add_argument("--big-duration", type=float, default=5,
                        help="seconds per list workload on the large collection")
    args = parser.parse_args(argv)
    args.systems = [name for name in args.systems.split(",") if name]
    args.workloads = [name for name in args.workloads.split(",") if name]
    unknown = [n for n in args.systems if n not in SYSTEMS] + \
        [n for n in args.workloads if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown system or workload: {', '.join(unknown)}")
    if args.records < 10_000:
        parser.error("--records must be at least 10000 (the checks use ranks up to 5000+)")
    return args


def machine() -> str:
    """CPU, cores, memory, PostgreSQL and Python versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    connection = connect("postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgresql = cursor.fetchone()[0]
    finally:
        connection.close()
    return (f"{cpu}, {os.cpu_count()} cores, {memory_kib / 1024 / 1024:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"PostgreSQL {postgresql.split()[0]}")


def server_env() -> dict[str, str]:
    """The servers' environment: ours without any CLIQUETISH_/KINTO_ override."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("CLIQUETISH_", "KINTO_"))}


def timed_load(server: GunicornServer, ctx: Context, workload: Workload,
               args: argparse.Namespace, duration: float) -> LoadResult:
    """Check the answer, warm up, then time the workload; check writes landed as counted."""
    workload.check(ctx)
    spec = workload.spec(ctx)
    load = {"connections": args.connections, "threads": args.threads}
    if args.warmup:
        run_wrk(ctx.system.port, spec, args.warmup, max_requests=0, **load)
    count_before = 0
    if workload.writes:
        time.sleep(1)  # requests still in flight when the warm-up stopped land first
        count_before = ctx.system.count_records()
    load_average = float(Path("/proc/loadavg").read_text().split()[0])
    with RssSampler(server) as sampler:
        result = run_wrk(ctx.system.port, spec, duration, max_requests=args.max_requests, **load)
    result.peak_rss_mib = sampler.peak_mib
    result.extra["load_average_before"] = load_average
    if workload.writes:
        time.sleep(1)  # requests still in flight when wrk stopped may land
        added = ctx.system.count_records() - count_before
        counted = result.ok if workload.creates else 0
        expect(counted <= added <= counted + args.connections,
               f"{added} records added for {counted} answers 201")
    return result


def run_phase(server: GunicornServer, ctx: Context, names: list[str],
              args: argparse.Namespace, duration: float, run: dict[str, Any],
              key: str) -> None:
    """Time each named workload; a wrong answer is a failure, not a figure."""
    for name in names:
        workload = WORKLOADS[name]
        label = f"{ctx.system.name} {name} @ {ctx.records:,}"
        try:
            result = timed_load(server, ctx, workload, args, duration)
        except (CheckFailed, KeyError, TypeError) as error:
            run["failures"].append(f"{label}: wrong answer: {error!r}")
            print(f"  {label}: WRONG ANSWER {error!r}", flush=True)
            continue
        run[key].setdefault(ctx.system.name, {})[name] = result.as_dict()
        print(f"  {label}: {result.ok_per_second:,.0f} ok req/s, "
              f"{result.error_percent:.2f} % errors, p50 {result.p50_ms:.2f} ms, "
              f"p99 {result.p99_ms:.2f} ms, RSS {result.peak_rss_mib:.0f} MiB", flush=True)
        if workload.writes:
            ctx.exact_newest = False


@contextmanager
def serving(system: System, args: argparse.Namespace, ids_file: Path,
            log_path: Path) -> Iterator[tuple[GunicornServer, Context]]:
    """A fresh database, the schema, the server started and the collection seeded; the
    server is stopped on the way out."""
    print(f"{system.name}: creating {system.database}", flush=True)
    recreate_database(system.database)
    system.create_schema()
    server = GunicornServer(system.gunicorn_command(args.workers), system.port, REPO_DIR,
                            server_env(), log_path)
    server.start()
    try:
        system.prepare_api()
        started, offset = time.monotonic(), seed_offset()
        system.seed(0, args.records, offset, basicauth_user_id())
        print(f"  seeded {args.records:,} records in {time.monotonic() - started:.1f} s")
        yield server, Context(system, args.records, ids_file, exact_newest=True,
                              seed_offset=offset)
    finally:
        server.stop()


def seed_offset() -> int:
    """``last_modified`` of seeded record 0: an hour ago, so every write comes later."""
    return int(time.time() * 1000) - SEED_AGE_MS


def bench_system(system: System, args: argparse.Namespace, run: dict[str, Any],
                 ids_file: Path, log_dir: Path) -> None:
    """Build, serve, seed and time one system, then grow its collection and time the lists."""
    run["labels"][system.name] = system.label()
    log_path = log_dir / f"{run['meta']['started']}-{system.name}.log"
    with serving(system, args, ids_file, log_path) as (server, ctx):
        run_phase(server, ctx, args.workloads, args, args.duration, run, "results")
        big = [name for name in args.workloads if name in LIST_WORKLOADS]
        if args.big_records > args.records and big:
            started = time.monotonic()
            system.seed(args.records, args.big_records, ctx.seed_offset - args.big_records,
                        basicauth_user_id())
            print(f"  grew to {args.big_records:,} records in {time.monotonic() - started:.1f} s")
            ctx.records, ctx.exact_newest = args.big_records, False
            run_phase(server, ctx, big, args, args.big_duration, run, "big")


def write_ids(path: Path, records: int) -> Path:
    """The file of seeded record ids wrk picks from."""
    path.write_text("\n".join(record_id(i) for i in range(records)) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 1 when any system answered wrongly or failed."""
    args = parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    started = time.strftime("%Y%m%d-%H%M%S")
    run: dict[str, Any] = {
        "meta": {"started": started, "machine": machine(), "duration": args.duration,
                 "warmup": args.warmup, "connections": args.connections,
                 "threads": args.threads, "workers": args.workers,
                 "max_requests": args.max_requests, "records": args.records,
                 "big_records": args.big_records,
                 "command": "python bench/run.py " + " ".join(sys.argv[1:])},
        "labels": {}, "results": {}, "big": {}, "failures": [],
        "big_workloads": list(LIST_WORKLOADS),
    }
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = write_ids(Path(tmp) / "ids.txt", args.records)
        for name in args.systems:
            try:
                bench_system(SYSTEMS[name], args, run, ids_file, RESULTS_DIR)
            except (RuntimeError, OSError, psycopg2.Error, subprocess.CalledProcessError,
                    CheckFailed) as error:
                run["failures"].append(f"{name}: {error!r}")
                print(f"{name}: FAILED {error!r}", flush=True)
    workloads = [(name, WORKLOADS[name].label) for name in args.workloads]
    report = markdown(run, workloads)
    (RESULTS_DIR / f"run-{started}.md").write_text(report)
    (RESULTS_DIR / f"run-{started}.json").write_text(json.dumps(run, indent=2))
    print("\n" + report)
    print(f"saved in {RESULTS_DIR}/run-{started}.md and .json")
    return 1 if run["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
