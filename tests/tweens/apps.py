"""Test applications for the pipeline and built-in endpoint tests.

:func:`build_app` makes a :class:`webtest.TestApp` of a real cliquetish application (version
1.0.0, so under ``/v1``), without backends unless asked, and lets a test add its own views,
heartbeats or tweens through ``configure(config)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import webtest
from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

import cliquetish
from cliquetish.testing import make_app

NO_BACKENDS = {"storage_backend": "", "cache_backend": "", "permission_backend": ""}


def build_app(
    settings: Mapping[str, Any] | None = None,
    configure: Callable[[Configurator], None] | None = None,
    extra_environ: Mapping[str, str] | None = None,
) -> webtest.TestApp:
    """A TestApp of an application with ``settings`` (unprefixed) and ``configure`` applied."""

    def factory(global_config: Any, **raw: Any) -> Any:
        config = Configurator(settings=raw)
        cliquetish.initialize(config, version="1.0.0")
        if configure is not None:
            configure(config)
        app = config.make_wsgi_app()
        return cliquetish.install_middlewares(app, config.get_settings())

    return make_app({**NO_BACKENDS, **(settings or {})}, app_factory=factory,
                    extra_environ=extra_environ)


def add_plain_view(
    config: Configurator, name: str, path: str, view: Callable[..., Any], **view_args: Any
) -> None:
    """Add a route (under the version prefix) and its view, no permission needed."""
    config.add_route(name, path)
    config.add_view(view, route_name=name, permission=NO_PERMISSION_REQUIRED, **view_args)
