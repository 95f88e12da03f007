"""Profile one system under one workload with py-spy: where the workers' time goes.

    python bench/profiling.py --system cliquetish --workload list_sorted [--duration 10]

Sets the system up as run.py does, checks the answer, warms up, then runs wrk while
``py-spy record --subprocesses --idle --format raw`` samples the gunicorn workers (``--cpu``:
on-CPU samples only, without ``--idle``). Prints the
share of request time (samples inside gunicorn's ``handle_request``) spent in each function
(inclusive and own) and in each package (own time), and saves the collapsed stacks in
bench/results/ (speedscope or flamegraph.pl read them).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from loadgen import run_wrk
from run import RESULTS_DIR, seed, serving, write_ids
from systems import SYSTEMS
from workloads import WORKLOADS

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]*)(?::\d+)?\)$")
REQUEST_FRAME = "handle_request"
PACKAGES = ("cliquetish", "kinto", "bare_app", "sqlalchemy", "psycopg2", "pyramid", "cornice",
            "colander", "webob", "transaction", "zope", "pyramid_tm", "gunicorn", "json",
            "orjson", "logging", "uuid", "hmac", "base64", "jsonschema", "venusian")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", choices=sorted(SYSTEMS), default="cliquetish")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="list_sorted")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30, help="functions listed")
    parser.add_argument("--cpu", action="store_true",
                        help="on-CPU samples only (default: wall clock, waits on PostgreSQL "
                        "included)")
    return parser.parse_args(argv)


def frame_key(frame: str) -> tuple[str, str]:
    """(function, file) of a py-spy frame ``function (file:line)``."""
    match = FRAME.match(frame)
    return (match["function"], match["file"]) if match else (frame, "")


def package_of(file: str) -> str:
    """The package a source file belongs to (its first known path part)."""
    parts = Path(file.removesuffix(".py")).parts
    for part in parts:
        if part in PACKAGES:
            return part
    return parts[0] if parts else "?"


def analyse(stacks_file: Path, top: int) -> str:
    """Tables of request time by function (inclusive, own) and by package (own)."""
    inclusive: Counter[tuple[str, str]] = Counter()
    own: Counter[tuple[str, str]] = Counter()
    packages: Counter[str] = Counter()
    request_samples = other_samples = 0
    for line in stacks_file.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_key(frame) for frame in stack.split(";")
                  if not frame.startswith("process ")]
        if not any(function.endswith(REQUEST_FRAME) for function, _ in frames):
            other_samples += count
            continue
        request_samples += count
        for key in set(frames):
            inclusive[key] += count
        own[frames[-1]] += count
        packages[package_of(frames[-1][1])] += count
    if not request_samples:
        return "no sample inside a request: was the load running?\n"

    def share(count: int) -> str:
        return f"{100 * count / request_samples:5.1f} %"

    lines = [f"{request_samples} samples inside requests, {other_samples} outside "
             "(workers waiting for a connection, master)", "",
             "Request time by function, inclusive:"]
    lines += [f"  {share(n)}  {function} ({file})" for (function, file), n in
              inclusive.most_common(top)]
    lines += ["", "Request time by function, own:"]
    lines += [f"  {share(n)}  {function} ({file})" for (function, file), n in own.most_common(top)]
    lines += ["", "Request time by package, own:"]
    lines += [f"  {share(n)}  {name}" for name, n in packages.most_common()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Profile; print and save the analysis."""
    args = parse_args(argv)
    if not shutil.which("py-spy"):
        raise SystemExit("py-spy is not installed: pip install py-spy")
    system, workload = SYSTEMS[args.system], WORKLOADS[args.workload]
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stacks_file = (RESULTS_DIR / f"profile-{stamp}-{args.system}-{args.workload}"
                   f"{'-cpu' if args.cpu else ''}.txt")
    args.big_records = 0
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = write_ids(Path(tmp) / "ids.txt", args.records)
        log_path = RESULTS_DIR / f"profile-{stamp}-{args.system}.log"
        with serving(system, args, ids_file, log_path, args.records, args.duration) as bench:
            seed([bench], args)
            server, ctx = bench.server, bench.ctx
            workload.check(ctx)
            spec = workload.spec(ctx)
            load = {"connections": args.connections, "threads": args.threads}
            run_wrk(system.port, spec, args.warmup, max_requests=0, **load)
            spy = subprocess.Popen(
                ["py-spy", "record", "--pid", str(server.process.pid), "--subprocesses",
                 *([] if args.cpu else ["--idle"]), "--rate", str(args.rate),
                 "--duration", f"{args.duration:.0f}", "--format", "raw",
                 "--output", str(stacks_file)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(1)  # py-spy attaches before the load starts
            result = run_wrk(system.port, spec, args.duration, max_requests=0, **load)
            _, spy_errors = spy.communicate(timeout=args.duration + 60)
    if spy.returncode != 0:
        print(spy_errors, file=sys.stderr)
        return 1
    header = (f"{system.label()} {workload.label}: {result.ok_per_second:,.0f} ok req/s under "
              f"py-spy ({args.rate} Hz, {'on-CPU' if args.cpu else 'wall clock'}), "
              f"p50 {result.p50_ms:.2f} ms\n\n")
    analysis = header + analyse(stacks_file, args.top)
    stacks_file.with_suffix(".analysis.txt").write_text(analysis)
    print(analysis)
    print(f"stacks: {stacks_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
