"""Side-by-side load benchmark of Kinto, cliquetish and a bare Pyramid view on PostgreSQL.

    python bench/run.py [--duration 10] [--connections 8]
                        [--systems kinto,cliquetish,bare,bare_acl]
                        [--workloads heartbeat,get_record,...] [--big-records 1000000]

Each system: recreate its database, create its schema, start gunicorn (sync workers), and the
same again for its large twin (its own database and port) when ``--big-records`` is set; then
every collection is seeded in SQL at once (10,000 records; the twin's grows on to
``--big-records`` with older records). Then each workload runs ``--rounds`` times on each
system in turn (``--sequential``: one whole system after the other): check the answer is right
and warm up (first round), run wrk while sampling the workers' memory and the CPU time of the
workers and of their PostgreSQL backends; the median round of each system is reported. A list
workload's rounds also run on each large twin right after its system, so the p50 on the large
collection is compared with the p50 on the small one timed seconds before, in the same pass.
Every server is stopped at the end. Prints a markdown report and saves it (with the raw
figures as JSON) in bench/results/.

Interleaving keeps the comparison fair on a shared machine: the systems measured for one
workload share the same background load, within a minute.
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from client import basicauth_user_id, call
from loadgen import LoadResult, run_wrk
from report import markdown
from server import GunicornServer, RssSampler, cpu_snapshot, cpu_spent
from systems import BENCH_DIR, REPO_DIR, SYSTEMS, System, connect, record_id, recreate_database
from workloads import LIST_WORKLOADS, WORKLOADS, CheckFailed, Context, Workload, expect

RESULTS_DIR = BENCH_DIR / "results"
SEED_AGE_MS = 3_600_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=3,
                        help="seconds per workload and round")
    parser.add_argument("--rounds", type=int, default=5,
                        help="timed rounds per workload and system (the median is kept)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed seconds before the first round")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--max-requests", type=int, default=100_000,
                        help="stop a workload after this many answers")
    parser.add_argument("--systems", default="kinto,cliquetish,bare,bare_acl")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--records", type=int, default=10_000, help="seeded records")
    parser.add_argument("--big-records", type=int, default=1_000_000,
                        help="records of the large collection for the list workloads (0: skip)")
    parser.add_argument("--big-duration", type=int, default=3,
                        help="seconds per list workload and round on the large collection")
    parser.add_argument("--no-sort-index", action="store_true",
                        help="do not create cliquetish's documented sort index on rank")
    parser.add_argument("--sequential", action="store_true",
                        help="one system after the other (default: all servers up, each "
                        "workload timed on each system in turn)")
    args = parser.parse_args(argv)
    args.systems = [name for name in args.systems.split(",") if name]
    args.workloads = [name for name in args.workloads.split(",") if name]
    unknown = [n for n in args.systems if n not in SYSTEMS] + \
        [n for n in args.workloads if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown system or workload: {', '.join(unknown)}")
    if args.no_sort_index:
        SYSTEMS["cliquetish"].sort_indexes = ()
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


def source_state() -> str:
    """The commit the servers run, and the files of cliquetish/ changed since (the working
    tree is what gunicorn imports)."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], cwd=REPO_DIR, capture_output=True,
                              text=True, check=False).stdout

    # each line is "XY path": not stripped, since X is a space for a change not yet staged
    changed = git("status", "--porcelain", "--", "cliquetish").splitlines()
    dirty = f", uncommitted: {', '.join(line[3:] for line in changed)}" if changed else ""
    return git("rev-parse", "--short", "HEAD").strip() + dirty


