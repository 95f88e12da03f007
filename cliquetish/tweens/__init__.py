"""The request pipeline: one tween per stage (see docs/pipeline.rst)."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    """Add the pipeline tweens in their order."""
