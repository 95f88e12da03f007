"""What the OpenAPI document (and the command line) know of each registered resource.

:func:`registered_resources` reads the resources an application registered (the
:class:`~cliquetish.resource.viewset.ResourceSetup` the resource layer computed at start-up)
and describes each with a :class:`ResourceDescription`: paths, enabled methods, schema,
whether records carry permissions, the id pattern and the storage collection id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import colander
from pyramid.registry import Registry

__all__ = ["ResourceDescription", "describe", "registered_resources", "resource_setups"]


@dataclass(frozen=True)
class ResourceDescription:
    """One registered resource, as the OpenAPI document shows it."""

    name: str
    """Singular name (``bookmark``); also the storage collection id."""
    plural: str
    """Plural name (``bookmarks``)."""
    collection_path: str
    """Full path of the collection endpoint (``/v1/bookmarks``)."""
    record_path: str
    """Full path of the record endpoint (``/v1/bookmarks/{id}``)."""
    collection_methods: tuple[str, ...]
    record_methods: tuple[str, ...]
    schema_node: colander.SchemaNode | None
    """The record schema (None: schemaless)."""
    preserve_unknown: bool
    field_names: tuple[str, ...]
    """Fields named by the schema (filters and ``_sort`` accept them)."""
    shareable: bool
    """Records carry ``permissions`` (read, write...)."""
    permission_names: tuple[str, ...]
    user_scoped: bool
    """Records are private to each user (authentication required)."""
    id_pattern: str | None
    object_id_prefix: str
    """Prefix of the permission object ids of the records (``/articles/``)."""
    description: str

    @property
    def collection_id(self) -> str:
        """The storage collection id of the records."""
        return self.name


def resource_setups(registry: Registry) -> list[Any]:
    """The ``ResourceSetup`` of every resource registered in the application."""
    from cliquetish.resource import registered_resources as setups_by_name

    return list(setups_by_name(registry).values())


def _schema_node(setup: Any) -> colander.SchemaNode | None:
    compiled = setup.schema
    if getattr(compiled, "schemaless", False):
        return None
    return compiled.node


def describe(setup: Any) -> ResourceDescription:
    """The description of one ``ResourceSetup``."""
    resource_class = setup.resource_class
    compiled = setup.schema
    permission_names = tuple(getattr(resource_class, "permission_names", ()) or ())
    from cliquetish.resource.access import UserResource

    user_scoped = issubclass(resource_class, UserResource)
    id_generator = setup.id_generator
    doc = (resource_class.__doc__ or "").strip().split("\n\n")[0]
    return ResourceDescription(
        name=setup.name,
        plural=setup.plural,
        collection_path=setup.collection_path,
        record_path=setup.record_path,
        collection_methods=tuple(setup.methods.get("collection", ())),
        record_methods=tuple(setup.methods.get("record", ())),
        schema_node=_schema_node(setup),
        preserve_unknown=bool(compiled.preserve_unknown),
        field_names=tuple(sorted(compiled.field_names)),
        shareable=bool(permission_names),
        permission_names=permission_names,
        user_scoped=user_scoped,
        id_pattern=getattr(id_generator, "regexp", None),
        object_id_prefix=setup.object_uri_prefix,
        description=" ".join(doc.split()) or f"The {setup.plural} resource.",
    )


def registered_resources(registry: Registry) -> list[ResourceDescription]:
    """Descriptions of the application's resources, sorted by collection path."""
    descriptions = [describe(setup) for setup in resource_setups(registry)]
    return sorted(descriptions, key=lambda description: description.collection_path)
