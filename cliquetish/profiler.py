"""Optional profiling middleware."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def install_profiler(app: Any, settings: Mapping[str, Any]) -> Any:
    """Return ``app``, wrapped with a profiler when ``profiler_enabled``."""
    return app
