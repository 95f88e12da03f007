"""The deployment files: docker-compose.yml, Dockerfile, .dockerignore and docker.ini.

No Docker engine runs in CI, so the files are parsed and checked against the code they
configure: every ``CLIQUETISH_*`` variable must be a real setting whose value casts.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from cliquetish.settings import SETTINGS, env_name, load_settings

ROOT = Path(__file__).resolve().parent.parent
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def web_environment(compose: dict[str, Any]) -> dict[str, str]:
    """The web service's environment, ``${VAR:-default}`` replaced by its default."""
    environment = compose["services"]["web"]["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {
        name: INTERPOLATION.sub(lambda match: match.group("default") or "", str(value))
        for name, value in environment.items()
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_compose_has_the_four_services(compose):
    assert set(compose["services"]) >= {"web", "db", "cache", "statsd"}
    assert compose["services"]["db"]["image"].startswith("postgres:")
    assert compose["services"]["cache"]["image"].startswith("redis:")


def test_web_is_built_from_the_repository_dockerfile(compose):
    build = compose["services"]["web"]["build"]
    assert build["context"] == "."
    assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()
    assert "8888:8888" in compose["services"]["web"]["ports"]


def test_healthchecks(compose):
    services = compose["services"]
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert services["cache"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8888/v1/__heartbeat__" in web_check


def test_web_waits_for_healthy_backends(compose):
    depends_on = compose["services"]["web"]["depends_on"]
    assert depends_on["db"] == {"condition": "service_healthy"}
    assert depends_on["cache"] == {"condition": "service_healthy"}
    assert "statsd" in depends_on


def test_every_cliquetish_variable_is_a_real_setting(web_environment):
    known = {env_name(setting.key) for setting in SETTINGS}
    names = [name for name in web_environment if name.startswith("CLIQUETISH_")]
    assert len(names) >= 8
    unknown = sorted(set(names) - known)
    assert unknown == [], f"not settings: {unknown}"


def test_compose_environment_casts_and_wires_the_backends(web_environment):
    settings = load_settings({}, environ=web_environment)
    assert settings["storage_backend"] == "cliquetish.storage.postgresql"
    assert settings["permission_backend"] == "cliquetish.permission.postgresql"
    assert settings["cache_backend"] == "cliquetish.cache.redis"
    assert urlparse(settings["storage_url"]).hostname == "db"
    assert urlparse(settings["permission_url"]).hostname == "db"
    assert urlparse(settings["cache_url"]).hostname == "cache"
    assert urlparse(settings["statsd_url"]).hostname == "statsd"
    assert settings["userid_hmac_secret"]


def test_database_credentials_match(compose, web_environment):
    db = compose["services"]["db"]["environment"]
    url = urlparse(web_environment["CLIQUETISH_STORAGE_URL"])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        db["POSTGRES_USER"], db["POSTGRES_PASSWORD"], db["POSTGRES_DB"]
    )


def test_dockerfile_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the Dockerfile has no USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any(keyword == "FROM" and arguments.startswith("python:3.11-slim")
               for keyword, arguments in instructions)


def test_dockerfile_installs_the_extras_and_migrates_before_serving():
    instructions = dockerfile_instructions()
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert '".[postgresql,redis,monitoring]"' in runs
    command = [arguments for keyword, arguments in instructions if keyword == "CMD"][-1]
    shell_line = " ".join(json.loads(command))
    assert shell_line.index("cliquetish migrate --ini docker.ini") < shell_line.index("gunicorn")
    assert "--bind 0.0.0.0:" in shell_line


def test_docker_ini_listens_on_every_interface_and_has_valid_settings():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "docker.ini")
    assert parser["server:main"]["listen"].startswith("0.0.0.0:")
    app = dict(parser["app:main"])
    assert app["use"] == "egg:cliquetish"
    settings = load_settings(app, environ={})
    assert settings["storage_backend"] == "cliquetish.storage.memory"
    assert settings["version_json_path"] == "/app/version.json"


def test_dockerignore_keeps_the_image_small():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", "tests", "bench", "docs"} <= ignored
    assert "cliquetish" not in ignored and "setup.cfg" not in ignored
