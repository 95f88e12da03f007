"""Count the SQL round trips each workload's request costs, in process (no server, no load).

    python bench/sqlcount.py --system cliquetish
    bench/.venv-kinto/bin/python bench/sqlcount.py --system kinto

Loads the system's ini file as gunicorn would, listens to SQLAlchemy's engine events, and sends
each workload's request a few times through the WSGI application. Needs the system's database
seeded by a previous ``run.py`` or ``profiling.py`` (they leave it in place). Prints, per
workload, the statements, commits and rollbacks per request, and each distinct statement;
``--explain`` adds the plan of each read-only statement; ``--plans`` the server's CPU per run of
each read-only statement sent as it is, prepared and planned for its values, and prepared with
one generic plan (no parallel workers), with the generic plan's shape: what preparing a
statement would save, and whether its generic plan would serve.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from typing import Any

from client import basic_auth
from server import cpu_seconds
from sqlalchemy import event
from sqlalchemy.engine import Engine
from systems import REPO_DIR, SYSTEMS, System, connect, record_id
from webob import Request
from workloads import CHECKED_RECORD, PATCHED_RECORD

REPEAT = 5
PLAN_RUNS = 2000
"""Runs of a statement per way of sending it, for ``--plans``."""


class Recorder:
    """Statements, commits and rollbacks seen on every engine."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.executed: list[tuple[str, Any]] = []
        self.commits = 0
        self.rollbacks = 0

    def listen(self) -> None:
        """Hook the events of every SQLAlchemy engine, and the reads cliquetish runs on pooled
        psycopg2 connections (outside SQLAlchemy's statement events)."""
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        event.listen(Engine, "rollback", self._rollback)
        try:
            from cliquetish.storage.postgresql.client import PostgreSQLClient, driver_sql
        except ImportError:  # Kinto's virtualenv
            return
        pooled_read = PostgreSQLClient._pooled_read
        recorder = self

        def recorded_read(client: Any, statement: str, params: Any, prepare: bool) -> Any:
            text = driver_sql(statement) if params else statement
            recorder._statement(None, None, ("PREPARED " if prepare else "") + text,
                                dict(params or {}))
            return pooled_read(client, statement, params, prepare)

        PostgreSQLClient._pooled_read = recorded_read  # type: ignore[method-assign]

    def _statement(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                   *args: Any) -> None:
        self.statements.append(" ".join(statement.split()))
        self.executed.append((statement, parameters))

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def _rollback(self, conn: Any) -> None:
        self.rollbacks += 1

    def reset(self) -> None:
        """Forget what was seen."""
        self.statements, self.executed, self.commits, self.rollbacks = [], [], 0, 0


WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def explain(system: System, executed: list[tuple[str, Any]]) -> None:
    """Print EXPLAIN (ANALYZE, BUFFERS) of each distinct read-only statement."""
    connection = connect(system.database)
    seen = set()
    try:
        with connection.cursor() as cursor:
            for statement, parameters in executed:
                text = cursor.mogrify(statement.removeprefix("PREPARED "), parameters).decode()
                if text in seen or WRITES.search(text) or "statement_timeout" in text:
                    continue
                seen.add(text)
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
                print("      | " + "\n      | ".join(row[0] for row in cursor.fetchall()))
    finally:
        connection.close()


_PLAN_MODES = {
    "custom plans": "SET plan_cache_mode = force_custom_plan",
    "generic plan": ("SET plan_cache_mode = force_generic_plan; "
                     "SET max_parallel_workers_per_gather = 0"),
}


