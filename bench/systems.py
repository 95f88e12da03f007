"""The three systems under test: their database, schema, server command, URLs and seeding.

Every system is seeded with the same records, straight in SQL in its own schema::

    id = md5('bench' || i) as a UUID4,  data = {"title": "Record i", "rank": i, "tags": [...]}

with distinct ``last_modified`` values (epoch milliseconds): the first ``records`` records get
``base + i`` and the records added for the large collection get older values, so the newest
records stay the same.
"""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from client import call

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
KINTO_VENV = BENCH_DIR / ".venv-kinto"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
BASE_DATABASES = ("bench_kinto", "bench_cliquetish", "bench_bare", "bench_bare_acl")
LARGE_SUFFIX = "_large"
OWN_DATABASES = BASE_DATABASES + tuple(name + LARGE_SUFFIX for name in BASE_DATABASES)
LARGE_PORT_OFFSET = 100

ID_SQL = "overlay(overlay(md5('bench' || g) placing '4' from 13) placing '8' from 17)::uuid::text"
DATA_SQL = ("jsonb_build_object('title', 'Record ' || g, 'rank', g, 'tags', "
            "jsonb_build_array('tag' || (g %% 10), 'tag' || (g %% 7)))")


def record_id(index: int) -> str:
    """The id of seeded record ``index`` (same as ``ID_SQL``): a valid UUID4."""
    digest = hashlib.md5(f"bench{index}".encode()).hexdigest()  # noqa: S324
    return str(uuid.UUID(digest[:12] + "4" + digest[13:16] + "8" + digest[17:]))


def connect(database: str) -> Any:
    """An autocommit psycopg2 connection to one of our databases."""
    connection = psycopg2.connect(f"{PG_DSN} dbname={database}")
    connection.autocommit = True
    return connection


def recreate_database(database: str) -> None:
    """Drop and create one of the benchmark's own databases (never any other)."""
    if database not in OWN_DATABASES:
        raise ValueError(f"{database} is not a benchmark database")
    connection = connect("postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{database}"')
    finally:
        connection.close()


@dataclass
class System:
    """One system under test; subclasses say how to build, serve and seed it."""

    name: str
    database: str
    port: int
    ini: Path
    collection_path: str
    heartbeat_path: str = "/v1/__heartbeat__"

    def record_path(self, record: str) -> str:
        """URL path of one record."""
        return f"{self.collection_path}/{record}"

    def large_twin(self, ini_dir: Path) -> System:
        """The same system on its own database (name + ``_large``) and port (+100), for the
        large collection: its ini file is a copy of ours, written in ``ini_dir``, with the
        database of every URL renamed."""
        twin = copy.copy(self)
        twin.database = self.database + LARGE_SUFFIX
        twin.port = self.port + LARGE_PORT_OFFSET
        text = self.ini.read_text()
        url_end = f"/{self.database}\n"
        if url_end not in text:
            raise ValueError(f"{self.ini} names no URL ending in /{self.database}")
        twin.ini = ini_dir / f"{self.ini.stem}{LARGE_SUFFIX}.ini"
        twin.ini.write_text(text.replace(url_end, f"/{twin.database}\n"))
        return twin

    def label(self) -> str:
        """The name and version shown in reports."""
        return self.name

    def gunicorn_command(self, workers: int) -> list[str]:
        """The server command line (gunicorn, sync workers, logs at WARNING)."""
        return [sys.executable, "-m", "gunicorn", "--paste", str(self.ini),
                "--workers", str(workers), "--worker-class", "sync",
                "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"]

    def create_schema(self) -> None:
        """Create the empty schema in the (new) database."""
        raise NotImplementedError

    def prepare_api(self) -> None:
        """API calls the running server needs before seeding (containers, permissions)."""

    def seed_sql(self) -> list[str]:
        """Statements inserting records ``g`` in ``%(start)s .. %(stop)s - 1`` with
        ``last_modified = %(offset)s + g``, owned by ``%(user_id)s``."""
        raise NotImplementedError

    def count_sql(self) -> str:
        """Statement counting the live records of the benchmark collection."""
        raise NotImplementedError

    def seed(self, start: int, stop: int, offset: int, user_id: str) -> None:
        """Insert records ``start .. stop - 1`` straight in SQL, then VACUUM ANALYZE (what
        autovacuum would do on a production server; it is off on the benchmark machine, and
        without it no index-only scan skips the heap)."""
        connection = connect(self.database)
        params = {"start": start, "stop": stop, "offset": offset, "user_id": user_id}
        try:
            with connection.cursor() as cursor:
                for statement in self.seed_sql():
                    cursor.execute(statement, params)
                cursor.execute("VACUUM ANALYZE")
        finally:
            connection.close()

    def backend_pids(self) -> list[int]:
        """PostgreSQL server processes connected to the system's database."""
        connection = connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                               (self.database,))
                return [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()

    def wait_idle(self, timeout_seconds: float = 120.0) -> None:
        """Wait until no statement runs on the system's database (requests left over by a
        stopped load finish first)."""
        deadline = time.monotonic() + timeout_seconds
        connection = connect("postgres")
        try:
            with connection.cursor() as cursor:
                while time.monotonic() < deadline:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity "
                                   "WHERE datname = %s AND state = 'active'", (self.database,))
                    if cursor.fetchone()[0] == 0:
                        return
                    time.sleep(0.2)
        finally:
            connection.close()

    def count_records(self) -> int:
        """Live records in the benchmark collection, counted in SQL."""
        connection = connect(self.database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.count_sql())
                return cursor.fetchone()[0]
        finally:
            connection.close()


