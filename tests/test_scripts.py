"""The ``cliquetish`` command, against memory backends and the real PostgreSQL and Redis."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import sqlalchemy
import webtest
from pyramid.paster import get_app

import cliquetish
from cliquetish import scripts
from cliquetish.interfaces import ICache, IPermission, IStorage
from cliquetish.testing import auth_headers, flush_backends

MEMORY_BACKENDS = {
    "storage_backend": "cliquetish.storage.memory",
    "cache_backend": "cliquetish.cache.memory",
    "permission_backend": "cliquetish.permission.memory",
}


def write_ini(folder: Path, settings: dict[str, str], name: str = "app.ini",
              app_name: str = "main") -> Path:
    lines = [f"cliquetish.{key} = {value}" for key, value in settings.items()]
    path = folder / name
    path.write_text(textwrap.dedent(f"""\
        [app:{app_name}]
        use = egg:cliquetish
        cliquetish.userid_hmac_secret = scripts-test-secret
        """) + "\n".join(lines) + "\n")
    return path


def run(*argv: str) -> tuple[int, str, str]:
    """``main(argv)`` with captured standard output and error."""
    out, err = io.StringIO(), io.StringIO()
    code = scripts.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def memory_ini(tmp_path: Path) -> Path:
    return write_ini(tmp_path, MEMORY_BACKENDS)


@pytest.fixture(autouse=True)
def no_cliquetish_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests set the CLIQUETISH_* variables they need; none leaks in from outside."""
    for name in list(os.environ):
        if name.startswith("CLIQUETISH_") and not name.startswith("CLIQUETISH_TEST_"):
            monkeypatch.delenv(name)


# Usage and errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    [],
    ["dance"],
    ["purge-deleted"],
    ["purge-deleted", "articles", "--older-than", "-5"],
    ["purge-deleted", "articles", "--older-than", "soon"],
    ["migrate", "--unknown"],
])
def test_usage_errors_exit_with_2(argv, capsys):
    assert scripts.main(argv) == 2
    assert "usage: cliquetish" in capsys.readouterr().err


def test_help_exits_with_0(capsys):
    assert scripts.main(["--help"]) == 0
    output = capsys.readouterr().out
    for command in ("migrate", "purge-deleted", "flush-cache", "version"):
        assert command in output


