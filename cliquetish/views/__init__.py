"""Built-in endpoints: hello, heartbeats, version, batch, OpenAPI, and the exception views."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    """Add the built-in endpoints."""