class Kinto(System):
    """Kinto in its own virtualenv; records of ``/buckets/bench/collections/articles``."""

    parent_id = "/buckets/bench/collections/articles"

    def label(self) -> str:
        """Kinto and its version, asked to its virtualenv."""
        version = subprocess.run(
            [str(KINTO_VENV / "bin" / "python"), "-c", "import kinto; print(kinto.__version__)"],
            capture_output=True, text=True, check=True).stdout.strip()
        return f"Kinto {version}"

    def gunicorn_command(self, workers: int) -> list[str]:
        """Kinto's gunicorn runs from its own virtualenv."""
        command = super().gunicorn_command(workers)
        return [str(KINTO_VENV / "bin" / "python"), *command[1:]]

    def create_schema(self) -> None:
        """``kinto migrate``."""
        subprocess.run([str(KINTO_VENV / "bin" / "kinto"), "migrate", "--ini", str(self.ini)],
                       check=True, capture_output=True, cwd=BENCH_DIR)

    def prepare_api(self) -> None:
        """Create the bucket and the collection as the bench user (who then owns them)."""
        for path in ("/v1/buckets/bench", "/v1/buckets/bench/collections/articles"):
            answer = call(self.port, "PUT", path, body={"data": {}})
            if answer.status not in (200, 201):
                raise RuntimeError(f"PUT {path}: {answer.status} {answer.body}")

    def seed_sql(self) -> list[str]:
        """Objects (trigger off for this session: timestamps are given) and their ACEs."""
        return [
            "SET session_replication_role = replica",
            "INSERT INTO objects (id, parent_id, resource_name, last_modified, data, deleted) "
            f"SELECT {ID_SQL}, '{self.parent_id}', 'record', from_epoch(%(offset)s + g), "
            f"{DATA_SQL}, FALSE FROM generate_series(%(start)s, %(stop)s - 1) AS g",
            "SET session_replication_role = DEFAULT",
            "INSERT INTO access_control_entries (object_id, permission, principal) "
            f"SELECT '{self.parent_id}/records/' || {ID_SQL}, 'write', %(user_id)s "
            "FROM generate_series(%(start)s, %(stop)s - 1) AS g",
        ]

    def count_sql(self) -> str:
        """Live records of the collection."""
        return ("SELECT count(*) FROM objects WHERE resource_name = 'record' "
                f"AND parent_id = '{self.parent_id}' AND NOT deleted")


