"""A backend outage under load, in phases, and the checks every backend must pass.

:func:`run_outage` serves ``app`` with waitress, starts a :class:`~tests.faults.loadgen.Load`,
then: ``before`` (backend up), ``during`` (backend stopped; ``__heartbeat__`` probed),
``recovering`` (backend started again, until writes succeed), ``after`` (backend up). Requests
are labelled with the phase in which they *started*; a short pause at each switch lets requests
of the previous phase finish, so a phase's label is never wrong about the backend's state.
:func:`check_outage` asserts the protocol on the outcomes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.faults.loadgen import WRITE, Load
from tests.faults.serving import Reply, request, serving

SETTLE_SECONDS = 0.4
"""Pause at each phase switch: long enough for requests in flight to finish."""
RECOVERY_LIMIT_SECONDS = 30.0
"""Longest wait for the first successful writes once the backend is back."""


@dataclass
class OutageReport:
    """What happened: the load, the heartbeat answers and how long recovery took."""

    load: Load
    heartbeat_during: Reply
    heartbeat_after: Reply
    recovery_seconds: float
    notes: list[str] = field(default_factory=list)


def _wait_for(condition: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def run_outage(app: Any, headers: dict[str, str], stop_backend: Callable[[], None],
               start_backend: Callable[[], None], clients: int = 4,
               seconds_per_phase: float = 1.5) -> OutageReport:
    """Run the four phases against ``app``; return the report (checks are the caller's)."""
    with serving(app) as server:
        load = Load(server.url, headers, clients=clients).start()
        try:
            time.sleep(seconds_per_phase)
            load.phase = "during"
            time.sleep(SETTLE_SECONDS)
            stop_backend()
            heartbeat_during = request(server.url, "GET", "/v1/__heartbeat__")
            _wait_for(lambda: sum(1 for o in load.in_phase("during") if o.status == 503) >= 10,
                      seconds_per_phase * 3)
            load.phase = "recovering"
            mark = len(load.outcomes)
            started = time.monotonic()
            start_backend()
            recovered = _wait_for(lambda: load.successes_since(mark) >= 3,
                                  RECOVERY_LIMIT_SECONDS)
            recovery_seconds = time.monotonic() - started
            assert recovered, f"no successful write {RECOVERY_LIMIT_SECONDS} s after restart"
            time.sleep(SETTLE_SECONDS)
            load.phase = "after"
            time.sleep(seconds_per_phase)
        finally:
            load.stop()
        heartbeat_after = request(server.url, "GET", "/v1/__heartbeat__")
    return OutageReport(load, heartbeat_during, heartbeat_after, recovery_seconds)


def check_outage(report: OutageReport, heartbeat_timeout: float, margin: float = 3.0) -> None:
    """The protocol during an outage (see the module docstring of the fault tests)."""
    load = report.load
    summary = load.summary()
    for outcome in load.outcomes:
        assert outcome.status in (200, 201, 503), (outcome, summary)
        if outcome.status == 503:
            assert outcome.errno == 201, (outcome, summary)
            assert outcome.retry_after and outcome.retry_after.isdigit(), outcome
    for phase in ("before", "after"):
        outcomes = load.in_phase(phase)
        assert outcomes, (phase, summary)
        assert all(200 <= o.status < 300 for o in outcomes), (phase, summary)
        assert any(o.action == WRITE for o in outcomes), (phase, summary)
    assert any(o.status == 503 for o in load.in_phase("during")), summary
    during = report.heartbeat_during
    assert during.status == 503, (during.status, during.body)
    assert during.json and not all(during.json.values()), during.body
    assert during.elapsed <= heartbeat_timeout + margin, during.elapsed
    assert report.heartbeat_after.status == 200, report.heartbeat_after.body
    assert all(report.heartbeat_after.json.values())
