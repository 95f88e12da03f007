"""``GET /v1/__version__``: the ``version.json`` file of the deployment.

The file is ``version_json_path`` (relative paths are taken from the directory the application
started in), usually ``{"source", "version", "commit", "build"}``. Its content is read once,
then served from memory; a missing file is a JSON 404 errno 111.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from cliquetish.cornice_hooks import add_service
from cliquetish.errors import ERRORS, http_error
from cliquetish.views import json_response
from cliquetish.views.errors import json_error_handler

__all__ = ["VersionFile", "includeme"]


class VersionFile:
    """The view serving one ``version.json`` file."""

    def __init__(self, path: str) -> None:
        self.__name__ = "version_view"  # the name views are known by (debug toolbar, cornice)
        self.path = os.path.abspath(path)
        self.content: Any = None

    def load(self) -> Any:
        """The parsed file, read on first use.

        :raises HTTPNotFound: (404 errno 111) the file does not exist.
        """
        if self.content is None:
            try:
                with open(self.path, "rb") as version_file:
                    raw = version_file.read()
            except FileNotFoundError:
                raise http_error(
                    404, ERRORS.MISSING_RESOURCE, "This deployment has no version file."
                ) from None
            self.content = orjson.loads(raw)
        return self.content

    def __call__(self, request: Request) -> Response:
        return json_response(request, self.load())


def includeme(config: Configurator) -> None:
    """Add ``__version__``; the file path is resolved now, against the current directory."""
    version = Service(
        name="version",
        path="/__version__",
        description="Version information of the deployment (version.json).",
        error_handler=json_error_handler,
        permission=NO_PERMISSION_REQUIRED,
    )
    version.add_view("GET", VersionFile(config.get_settings()["version_json_path"]))
    add_service(config, version)
