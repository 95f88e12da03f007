"""Schemas of resource records, for ``from cliquetish import schema``::

    class BookmarkSchema(schema.ResourceSchema):
        url = schema.URL()
        added = schema.TimeStamp()

See :mod:`cliquetish.resource.schema` for the ``Options`` of a schema.
"""

from cliquetish.resource.schema import URL, ResourceSchema, TimeStamp

__all__ = ["URL", "ResourceSchema", "TimeStamp"]
