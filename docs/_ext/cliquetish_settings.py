"""Sphinx extension: the ``cliquetish-settings`` directive renders the settings table.

The rows come from :data:`cliquetish.settings.SETTINGS`, so the reference can never drift from
the code: every setting, its type, default, ini key, environment variable and description.

Usage in a page::

    .. cliquetish-settings::
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from cliquetish import settings as settings_module
from cliquetish.settings import SETTINGS, Setting, env_name

CAST_TYPES: dict[str, str] = {
    "as_str": "string",
    "as_bool": "boolean",
    "as_list": "list of strings",
    "as_positive_int": "integer (0 or more)",
    "as_optional_int": "integer (0 or more) or empty",
    "as_positive_float": "number (above 0)",
}
"""How each cast of the settings module is shown in the *Type* column."""


def type_name(setting: Setting) -> str:
    """The human name of the type a setting's cast produces."""
    name = getattr(setting.cast, "__name__", repr(setting.cast))
    if name in CAST_TYPES:
        return CAST_TYPES[name]
    if getattr(settings_module, name, None) is setting.cast:
        return name.removeprefix("as_").replace("_", " ")
    return name


def default_text(value: Any) -> str:
    """A default as an ini file would spell it (empty values shown as *empty*)."""
    if value is None or value == "" or value == []:
        return "*(empty)*"
    if isinstance(value, bool):
        return "``true``" if value else "``false``"
    if isinstance(value, list | tuple):
        return "``" + " ".join(str(item) for item in value) + "``"
    return f"``{value}``"


def escape_cell(text: str) -> str:
    """Text safe inside one cell of an RST list-table (one line, no stray markup)."""
    return " ".join(text.split()).replace("*", r"\*").replace("|", r"\|")


def table_lines(rows: Iterable[Setting], prefix: str = "cliquetish") -> list[str]:
    """The lines of an RST ``list-table`` describing ``rows``."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 24 14 14 26 40",
        "",
        "   * - Setting (ini key)",
        "     - Type",
        "     - Default",
        "     - Environment variable",
        "     - Description",
    ]
    for row in rows:
        lines += [
            f"   * - ``{prefix}.{row.key}``",
            f"     - {type_name(row)}",
            f"     - {default_text(row.default)}",
            f"     - ``{env_name(row.key, prefix)}``",
            f"     - {escape_cell(row.description)}",
        ]
    return lines


class SettingsTableDirective(SphinxDirective):
    """``.. cliquetish-settings::``: the table of every setting."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        container = nodes.container(classes=["cliquetish-settings"])
        source = self.get_source_info()[0] or "<cliquetish-settings>"
        content = StringList(table_lines(SETTINGS), source=source)
        self.state.nested_parse(content, self.content_offset, container)
        return [container]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("cliquetish-settings", SettingsTableDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
