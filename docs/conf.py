"""Sphinx configuration of the cliquetish documentation (no network access needed)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "_ext"))

import cliquetish  # noqa: E402

project = "cliquetish"
author = "The cliquetish authors"
copyright = "cliquetish authors"  # noqa: A001
release = cliquetish.__version__
version = ".".join(release.split(".")[:2])

extensions = ["cliquetish_settings"]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

highlight_language = "none"
pygments_style = "sphinx"

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"cliquetish {release}"
html_theme_options = {"description": "Cliquet's resource conventions for Pyramid"}
