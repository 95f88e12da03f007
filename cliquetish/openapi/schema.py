"""Colander schemas as OpenAPI 3.0 schema objects.

:func:`node_schema` turns a colander node (a resource's record schema, or any field of it)
into the JSON schema dialect of OpenAPI 3.0: ``string``/``integer``/``number``/``boolean``/
``array``/``object``, ``required`` members, ``enum``, lengths, ranges, patterns and formats
(``uri`` for :class:`cliquetish.resource.schema.URL`, ``email``, ``date-time``, ``date``).
Validators it cannot express (plain functions) are left out: the document then accepts more
than the server does, never less.
"""

from __future__ import annotations

import re
from typing import Any

import colander

__all__ = ["node_schema", "record_schema", "validator_keywords"]

SchemaObject = dict[str, Any]

SIMPLE_TYPES: tuple[tuple[type[colander.SchemaType], SchemaObject], ...] = (
    (colander.Boolean, {"type": "boolean"}),
    (colander.Integer, {"type": "integer"}),
    (colander.Float, {"type": "number"}),
    (colander.Decimal, {"type": "number"}),
    (colander.Money, {"type": "number"}),
    (colander.DateTime, {"type": "string", "format": "date-time"}),
    (colander.Date, {"type": "string", "format": "date"}),
    (colander.Time, {"type": "string", "format": "time"}),
    (colander.String, {"type": "string"}),
    (colander.Set, {"type": "array", "uniqueItems": True}),
    (colander.List, {"type": "array"}),
)


def _is_url_node(node: colander.SchemaNode) -> bool:
    from cliquetish.resource.schema import URL

    return isinstance(node, URL)


def _length_keywords(validator: colander.Length, json_type: str | None) -> SchemaObject:
    names = {"string": ("minLength", "maxLength"), "array": ("minItems", "maxItems"),
             "object": ("minProperties", "maxProperties")}.get(json_type or "")
    if names is None:
        return {}
    keywords: SchemaObject = {}
    if validator.min is not None:
        keywords[names[0]] = validator.min
    if validator.max is not None:
        keywords[names[1]] = validator.max
    return keywords


def _regex_keywords(validator: colander.Regex) -> SchemaObject:
    if validator is colander.url:
        return {"format": "uri"}
    if isinstance(validator, colander.Email):
        return {"format": "email"}
    pattern = validator.match_object.pattern
    if isinstance(pattern, str) and not validator.match_object.flags & ~re.UNICODE:
        return {"pattern": pattern}
    return {}


def validator_keywords(validator: Any, json_type: str | None) -> SchemaObject:
    """The schema keywords that express a colander ``validator`` (``{}`` when none do)."""
    if validator is None:
        return {}
    if isinstance(validator, colander.All):
        keywords: SchemaObject = {}
        for inner in validator.validators:
            keywords.update(validator_keywords(inner, json_type))
        return keywords
    if isinstance(validator, colander.Length):
        return _length_keywords(validator, json_type)
    if isinstance(validator, colander.Range):
        keywords = {}
        if validator.min is not None:
            keywords["minimum"] = validator.min
        if validator.max is not None:
            keywords["maximum"] = validator.max
        return keywords
    if isinstance(validator, colander.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, colander.Regex):
        return _regex_keywords(validator)
    return {}


def _mapping_schema(node: colander.SchemaNode, for_request: bool) -> SchemaObject:
    properties = {child.name: node_schema(child, for_request) for child in node.children}
    schema: SchemaObject = {"type": "object", "properties": properties}
    required = [child.name for child in node.children if child.required]
    if required and for_request:
        schema["required"] = required
    unknown = getattr(node.typ, "unknown", "ignore")
    if unknown == "raise" and for_request:
        schema["additionalProperties"] = False
    return schema


def _type_schema(node: colander.SchemaNode, for_request: bool) -> SchemaObject:
    typ = node.typ
    if isinstance(typ, colander.Mapping):
        return _mapping_schema(node, for_request)
    if isinstance(typ, colander.Sequence):
        items = node_schema(node.children[0], for_request) if node.children else {}
        return {"type": "array", "items": items}
    if isinstance(typ, colander.Tuple):
        return {"type": "array", "minItems": len(node.children),
                "maxItems": len(node.children)}
    for colander_type, schema in SIMPLE_TYPES:
        if isinstance(typ, colander_type):
            if schema.get("type") == "array" and "items" not in schema:
                return {**schema, "items": {}}
            return dict(schema)
    return {}


def node_schema(node: colander.SchemaNode, for_request: bool = True) -> SchemaObject:
    """The OpenAPI schema of a colander ``node``.

    ``for_request`` keeps what constrains a request body (``required``, no unknown members);
    response schemas drop them because ``_fields`` may shorten records.
    """
    schema = _type_schema(node, for_request)
    schema.update(validator_keywords(node.validator, schema.get("type")))
    if _is_url_node(node):
        schema["format"] = "uri"
    title = getattr(node, "title", None)
    if node.description:
        schema["description"] = str(node.description)
    elif title and title != node.name.replace("_", " ").title():
        schema["title"] = str(title)
    default = node.default
    if default is not colander.null and isinstance(default, str | int | float | bool):
        schema["default"] = default
    return schema


def record_schema(
    node: colander.SchemaNode | None, preserve_unknown: bool, for_request: bool
) -> SchemaObject:
    """The schema of a record's ``data``: the resource schema plus ``id`` and
    ``last_modified``. ``node`` ``None`` means a schemaless resource (any fields)."""
    if node is None:
        schema: SchemaObject = {"type": "object", "properties": {}}
    else:
        schema = _mapping_schema(node, for_request)
    schema["properties"] = {
        **schema["properties"],
        "id": {"type": "string", "description": "Record id."},
        "last_modified": {"type": "integer", "minimum": 0,
                          "description": "Modification time, epoch milliseconds."},
    }
    if preserve_unknown or node is None:
        schema.pop("additionalProperties", None)
    elif for_request:
        schema["additionalProperties"] = False
    return schema