def _numbered(statement: str, parameters: dict[str, Any]) -> tuple[str, list[Any]]:
    """``statement`` with ``%(name)s`` placeholders as ``$1, $2...`` and their values."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    body = re.sub(r"%\((\w+)\)s", number, statement).replace("%%", "%")
    return body, [parameters[name] for name in names]


def _server_ms(cursor: Any, pid: int, sql: str, values: Any) -> float:
    """Server CPU ms per run of ``sql`` (after a warm-up)."""
    for _ in range(PLAN_RUNS // 10):
        cursor.execute(sql, values)
        cursor.fetchall()
    started = cpu_seconds(pid)
    for _ in range(PLAN_RUNS):
        cursor.execute(sql, values)
        cursor.fetchall()
    return (cpu_seconds(pid) - started) * 1000 / PLAN_RUNS


def plans(system: System, executed: list[tuple[str, Any]]) -> None:
    """Print the server's CPU per run of each distinct read-only statement, sent as it is
    and prepared (custom plans, one generic plan), and the generic plan's shape."""
    seen = set()
    for statement, parameters in executed:
        statement = statement.removeprefix("PREPARED ")
        if statement in seen or WRITES.search(statement) or "statement_timeout" in statement:
            continue
        seen.add(statement)
        parameters = parameters or {}
        body, values = _numbered(statement, parameters)
        arguments = f"({', '.join(['%s'] * len(values))})" if values else ""
        figures = []
        connection = connect(system.database)
        try:
            with connection.cursor() as cursor:
                pid = connection.get_backend_pid()
                figures.append(f"as sent {_server_ms(cursor, pid, statement, parameters):.3f}")
                for label, setting in _PLAN_MODES.items():
                    cursor.execute("DEALLOCATE ALL")
                    cursor.execute(setting)
                    cursor.execute(f"PREPARE measured AS {body}")
                    ms = _server_ms(cursor, pid, f"EXECUTE measured{arguments}", values)
                    figures.append(f"{label} {ms:.3f}")
                cursor.execute(f"EXPLAIN EXECUTE measured{arguments}", values)
                lines = [row[0] for row in cursor.fetchall()]
                shape = [line.strip().removeprefix("->  ") for index, line in enumerate(lines)
                         if index == 0 or "->" in line]
        finally:
            connection.close()
        print("      | server CPU ms per run: " + ", ".join(figures))
        print("      | generic plan: " + " / ".join(line.split("  (cost")[0]
                                                    for line in shape[:5]))


def send(app: Any, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
    """One request through the WSGI application."""
    headers = {"Authorization": basic_auth()} if auth else {}
    request = Request.blank(path, method=method, headers=headers)
    if body is not None:
        request.body = json.dumps(body).encode()
        request.content_type = "application/json"
    return request.get_response(app)


def requests_of(system: System, app: Any) -> dict[str, tuple[str, str, Any, bool]]:
    """The request of each workload: method, path, body, auth."""
    newest = json.loads(send(app, "GET", f"{system.collection_path}?_limit=21").body)["data"]
    since = newest[-1]["last_modified"]
    return {
        "heartbeat": ("GET", system.heartbeat_path, None, False),
        "get_record": ("GET", system.record_path(record_id(CHECKED_RECORD)), None, True),
        "list_sorted": ("GET", f"{system.collection_path}?_limit=20&_sort=-rank", None, True),
        "list_filtered": ("GET", f"{system.collection_path}?min_rank=5000&_limit=20", None, True),
        "list_since": ("GET", f"{system.collection_path}?_since={since}", None, True),
        "patch_record": ("PATCH", system.record_path(record_id(PATCHED_RECORD)),
                         {"data": {"title": "counted"}}, True),
        "create_record": ("POST", system.collection_path,
                          {"data": {"title": "counted", "rank": 5000, "tags": []}}, True),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the round trips of each workload."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", choices=["kinto", "cliquetish"], default="cliquetish")
    parser.add_argument("--width", type=int, default=160, help="characters per statement")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each read-only statement")
    parser.add_argument("--plans", action="store_true",
                        help="server CPU per read-only statement: as sent, prepared with "
                             "custom plans, with one generic plan")
    args = parser.parse_args(argv)
    system = SYSTEMS[args.system]
    sys.path.insert(0, str(REPO_DIR))
    from pyramid.paster import get_app

    app = get_app(str(system.ini))
    recorder = Recorder()
    recorder.listen()
    for name, (method, path, body, auth) in requests_of(system, app).items():
        send(app, method, path, body, auth)
        recorder.reset()
        statuses = {send(app, method, path, body, auth).status_int for _ in range(REPEAT)}
        distinct = Counter(recorder.statements)
        print(f"{name}: {method} {path} -> {sorted(statuses)}: "
              f"{len(recorder.statements) / REPEAT:g} statements, "
              f"{recorder.commits / REPEAT:g} commits, {recorder.rollbacks / REPEAT:g} rollbacks "
              "per request")
        for statement, count in distinct.items():
            print(f"    {count / REPEAT:g} x {statement[:args.width]}")
        if args.explain:
            explain(system, recorder.executed)
        if args.plans:
            plans(system, recorder.executed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
