"""The demo application served by ``pserve app.ini``.

It registers two resources:

* ``/v1/bookmarks``: each user's own bookmarks (``url`` required, ``title``, ``tags``; other
  fields are kept too);
* ``/v1/articles``: shared, schemaless records with per-record permissions (``app.ini`` lets any
  authenticated user create one).
"""

from __future__ import annotations

from typing import Any

import colander
from pyramid.config import Configurator

import cliquetish
from cliquetish import resource, schema


class BookmarkSchema(schema.ResourceSchema):
    """A bookmark: a URL with an optional title and tags."""

    url = schema.URL()
    title = colander.SchemaNode(colander.String(), missing=colander.drop)
    tags = colander.SchemaNode(
        colander.Sequence(), colander.SchemaNode(colander.String()), missing=colander.drop
    )

    class Options:
        preserve_unknown = True


@resource.register()
class Bookmark(resource.UserResource):
    """Bookmarks, private to each user."""

    schema = BookmarkSchema


@resource.register()
class Article(resource.ShareableResource):
    """Articles, shared with the principals their permissions name (schemaless)."""


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Any:
    """WSGI application factory of the demo."""
    config = Configurator(settings=settings)
    cliquetish.initialize(
        config, version=cliquetish.__version__, default_settings={"http_api_version": "1.0"}
    )
    config.scan("cliquetish.demo")
    app = config.make_wsgi_app()
    return cliquetish.install_middlewares(app, config.get_settings())
