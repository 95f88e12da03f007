"""The demo application served by ``pserve app.ini``."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

import cliquetish


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Any:
    """WSGI application factory of the demo."""
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version=cliquetish.__version__)
    config.scan("cliquetish.demo")
    app = config.make_wsgi_app()
    return cliquetish.install_middlewares(app, config.get_settings())
