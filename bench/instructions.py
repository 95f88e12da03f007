"""Instructions the application executes per request, counted by valgrind's callgrind.

    python bench/instructions.py --system cliquetish --workload get_record
    python bench/instructions.py --system bare_acl --workloads get_record,list_sorted
    python bench/instructions.py --system cliquetish --workload get_record --environ-once

For each workload, runs this script's ``--serve`` mode twice under ``valgrind
--tool=callgrind`` (same interpreter, ``PYTHONHASHSEED=0``): once sending the workload's request
``--few`` times, once ``--many`` times, both after the same warm-up, and prints the difference
in instructions divided by the difference in requests: the instructions of one request, start-up
and warm-up left out. Unlike CPU time, the count hardly depends on what else the machine is
doing (two runs of the same code agree within about 0.5 %), which makes it the measure to
compare two versions of the Python side. PostgreSQL's own work is not counted (it runs in its
server processes). Needs ``valgrind`` and a database seeded by a previous ``run.py``; the tree
measured is the one this script lives in.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from systems import REPO_DIR, SYSTEMS
from workloads import WORKLOADS

READS = "get_record,list_sorted,list_filtered,list_since"
WARMUP = 30


def serve(system_name: str, workload: str, requests: int, environ_once: bool = False) -> None:
    """Send the workload's request ``WARMUP`` then ``requests`` times, in process; with
    ``environ_once``, a copy of one WSGI environ each time (a read's request has no body),
    called as a server would, so that WebOb's request building is not counted."""
    from sqlcount import requests_of, send

    sys.path.insert(0, str(REPO_DIR))
    from pyramid.paster import get_app

    system = SYSTEMS[system_name]
    app = get_app(str(system.ini))
    method, path, body, auth = requests_of(system, app)[workload]
    if not environ_once:
        for _ in range(WARMUP + requests):
            send(app, method, path, body, auth)
        return
    from client import basic_auth
    from webob import Request

    environ = Request.blank(path, method=method, headers={"Authorization": basic_auth()}).environ
    for _ in range(WARMUP + requests):
        b"".join(app(dict(environ), lambda status, headers, exc_info=None: None))


def counted(system_name: str, workload: str, requests: int, environ_once: bool = False) -> int:
    """Instructions of one ``--serve`` run under callgrind."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, str(Path(__file__).resolve()), "--serve",
               "--system", system_name, "--workloads", workload, "--few", str(requests),
               *(["--environ-once"] if environ_once else [])]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no count:\n{result.stderr[-2000:]}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    """Print the instructions per request of each workload."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", choices=["cliquetish", "bare", "bare_acl"],
                        default="cliquetish")
    parser.add_argument("--workloads", "--workload", default=READS,
                        help=f"comma-separated, among {','.join(sorted(WORKLOADS))}")
    parser.add_argument("--few", type=int, default=20, help="requests of the short run")
    parser.add_argument("--many", type=int, default=120, help="requests of the long run")
    parser.add_argument("--environ-once", action="store_true",
                        help="reads only: build the WSGI environ once, leave WebOb's request "
                             "building out of the count")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.system, args.workloads, args.few, args.environ_once)
        return 0
    for workload in args.workloads.split(","):
        few = counted(args.system, workload, args.few, args.environ_once)
        many = counted(args.system, workload, args.many, args.environ_once)
        per_request = (many - few) / (args.many - args.few)
        print(f"{args.system} {workload}: {per_request:,.0f} instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
