"""Where the application's own CPU goes for one workload, in process (no server, no load).

    python bench/cpuprofile.py --system cliquetish --workload get_record [--requests 500]
    python bench/cpuprofile.py --system bare --workload get_record --timing
    python bench/cpuprofile.py --system cliquetish --path /v1/__lbheartbeat__ --timing
    bench/.venv-kinto/bin/python bench/cpuprofile.py --system kinto --workload get_record

Loads the system's ini file, sends the workload's request ``--requests`` times through the WSGI
application under cProfile with a CPU-time clock (``time.process_time``), so the time spent
waiting for PostgreSQL does not count: what is left is the Python cost of a request. Needs
the database seeded by a previous ``run.py`` or ``profiling.py``. Prints the CPU ms per request
and the functions taking most of it (inclusive and own, in % of the total).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

from sqlcount import requests_of, send
from systems import REPO_DIR, SYSTEMS
from workloads import WORKLOADS

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def short(path: str) -> str:
    """A readable file name: from the package on, ``stdlib/...``, or ``C`` for built-ins."""
    if path == "~":
        return "C"
    parts = Path(path).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    if path.startswith(str(REPO_DIR)):
        return str(Path(path).relative_to(REPO_DIR))
    if path.startswith(str(STDLIB)):
        return "stdlib/" + str(Path(path).relative_to(STDLIB))
    return path


def report(profile: cProfile.Profile, requests: int, top: int) -> str:
    """CPU ms per request and the top functions."""
    stats = pstats.Stats(profile)
    total = stats.total_tt
    rows = [(key, value) for key, value in stats.stats.items()]  # type: ignore[attr-defined]

    def name(key: tuple[str, int, str]) -> str:
        file, line, function = key
        return f"{function} ({short(file)}:{line})" if line else function

    lines = [f"{1000 * total / requests:.3f} ms of CPU per request in the application "
             f"(cProfile adds its own overhead; compare shares, not absolute times)", "",
             "Inclusive:"]
    by_cumulative = sorted(rows, key=lambda row: row[1][3], reverse=True)[:top]
    lines += [f"  {100 * value[3] / total:5.1f} %  {name(key)}" for key, value in by_cumulative]
    lines += ["", "Own:"]
    by_own = sorted(rows, key=lambda row: row[1][2], reverse=True)[:top]
    lines += [f"  {100 * value[2] / total:5.1f} %  {name(key)}" for key, value in by_own]
    packages: Counter[str] = Counter()
    for (file, _, _function), value in rows:
        packages[short(file).split("/")[0]] += value[2]
    lines += ["", "Own, by package:"]
    lines += [f"  {100 * spent / total:5.1f} %  {package}" for package, spent in
              packages.most_common(15)]
    return "\n".join(lines) + "\n"


def timing(app: object, request: tuple[str, str, object, bool], requests: int,
           label: str) -> int:
    """Print the CPU ms per request (best of 5 rounds), without any profiler."""
    method, path, body, auth = request
    best = float("inf")
    statuses = set()
    for _ in range(5):
        started = time.process_time()
        for _ in range(requests):
            statuses.add(send(app, method, path, body, auth).status_int)
        best = min(best, (time.process_time() - started) * 1000 / requests)
    print(f"{label}: {method} {path} -> {sorted(statuses)}: {best:.3f} ms of CPU per request "
          "(best of 5 rounds, in process, no profiler)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Profile one workload's request and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", choices=["kinto", "cliquetish", "bare", "bare_acl"],
                        default="cliquetish")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="get_record")
    parser.add_argument("--path", help="time GET of this path (authenticated) instead")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--timing", action="store_true",
                        help="no profiler: the best of 5 rounds of --requests, CPU ms each")
    args = parser.parse_args(argv)
    system = SYSTEMS[args.system]
    sys.path.insert(0, str(REPO_DIR))
    from pyramid.paster import get_app

    app = get_app(str(system.ini))
    if args.path:
        method, path, body, auth = "GET", args.path, None, True
    else:
        method, path, body, auth = requests_of(system, app)[args.workload]
    for _ in range(20):
        send(app, method, path, body, auth)
    if args.timing:
        return timing(app, (method, path, body, auth), args.requests, system.label())
    profile = cProfile.Profile(time.process_time)
    statuses = set()
    profile.enable()
    for _ in range(args.requests):
        statuses.add(send(app, method, path, body, auth).status_int)
    profile.disable()
    print(f"{system.label()} {args.workload}: {method} {path} -> {sorted(statuses)}")
    print(report(profile, args.requests, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