def server_env() -> dict[str, str]:
    """The servers' environment: ours without any CLIQUETISH_/KINTO_ override."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("CLIQUETISH_", "KINTO_"))}


@dataclass
class Bench:
    """One system being measured: its running server, what the workloads know of it, how long
    its rounds last and where its figures go in the run (``results``, or ``big`` for a large
    twin)."""

    server: GunicornServer
    ctx: Context
    duration: float
    key: str = "results"

    @property
    def large(self) -> bool:
        """Whether this is the large twin of a system."""
        return self.key == "big"


def timed_load(bench: Bench, workload: Workload, args: argparse.Namespace,
               check: bool) -> LoadResult:
    """Check the answer and warm up (when ``check``: the first round), then time the workload
    (memory and CPU sampled); check writes landed as counted."""
    ctx, server = bench.ctx, bench.server
    if check:
        workload.check(ctx)
    spec = workload.spec(ctx)
    load = {"connections": args.connections, "threads": args.threads}
    warm_up = check and args.warmup > 0
    if warm_up:
        run_wrk(ctx.system.port, spec, args.warmup, max_requests=0, **load)
    count_before = 0
    if workload.writes:
        if warm_up:
            time.sleep(1)  # requests still in flight when the warm-up stopped land first
        count_before = ctx.system.count_records()
    load_average = float(Path("/proc/loadavg").read_text().split()[0])
    app_before = cpu_snapshot(server.worker_pids())
    db_before = cpu_snapshot(ctx.system.backend_pids())
    with RssSampler(server) as sampler:
        result = run_wrk(ctx.system.port, spec, bench.duration, max_requests=args.max_requests,
                         **load)
    app_cpu = cpu_spent(app_before, cpu_snapshot(server.worker_pids()))
    db_cpu = cpu_spent(db_before, cpu_snapshot(ctx.system.backend_pids()))
    # Requests still running when wrk stopped (Kinto's listings of 1,000,000 records take
    # seconds) would share the next system's round: let them end first.
    ctx.system.wait_idle()
    result.peak_rss_mib = sampler.peak_mib
    result.extra["load_average_before"] = load_average
    if result.answered:
        result.extra.update(app_cpu_ms_per_answer=round(1000 * app_cpu / result.answered, 3),
                            db_cpu_ms_per_answer=round(1000 * db_cpu / result.answered, 3))
    elif spec.method == "GET" and "{id}" not in spec.path:  # too slow: time one alone
        ctx.system.wait_idle()
        time.sleep(0.5)
        started = time.monotonic()
        answer = call(ctx.system.port, spec.method, spec.path, timeout=120)
        expect(answer.status == spec.ok_status, "lone request failed", answer)
        result.extra["lone_request_ms"] = round(1000 * (time.monotonic() - started), 1)
    if workload.writes:
        time.sleep(1)  # requests still in flight when wrk stopped may land
        added = ctx.system.count_records() - count_before
        counted = result.ok if workload.creates else 0
        expect(counted <= added <= counted + args.connections,
               f"{added} records added for {counted} answers 201")
    return result


def summary(result: LoadResult) -> str:
    """One line of figures."""
    if not result.answered:
        return (f"no answer in {result.duration_seconds:g} s; one request alone took "
                f"{result.extra.get('lone_request_ms', 'n/a')} ms")
    return (f"{result.ok_per_second:,.0f} ok req/s, {result.error_percent:.2f} % errors, "
            f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
            f"RSS {result.peak_rss_mib:.0f} MiB, CPU {result.extra['app_cpu_ms_per_answer']:.2f}"
            f" + {result.extra['db_cpu_ms_per_answer']:.2f} ms")


def run_workloads(benches: list[Bench], names: list[str], args: argparse.Namespace,
                  run: dict[str, Any]) -> None:
    """Time each workload ``--rounds`` times on each system in turn (the order reversed every
    other time; the list workloads also on each large twin, right after its system) and keep
    each system's median round; a wrong answer is a failure, not a figure."""
    for index, name in enumerate(names):
        workload = WORKLOADS[name]
        timed = [b for b in benches if name in LIST_WORKLOADS or not b.large]
        rounds: dict[int, list[LoadResult]] = {}
        failed: set[int] = set()
        for round_number in range(args.rounds):
            order = timed if (index + round_number) % 2 == 0 else timed[::-1]
            for bench in [b for b in order if id(b) not in failed]:
                system = bench.ctx.system
                label = f"{system.name} {name} @ {bench.ctx.records:,} #{round_number + 1}"
                try:
                    result = timed_load(bench, workload, args, round_number == 0)
                except (CheckFailed, KeyError, TypeError, RuntimeError, OSError,
                        psycopg2.Error) as error:
                    failed.add(id(bench))
                    run["failures"].append(f"{label}: {error!r}")
                    print(f"  {label}: FAILED {error!r}", flush=True)
                    continue
                finally:
                    if workload.writes:
                        bench.ctx.exact_newest = False
                rounds.setdefault(id(bench), []).append(result)
                print(f"  {label}: {summary(result)}", flush=True)
        for bench in timed:
            results = rounds.get(id(bench))
            if id(bench) in failed or not results:
                continue
            median = sorted(results, key=lambda result: result.ok_per_second)[len(results) // 2]
            figures = median.as_dict()
            figures["rounds_ok_per_second"] = [round(r.ok_per_second, 1) for r in results]
            run[bench.key].setdefault(bench.ctx.system.name, {})[name] = figures


@contextmanager
def serving(system: System, args: argparse.Namespace, ids_file: Path, log_path: Path,
            records: int, duration: float, key: str = "results") -> Iterator[Bench]:
    """A fresh database, the schema and the server started (its collection, of ``records``
    records, is seeded by :func:`seed`); the server is stopped on the way out."""
    print(f"{system.name}: creating {system.database}", flush=True)
    recreate_database(system.database)
    system.create_schema()
    server = GunicornServer(system.gunicorn_command(args.workers), system.port, REPO_DIR,
                            server_env(), log_path)
    server.start()
    try:
        system.prepare_api()
        ctx = Context(system, records, ids_file, exact_newest=True, seed_offset=seed_offset(),
                      newest_rank=args.records - 1)
        yield Bench(server, ctx, duration, key)
    finally:
        server.stop()


def seed_offset() -> int:
    """``last_modified`` of seeded record 0: an hour ago, so every write comes later."""
    return int(time.time() * 1000) - SEED_AGE_MS


def seed(benches: list[Bench], args: argparse.Namespace) -> None:
    """Seed every collection at once: ``--records`` records, then, in a large twin's, older
    records up to ``--big-records`` (higher ranks), each step followed by VACUUM ANALYZE. The
    newest ``--records`` records are the same in both."""
    def seed_one(bench: Bench) -> str:
        started, ctx = time.monotonic(), bench.ctx
        ctx.system.seed(0, args.records, ctx.seed_offset, basicauth_user_id())
        if ctx.records > args.records:
            ctx.system.seed(args.records, ctx.records, ctx.seed_offset - ctx.records,
                            basicauth_user_id())
        return f"{ctx.system.name} {ctx.records:,} in {time.monotonic() - started:.0f} s"

    with ThreadPoolExecutor(max_workers=len(benches)) as pool:
        done = list(pool.map(seed_one, benches))
    print(f"  seeded {', '.join(done)}", flush=True)


def bench_systems(systems: list[System], args: argparse.Namespace, run: dict[str, Any],
                  ids_file: Path) -> None:
    """Start the systems (and their large twins), seed them, time every workload on each."""
    with_twins = args.big_records > args.records and any(
        name in LIST_WORKLOADS for name in args.workloads)
    with ExitStack() as stack:
        benches = []
        for system in systems:
            run["labels"][system.name] = system.label()
            log_path = RESULTS_DIR / f"{run['meta']['started']}-{system.name}.log"
            try:
                benches.append(stack.enter_context(
                    serving(system, args, ids_file, log_path, args.records, args.duration)))
                if with_twins:
                    twin = system.large_twin(ids_file.parent)
                    benches.append(stack.enter_context(
                        serving(twin, args, ids_file, log_path.with_suffix(".large.log"),
                                args.big_records, args.big_duration, "big")))
            except (RuntimeError, OSError, ValueError, psycopg2.Error,
                    subprocess.CalledProcessError) as error:
                run["failures"].append(f"{system.name}: {error!r}")
                print(f"{system.name}: FAILED {error!r}", flush=True)
        if benches:
            seed(benches, args)
        run_workloads(benches, args.workloads, args, run)


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
        "meta": {"started": started, "machine": machine(), "source": source_state(),
                 "duration": args.duration,
                 "rounds": args.rounds,
                 "warmup": args.warmup, "connections": args.connections,
                 "threads": args.threads, "workers": args.workers,
                 "max_requests": args.max_requests, "records": args.records,
                 "mode": "sequential" if args.sequential else "interleaved",
                 "cliquetish_sort_indexes": list(SYSTEMS["cliquetish"].sort_indexes),
                 "big_records": args.big_records,
                 "command": "python bench/run.py " + " ".join(sys.argv[1:])},
        "labels": {}, "results": {}, "big": {}, "failures": [],
        "big_workloads": list(LIST_WORKLOADS),
    }
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = write_ids(Path(tmp) / "ids.txt", args.records)
        systems = [SYSTEMS[name] for name in args.systems]
        if args.sequential:
            for system in systems:
                bench_systems([system], args, run, ids_file)
        else:
            bench_systems(systems, args, run, ids_file)
    workloads = [(name, WORKLOADS[name].label) for name in args.workloads]
    report = markdown(run, workloads)
    (RESULTS_DIR / f"run-{started}.md").write_text(report)
    (RESULTS_DIR / f"run-{started}.json").write_text(json.dumps(run, indent=2))
    print("\n" + report)
    print(f"saved in {RESULTS_DIR}/run-{started}.md and .json")
    return 1 if run["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
