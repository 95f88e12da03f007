"""cliquetish: the resource conventions of Cliquet for any Pyramid application.

One call wires everything in::

    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan()

or, for a settings-only set-up, ``config.include("cliquetish")`` with
``cliquetish.project_version`` in the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator

from cliquetish import directives
from cliquetish.errors import ConfigurationError
from cliquetish.request_factory import bake_request_properties
from cliquetish.settings import load_settings

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "__version__",
    "includeme",
    "initialize",
    "install_middlewares",
    "load_default_settings",
]

PREFIX_KEY = "cliquetish.settings_prefix"

TRANSACTION_DEFAULTS = {
    "tm.annotate_user": False,
    "tm.activate_hook": "cliquetish.tweens.transaction.needs_transaction",
}
"""pyramid_tm settings given unless the application sets them (see
:mod:`cliquetish.tweens.transaction`)."""


def load_default_settings(
    config: Configurator,
    settings_prefix: str = "cliquetish",
    default_settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Load, check and store the typed settings on ``config``; return them.

    Adds the derived key ``version_prefix`` (``v1`` for an HTTP API version ``1.x``).

    :raises ConfigurationError: a value is wrong or a required one is missing (named).
    """
    settings = load_settings(config.get_settings(), settings_prefix, default_settings)
    if not settings["project_version"]:
        raise ConfigurationError(
            f"Missing setting {settings_prefix}.project_version: give initialize() a version",
            key="project_version",
        )
    if not settings["http_api_version"]:
        settings["http_api_version"] = settings["project_version"]
    major = settings["http_api_version"].split(".")[0]
    if not major.isdigit():
        raise ConfigurationError(
            f"Invalid setting {settings_prefix}.http_api_version = "
            f"{settings['http_api_version']!r}: it must start with a number",
            key="http_api_version",
        )
    settings["version_prefix"] = f"v{major}"
    if not settings["userid_hmac_secret"] and not settings["development"]:
        raise ConfigurationError(
            f"Missing setting {settings_prefix}.userid_hmac_secret: set a long random secret "
            f"(or {settings_prefix}.development = true for a development server)",
            key="userid_hmac_secret",
        )
    settings[PREFIX_KEY] = settings_prefix
    given = config.get_settings()
    for key, value in TRANSACTION_DEFAULTS.items():
        if key not in given:  # the application's own pyramid_tm settings are kept
            settings[key] = value
    settings["handle_exceptions"] = False  # cornice: our exception views answer every error
    config.add_settings(settings)
    return settings


def initialize(
    config: Configurator,
    version: str | None = None,
    settings_prefix: str = "cliquetish",
    default_settings: Mapping[str, Any] | None = None,
) -> None:
    """Wire cliquetish into ``config``: settings, backends, pipeline, built-in endpoints.

    ``version`` is the application's version (its major number is the URL prefix unless
    ``http_api_version`` says otherwise). ``default_settings`` replaces built-in defaults; the
    ini file and the environment still take precedence over it.
    """
    defaults = dict(default_settings or {})
    if version is not None:
        defaults["project_version"] = version
    settings = load_default_settings(config, settings_prefix, defaults)
    config.include("cliquetish")
    # What the application adds next (config.scan(), services, routes) lives under /v<major>.
    config.route_prefix = settings["version_prefix"]


def includeme(config: Configurator) -> None:
    """Pyramid include: a flat list of what cliquetish adds to an application."""
    if PREFIX_KEY not in config.get_settings():
        load_default_settings(config)
    config.add_directive("add_storage", directives.add_storage)
    config.add_directive("add_cache", directives.add_cache)
    config.add_directive("add_permission", directives.add_permission)
    config.add_directive("add_heartbeat", directives.add_heartbeat)
    config.add_directive("add_api_capability", directives.add_api_capability)
    directives.add_request_properties(config)
    config.include("pyramid_tm")
    config.include("cliquetish.cornice_hooks")
    config.include("cliquetish.tweens")
    config.include("cliquetish.authentication")
    config.include("cliquetish.views")
    directives.load_backends(config)
    bake_request_properties(config)


def install_middlewares(app: Any, settings: Mapping[str, Any]) -> Any:
    """Wrap the WSGI ``app`` with the profiler when ``profiler_enabled`` (see ``profiler.py``)."""
    from cliquetish.profiler import install_profiler

    return install_profiler(app, settings)
