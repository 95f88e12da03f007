"""Resources used by the resource tests only (scanned next to the demo's)."""

from __future__ import annotations

from typing import Any

import colander

from cliquetish import resource, schema


class NoteSchema(schema.ResourceSchema):
    """A strict schema: unknown fields are refused."""

    title = colander.SchemaNode(colander.String())
    rank = colander.SchemaNode(colander.Integer(), missing=colander.drop)
    slug = colander.SchemaNode(colander.String(), missing=colander.drop)
    author = colander.SchemaNode(colander.Mapping(unknown="preserve"), missing=colander.drop)
    tags = colander.SchemaNode(
        colander.Sequence(), colander.SchemaNode(colander.String()), missing=colander.drop
    )
    done = colander.SchemaNode(colander.Boolean(), missing=colander.drop)
    created = schema.TimeStamp()

    class Options:
        readonly_fields = ("created",)
        unique_fields = ("slug",)


@resource.register()
class Note(resource.UserResource):
    """Per-user notes with a strict schema, sorted by rank by default."""

    schema = NoteSchema
    default_sort = ("rank",)


class DigitIds(resource.IdGenerator):
    """Ids made of digits."""

    regexp = r"^[0-9]{1,12}$"

    def __init__(self) -> None:
        super().__init__()
        self.counter = 0

    def __call__(self) -> str:
        self.counter += 1
        return str(self.counter)


@resource.register(name="task", plural="todo", record_methods=("GET", "PATCH", "DELETE"))
class TaskResource(resource.UserResource):
    """Custom name, plural, id generator, hook and methods (no PUT)."""

    id_generator = DigitIds()

    def process_record(self, new: dict[str, Any], old: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
        new["title"] = str(new.get("title", "")).strip().lower()
        new["revision"] = (old or {}).get("revision", 0) + 1
        return new


class PageSchema(schema.ResourceSchema):
    """Any fields; ``slug`` unique."""

    class Options:
        preserve_unknown = True
        unique_fields = ("slug",)


@resource.register()
class Page(resource.ShareableResource):
    """Shared records with a unique field."""

    schema = PageSchema
