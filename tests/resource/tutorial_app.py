"""The application built in docs/tutorial.rst (the page includes this file; the tests run it)."""

# step: imports
import colander
from pyramid.config import Configurator

import cliquetish
from cliquetish import resource, schema
from cliquetish.events import ResourceChanged

# step: schema


class RecipeSchema(schema.ResourceSchema):
    title = colander.SchemaNode(colander.String())
    minutes = colander.SchemaNode(colander.Integer(), validator=colander.Range(min=1))
    ingredients = colander.SchemaNode(
        colander.Sequence(), colander.SchemaNode(colander.String()), missing=colander.drop
    )
    source = schema.URL(missing=colander.drop)
    slug = colander.SchemaNode(colander.String(), missing=colander.drop)

    class Options:
        unique_fields = ("slug",)
        readonly_fields = ("slug",)


# step: resource


@resource.register()
class Recipe(resource.ShareableResource):
    schema = RecipeSchema
    default_sort = ("minutes", "title")

    def process_record(self, new, old=None):
        new["title"] = new["title"].strip()
        if "slug" not in new:
            new["slug"] = "-".join(new["title"].lower().split())
        return new


# step: subscriber

CHANGES = []


def remember_changes(event):
    CHANGES.append((event.payload["action"], len(event.impacted_records)))


# step: main


def main(global_config=None, **settings):
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan(__name__)
    config.add_subscriber(remember_changes, ResourceChanged, for_resources=("recipe",))
    return config.make_wsgi_app()


# step: end
