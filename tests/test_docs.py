"""The documentation site: its table of contents and the generated settings reference."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from cliquetish.settings import SETTINGS, env_name

DOCS = Path(__file__).resolve().parent.parent / "docs"
TOC = ["quickstart", "tutorial", "protocol", "resource", "settings", "pipeline", "backends",
       "auth", "deployment", "benchmarks", "security", "changelog"]


@pytest.fixture(scope="module")
def extension():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import cliquetish_settings
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return cliquetish_settings


def test_index_toctree_lists_exactly_the_pages():
    text = (DOCS / "index.rst").read_text()
    toctree = text.split(".. toctree::", 1)[1]
    entries = [line.strip() for line in toctree.splitlines()
               if line.startswith("   ") and not line.strip().startswith(":")]
    assert [entry for entry in entries if entry] == TOC
    for page in TOC:
        assert (DOCS / f"{page}.rst").is_file(), page


def test_settings_page_uses_the_generated_table():
    assert ".. cliquetish-settings::" in (DOCS / "settings.rst").read_text()


def test_table_has_one_row_per_setting(extension):
    lines = extension.table_lines(SETTINGS)
    text = "\n".join(lines)
    rows = [line for line in lines if line.startswith("   * - ``cliquetish.")]
    assert len(rows) == len(SETTINGS)
    for setting in SETTINGS:
        assert f"``cliquetish.{setting.key}``" in text
        assert f"``{env_name(setting.key)}``" in text


def test_every_setting_has_a_known_type_and_a_description(extension):
    for setting in SETTINGS:
        type_name = extension.type_name(setting)
        assert type_name and not type_name.startswith("<"), setting.key
        assert setting.description.strip(), setting.key


def test_defaults_are_spelled_as_in_an_ini_file(extension):
    by_key = {setting.key: setting for setting in SETTINGS}
    assert extension.default_text(by_key["batch_max_requests"].default) == "``25``"
    assert extension.default_text(by_key["readonly"].default) == "``false``"
    assert extension.default_text(by_key["cors_origins"].default) == "``*``"
    assert extension.default_text(by_key["storage_url"].default) == "*(empty)*"


def test_cells_stay_on_one_line_and_escape_markup(extension):
    assert extension.escape_cell("a *b*\n  c | d") == r"a \*b\* c \| d"


def test_conf_needs_no_network():
    conf = (DOCS / "conf.py").read_text()
    assert "intersphinx" not in conf
    assert re.search(r"extensions = \[.*cliquetish_settings", conf)