class Bare(System):
    """The bare Pyramid application of bench/bare_app.py."""

    def gunicorn_command(self, workers: int) -> list[str]:
        """The bare application is imported from bench/."""
        return [*super().gunicorn_command(workers), "--pythonpath", str(BENCH_DIR)]

    def create_schema(self) -> None:
        """The tables and indexes of bare_app.SCHEMA."""
        sys.path.insert(0, str(BENCH_DIR))
        from bare_app import SCHEMA

        connection = connect(self.database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(SCHEMA)
        finally:
            connection.close()

    def seed_sql(self) -> list[str]:
        """Records, then the collection timestamp."""
        return [
            "INSERT INTO records (id, last_modified, data) "
            f"SELECT {ID_SQL}, %(offset)s + g, {DATA_SQL} "
            "FROM generate_series(%(start)s, %(stop)s - 1) AS g",
            "INSERT INTO timestamps (name, last_modified) "
            "SELECT 'records', max(last_modified) FROM records "
            "ON CONFLICT (name) DO UPDATE "
            "SET last_modified = GREATEST(timestamps.last_modified, EXCLUDED.last_modified)",
        ]

    def count_sql(self) -> str:
        """Every record."""
        return "SELECT count(*) FROM records"


class BareWithPermissions(Bare):
    """The bare application checking access-control entries in each statement
    (``bare.permissions = true``): the same SQL work per request as cliquetish's shared records."""

    def label(self) -> str:
        """Named after what it adds."""
        return "bare + permissions"

    def seed_sql(self) -> list[str]:
        """Records, the collection timestamp, and the creator's ``write`` entries."""
        sys.path.insert(0, str(BENCH_DIR))
        from bare_app import OBJECT_URI_PREFIX

        return [
            *super().seed_sql(),
            "INSERT INTO access_control_entries (object_id, permission, principal) "
            f"SELECT '{OBJECT_URI_PREFIX}' || {ID_SQL}, 'write', %(user_id)s "
            "FROM generate_series(%(start)s, %(stop)s - 1) AS g",
        ]


class Cliquetish(System):
    """The cliquetish demo's ``articles`` (a ShareableResource) from this repository."""

    collection_id = "article"
    object_uri_prefix = "/articles/"
    sort_indexes: tuple[str, ...] = ("rank",)

    def _env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("CLIQUETISH_")}
        return {**env, "PYTHONPATH": str(REPO_DIR)}

    def label(self) -> str:
        """cliquetish and its version."""
        version = subprocess.run(
            [sys.executable, "-c", "import cliquetish; print(cliquetish.__version__)"],
            capture_output=True, text=True, check=True, env=self._env()).stdout.strip()
        return f"cliquetish {version}"

    def gunicorn_command(self, workers: int) -> list[str]:
        """The demo is imported from the repository."""
        return [*super().gunicorn_command(workers), "--pythonpath", str(REPO_DIR)]

    def create_schema(self) -> None:
        """``cliquetish migrate`` on the benchmark's ini file, then the sort index of each
        field of ``sort_indexes``, as docs/backends.rst tells operators to create them."""
        subprocess.run(
            [sys.executable, "-c", "import sys; from cliquetish.scripts import main; "
             f"sys.exit(main(['migrate', '--ini', {str(self.ini)!r}]))"],
            check=True, capture_output=True, cwd=REPO_DIR, env=self._env())
        for field in self.sort_indexes:
            statement = subprocess.run(
                [sys.executable, "-c", "from cliquetish.storage.postgresql.queries import "
                 f"sort_index_statement; print(sort_index_statement({field!r}, "
                 f"'records_{field}_sort_idx'))"],
                check=True, capture_output=True, text=True, env=self._env()).stdout
            connection = connect(self.database)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(statement)
            finally:
                connection.close()

    def seed_sql(self) -> list[str]:
        """Records, the collection timestamp, and the creator's ``write`` entries."""
        pair = f"parent_id = '' AND collection_id = '{self.collection_id}'"
        return [
            "INSERT INTO records (id, parent_id, collection_id, last_modified, data, deleted) "
            f"SELECT {ID_SQL}, '', '{self.collection_id}', %(offset)s + g, {DATA_SQL}, FALSE "
            "FROM generate_series(%(start)s, %(stop)s - 1) AS g",
            "INSERT INTO timestamps (parent_id, collection_id, last_modified) "
            f"SELECT '', '{self.collection_id}', max(last_modified) FROM records WHERE {pair} "
            "ON CONFLICT (parent_id, collection_id) DO UPDATE "
            "SET last_modified = GREATEST(timestamps.last_modified, EXCLUDED.last_modified)",
            "INSERT INTO access_control_entries (object_id, permission, principal) "
            f"SELECT '{self.object_uri_prefix}' || {ID_SQL}, 'write', %(user_id)s "
            "FROM generate_series(%(start)s, %(stop)s - 1) AS g",
        ]

    def count_sql(self) -> str:
        """Live articles."""
        return ("SELECT count(*) FROM records WHERE parent_id = '' "
                f"AND collection_id = '{self.collection_id}' AND NOT deleted")


SYSTEMS: dict[str, System] = {
    "kinto": Kinto("kinto", "bench_kinto", 8701, BENCH_DIR / "kinto.ini",
                   "/v1/buckets/bench/collections/articles/records"),
    "cliquetish": Cliquetish("cliquetish", "bench_cliquetish", 8702,
                             BENCH_DIR / "cliquetish.ini", "/v1/articles"),
    "bare": Bare("bare", "bench_bare", 8703, BENCH_DIR / "bare.ini", "/v1/records"),
    "bare_acl": BareWithPermissions("bare_acl", "bench_bare_acl", 8704, BENCH_DIR / "bare_acl.ini",
                                    "/v1/records"),
}
