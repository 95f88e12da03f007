"""README.md gives exactly two commands, and CI runs its test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|shell|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in SHELL_BLOCK.findall(text):
        commands.extend(line.strip() for line in block.splitlines()
                        if line.strip() and not line.strip().startswith("#"))
    return commands


def test_the_readme_has_exactly_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    serve, test = commands
    assert "pserve app.ini" in serve
    assert serve.startswith("pip install")
    assert "pytest" in test
    assert test.startswith("pip install")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = readme_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_app_ini_serves_the_demo_on_port_8888() -> None:
    text = (ROOT / "app.ini").read_text()
    assert "use = egg:cliquetish" in text
    assert re.search(r"^listen = \S+:8888$", text, re.MULTILINE)
