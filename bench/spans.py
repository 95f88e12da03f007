"""CPU time of the main steps of a cliquetish request, measured inside real requests.

    python bench/spans.py --workload get_record [--requests 3000]
    python bench/spans.py --workload list_sorted

Loads ``bench/cliquetish.ini`` and sends the workload's request through the WSGI application
(no server), first plainly (the CPU ms per request), then once per step listed in ``STEPS``
with a CPU clock (``time.process_time``) around that step only: its inclusive CPU time per
request, less what an empty step measures (the clock's own cost). Unlike cProfile, which adds
its overhead to every function call and so inflates the steps made of many small calls, one
wrapper per pass leaves the shares close to the real ones. Steps measured in a tight loop of
their own run faster than inside a request (the caches stay warm), which is why they are
timed here in place. Needs the database seeded by a previous ``run.py``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlcount import requests_of, send
from systems import REPO_DIR, SYSTEMS
from workloads import WORKLOADS

STEPS = (
    ("cliquetish.resource.base", "Resource", "__init__"),
    ("cliquetish.resource.records", "RecordViews", "get"),
    ("cliquetish.resource.base", "Resource", "collection_get"),
    ("cliquetish.resource.base", "Resource", "_existing"),
    ("cliquetish.resource.access", "ShareableResource", "authorize_record"),
    ("cliquetish.resource.access", "ShareableResource", "collection_read_filter"),
    ("cliquetish.resource.model", "Model", "get_record"),
    ("cliquetish.resource.model", "Model", "get_records_and_timestamp"),
    ("cliquetish.storage.postgresql", "PostgreSQLStorage", "get_with_permissions"),
    ("cliquetish.storage.postgresql", "PostgreSQLStorage", "get_all_with_timestamp"),
    ("cliquetish.storage.postgresql.client", "PostgreSQLClient", "_pooled_read"),
    ("cliquetish.resource.base", "Resource", "_listing_response"),
    ("cliquetish.resource.base", "Resource", "_respond"),
    ("cliquetish.resource.base", "Resource", "_notify"),
)
"""(module, class, method) of each step timed."""

CLOCK = time.process_time


def cpu_ms_per_request(call: Callable[[], Any], requests: int) -> float:
    """CPU ms per call, best of 3 rounds."""
    rounds = []
    for _ in range(3):
        start = CLOCK()
        for _ in range(requests):
            call()
        rounds.append((CLOCK() - start) / requests * 1000)
    return min(rounds)


def timed(method: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """``method`` adding the CPU time of each call to ``spent[0]``."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kw: Any) -> Any:
        start = CLOCK()
        try:
            return method(*args, **kw)
        finally:
            spent[0] += CLOCK() - start

    return wrapper


def clock_cost(calls: int = 20000) -> float:
    """What the wrapper measures around a step that does nothing, in seconds."""
    spent = [0.0]
    empty = timed(lambda: None, spent)
    for _ in range(calls):
        empty()
    return spent[0] / calls


def step_ms(owner: type, method_name: str, call: Callable[[], Any], requests: int,
            overhead: float) -> tuple[float, float]:
    """Inclusive CPU ms of one step per request, and calls of it per request."""
    method = owner.__dict__[method_name]
    spent, calls = [0.0], [0]

    def counted(*args: Any, **kw: Any) -> Any:
        calls[0] += 1
        return method(*args, **kw)

    setattr(owner, method_name, timed(counted, spent))
    try:
        for _ in range(requests):
            call()
    finally:
        setattr(owner, method_name, method)
    per_request = calls[0] / requests
    return (spent[0] / requests - overhead * per_request) * 1000, per_request


def main(argv: list[str] | None = None) -> int:
    """Print the CPU ms per request, then of each step."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="get_record")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    system = SYSTEMS["cliquetish"]
    sys.path.insert(0, str(REPO_DIR))
    from pyramid.paster import get_app

    app = get_app(str(system.ini))
    method, path, body, auth = requests_of(system, app)[args.workload]

    def call() -> Any:
        return send(app, method, path, body, auth)

    plain = cpu_ms_per_request(call, args.requests)
    overhead = clock_cost()
    print(f"cliquetish {args.workload}: {method} {path} -> {call().status_int}")
    print(f"{plain:.3f} ms of CPU per request; each step inclusive (the clock's own "
          f"{overhead * 1e6:.2f} µs taken off):")
    rows = []
    for module_name, class_name, method_name in STEPS:
        owner = getattr(importlib.import_module(module_name), class_name)
        if method_name not in owner.__dict__:
            continue
        milliseconds, calls = step_ms(owner, method_name, call, args.requests, overhead)
        if calls:
            rows.append((milliseconds, calls, f"{class_name}.{method_name}"))
    for milliseconds, calls, label in sorted(rows, reverse=True):
        print(f"  {milliseconds:6.3f} ms {100 * milliseconds / plain:5.1f} %  {label}"
              + (f" ({calls:.2f} calls)" if abs(calls - 1) > 0.005 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
