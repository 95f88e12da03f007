"""Built-in endpoints: hello, heartbeats, version, and the exception views.

Every built-in endpoint answers JSON with ``Cache-Control: no-cache`` and needs no
authentication. They live under the version prefix (``/v1/``, ``/v1/__heartbeat__``...).
"""

from __future__ import annotations

from typing import Any

import orjson
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

__all__ = ["includeme", "json_response"]


def json_response(request: Request, data: Any, status: int = 200) -> Response:
    """``request.response`` with ``data`` as its JSON body, ``status`` and ``no-cache``."""
    response = request.response
    response.status_code = status
    response.content_type = "application/json"
    response.charset = None
    response.body = orjson.dumps(data)
    response.headers["Cache-Control"] = "no-cache"
    return response


def includeme(config: Configurator) -> None:
    """Add the built-in endpoints under the version prefix, and the exception views."""
    config.route_prefix = config.get_settings()["version_prefix"]
    config.include("cliquetish.views.errors")
    config.include("cliquetish.views.hello")
    config.include("cliquetish.views.heartbeat")
    config.include("cliquetish.views.version")
    config.include("cliquetish.views.batch")
    config.include("cliquetish.views.openapi")