def test_a_missing_ini_file_is_one_line_and_exit_1(tmp_path):
    code, out, err = run("migrate", "--ini", str(tmp_path / "missing.ini"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "missing.ini: no such file" in err


def test_a_bad_setting_is_named(tmp_path):
    ini = write_ini(tmp_path, {**MEMORY_BACKENDS, "batch_max_requests": "many"})
    code, _, err = run("migrate", "--ini", str(ini))
    assert code == 1
    assert "cliquetish.batch_max_requests" in err and "many" in err
    assert err.count("\n") == 1


def test_the_environment_overrides_the_ini_file(memory_ini, monkeypatch):
    monkeypatch.setenv("CLIQUETISH_CACHE_BACKEND", "cliquetish.cache.nowhere")
    code, _, err = run("flush-cache", "--ini", str(memory_ini))
    assert code == 1
    assert "cliquetish.cache.nowhere" in err


def test_a_command_needing_a_missing_backend_says_so(tmp_path):
    ini = write_ini(tmp_path, {"storage_backend": "cliquetish.storage.memory",
                               "permission_backend": "cliquetish.permission.memory"})
    code, _, err = run("flush-cache", "--ini", str(ini))
    assert code == 1
    assert "no cache backend is configured" in err


def test_app_name_selects_the_section(tmp_path):
    ini = write_ini(tmp_path, {**MEMORY_BACKENDS, "project_name": "other"}, app_name="other")
    code, out, _ = run("version", "--ini", str(ini), "--app-name", "other")
    assert code == 0 and "other " in out
    code, _, err = run("version", "--ini", str(ini))
    assert code == 1 and "main" in err


# version, migrate, flush-cache on memory backends ---------------------------------------------

def test_version_without_an_ini_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("version")
    assert (code, out) == (0, f"cliquetish {cliquetish.__version__}\n")


def test_version_of_the_application(tmp_path):
    ini = write_ini(tmp_path, {**MEMORY_BACKENDS, "project_name": "bookmarks-api",
                               "http_api_version": "1.4"})
    code, out, _ = run("version", "--ini", str(ini))
    assert code == 0
    assert out.splitlines() == [f"cliquetish {cliquetish.__version__}",
                                f"bookmarks-api {cliquetish.__version__} (HTTP API 1.4)"]


def test_the_default_ini_is_app_ini_in_the_current_folder(memory_ini, monkeypatch):
    monkeypatch.chdir(memory_ini.parent)
    code, out, _ = run("migrate")
    assert code == 0
    assert "nothing to do" in out


def test_migrate_with_memory_backends_has_nothing_to_do(memory_ini):
    code, out, err = run("migrate", "--ini", str(memory_ini))
    assert (code, err) == (0, "")
    assert out.count("nothing to do") == 3


def test_flush_cache_on_memory(memory_ini):
    code, out, _ = run("flush-cache", "--ini", str(memory_ini))
    assert code == 0 and "cache flushed (cliquetish.cache.memory)" in out


def test_purge_deleted_on_an_empty_memory_storage(memory_ini):
    code, out, _ = run("purge-deleted", "articles", "--ini", str(memory_ini),
                       "--older-than", "60")
    assert code == 0
    assert out == "purged 0 tombstone(s) older than 60 s from articles\n"


# Progress -------------------------------------------------------------------------------------

def test_progress_is_shown_on_one_line_when_enabled():
    stream = io.StringIO()
    progress = scripts.Progress(stream, True, "permissions")
    progress.update(500, 1000)
    progress.update(1000, 1000)
    progress.finish()
    assert stream.getvalue() == "\rpermissions: 500/1000 (50%)\rpermissions: 1000/1000 (100%)\n"


def test_progress_is_silent_when_disabled():
    stream = io.StringIO()
    progress = scripts.Progress(stream, False, "permissions")
    progress.update(1, 2)
    progress.finish()
    assert stream.getvalue() == ""


# Real servers ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh_database(postgresql_url: str) -> Iterator[str]:
    """A new, empty database next to the test one, dropped afterwards."""
    parsed = urlparse(postgresql_url)
    name = f"{parsed.path.lstrip('/')}_migrate_{uuid.uuid4().hex[:8]}"
    admin = engine_of(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def engine_of(url: str, **options: str) -> sqlalchemy.Engine:
    """An engine on ``url`` through psycopg2 (the driver the backends use)."""
    return sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1),
                                    **options)


def table_names(url: str) -> set[str]:
    engine = engine_of(url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_postgresql_is_idempotent_and_dry_run_changes_nothing(tmp_path, fresh_database):
    ini = write_ini(tmp_path, {
        "storage_backend": "cliquetish.storage.memory",
        "permission_backend": "cliquetish.permission.postgresql",
        "permission_url": fresh_database,
        "cache_backend": "cliquetish.cache.postgresql",
        "cache_url": fresh_database,
    })
    code, dry, err = run("migrate", "--ini", str(ini), "--dry-run")
    assert code == 0, err
    dry_lines = [line for line in dry.splitlines() if "postgresql" in line]
    assert {line.split(":")[0] for line in dry_lines} == {
        "cache (cliquetish.cache.postgresql)", "permission (cliquetish.permission.postgresql)"}
    assert all("would" in line for line in dry_lines), dry
    assert table_names(fresh_database) == set()

    code, first, _ = run("migrate", "--ini", str(ini))
    assert code == 0
    assert "would" not in first
    assert "permission (cliquetish.permission.postgresql): nothing to do" not in first
    assert table_names(fresh_database)

    code, second, _ = run("migrate", "--ini", str(ini))
    assert code == 0
    lines = second.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "storage (cliquetish.storage.memory)",
        "cache (cliquetish.cache.postgresql)",
        "permission (cliquetish.permission.postgresql)",
    ]
    assert all("nothing to do" in line or "up to date" in line for line in lines), second


def test_flush_cache_empties_redis(tmp_path, redis_url):
    ini = write_ini(tmp_path, {
        **MEMORY_BACKENDS,
        "cache_backend": "cliquetish.cache.redis",
        "cache_url": redis_url,
        "cache_prefix": "scripts-test:",
    })
    from pyramid.paster import bootstrap

    with bootstrap(f"{ini}#main") as env:
        cache = env["registry"].queryUtility(ICache)
        cache.set("kept-until-flush", "value", 60)
        assert cache.get("kept-until-flush") == "value"
        code, out, _ = run("flush-cache", "--ini", str(ini))
        assert code == 0 and "cliquetish.cache.redis" in out
        assert cache.get("kept-until-flush") is None


def test_flush_cache_on_an_unreachable_server_fails_cleanly(tmp_path):
    ini = write_ini(tmp_path, {
        **MEMORY_BACKENDS,
        "cache_backend": "cliquetish.cache.redis",
        "cache_url": "redis://127.0.0.1:1/0",
    })
    code, _, err = run("flush-cache", "--ini", str(ini))
    assert code == 1
    assert err.startswith("cliquetish flush-cache: error: ")
    assert err.count("\n") == 1


# The console script itself --------------------------------------------------------------------

def console_script() -> list[str]:
    """The installed ``cliquetish`` entry point (``python -m`` when not installed)."""
    installed = shutil.which("cliquetish")
    return [installed] if installed else [sys.executable, "-m", "cliquetish.scripts"]


def test_console_script_runs(memory_ini):
    result = subprocess.run([*console_script(), "version", "--ini", str(memory_ini)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"cliquetish {cliquetish.__version__}\n")


def test_console_script_fails_with_exit_1(tmp_path):
    result = subprocess.run([*console_script(), "migrate", "--ini", str(tmp_path / "no.ini")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("no such file (give one with --ini)")


# purge-deleted against PostgreSQL --------------------------------------------------------------

@pytest.fixture
def postgresql_ini(tmp_path: Path, postgresql_url: str) -> Path:
    ini = write_ini(tmp_path, {
        "http_api_version": "1.0",
        "storage_backend": "cliquetish.storage.postgresql",
        "storage_url": postgresql_url,
        "permission_backend": "cliquetish.permission.postgresql",
        "permission_url": postgresql_url,
        "cache_backend": "cliquetish.cache.memory",
        "article_create_principals": "system.Authenticated",
    })
    assert run("migrate", "--ini", str(ini))[0] == 0
    return ini


@pytest.fixture
def deployed(postgresql_ini: Path) -> Iterator[webtest.TestApp]:
    """The application of ``postgresql_ini`` (as pserve would load it), emptied afterwards."""
    app = webtest.TestApp(get_app(f"{postgresql_ini}#main"),
                          extra_environ={"HTTP_HOST": "localhost:80"})
    flush_backends(app)
    yield app
    flush_backends(app)


def tombstones(app: webtest.TestApp, collection_id: str) -> list[str]:
    storage = app.app.registry.getUtility(IStorage)
    records, _ = storage.get_all(collection_id, "", include_deleted=True)
    return sorted(record["id"] for record in records if record.get("deleted"))


def test_purge_deleted_removes_tombstones_and_their_permissions(deployed, postgresql_ini):
    headers = auth_headers("alice", "secret")
    ids = []
    for index in range(3):
        created = deployed.post_json("/v1/articles", {"data": {"n": index}}, headers=headers)
        ids.append(created.json["data"]["id"])
    for record_id in ids[:2]:
        deployed.delete(f"/v1/articles/{record_id}", headers=headers)
    permission = deployed.app.registry.getUtility(IPermission)
    assert permission.object_permissions(f"/articles/{ids[0]}")
    assert tombstones(deployed, "article") == sorted(ids[:2])

    code, out, _ = run("purge-deleted", "articles", "--ini", str(postgresql_ini),
                       "--older-than", "3600")
    assert (code, out) == (0, "purged 0 tombstone(s) older than 3600 s from articles\n")
    assert tombstones(deployed, "article") == sorted(ids[:2])

    code, out, err = run("purge-deleted", "articles", "--ini", str(postgresql_ini),
                         "--progress")
    assert code == 0
    assert out == "purged 2 tombstone(s) from articles\n"
    assert "permissions: 2/2 (100%)" in err
    assert tombstones(deployed, "article") == []
    assert not permission.object_permissions(f"/articles/{ids[0]}")
    assert permission.object_permissions(f"/articles/{ids[2]}")
    deployed.get(f"/v1/articles/{ids[2]}", headers=headers, status=200)
