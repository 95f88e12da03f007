"""OpenAPI paths and schemas of one registered resource.

The collection endpoint gets ``GET``/``HEAD`` (listing, with every filter of the querystring
grammar on the schema's fields), ``POST`` and ``DELETE``; the record endpoint ``GET``, ``PUT``,
``PATCH`` (the three patch media types) and ``DELETE`` — only the methods the application
enabled. Every operation lists its success answers, the errors it can give, and ``default``
(the error body) for the statuses any endpoint may give (406, 415, 429, 503...).
"""

from __future__ import annotations

from typing import Any

from cliquetish.openapi.components import (
    case_insensitive,
    error_response,
    header_ref,
    json_content,
    ref,
)
from cliquetish.openapi.resources import ResourceDescription
from cliquetish.openapi.schema import record_schema
from cliquetish.resource.querystring import PREFIXES

__all__ = ["resource_paths", "resource_schemas", "shared_schemas"]

Operation = dict[str, Any]
BUILTIN_FIELDS = ("id", "last_modified")
PATCH_MEDIA_TYPES = ("application/json", "application/merge-patch+json")
JSON_PATCH = "application/json-patch+json"
TIMESTAMP = r'("[0-9]+"|[0-9]+)'
TIMESTAMP_PATTERN = rf"^\s*{TIMESTAMP}\s*$"
TIMESTAMP_LIST_PATTERN = rf"^\s*{TIMESTAMP}\s*(,\s*{TIMESTAMP}\s*)*$"
ETAG_PATTERN = r'^\s*(\*|"[0-9]+")\s*$'
PART = r"[^,.\s]([^,.]*[^,.\s])?"
FIELD = rf"\s*{PART}(\.{PART})*\s*"
FIELD_LIST_PATTERN = rf"^{FIELD}(,{FIELD})*$"
SORT_LIST_PATTERN = rf"^\s*[-+]?{FIELD}(,\s*[-+]?{FIELD})*$"
NOT_JSON_ARRAY_PATTERN = r"^(?!\s*\[)"
BOOLEAN_WORDS = ("true", "false", "1", "0")

SUCCESS_HEADERS = {"ETag": header_ref("ETag"), "Last-Modified": header_ref("Last-Modified")}


def shared_schemas() -> dict[str, Any]:
    """Component schemas every resource uses: tombstones, permissions, JSON patches."""
    return {
        "Tombstone": {
            "type": "object",
            "required": ["id", "last_modified", "deleted"],
            "properties": {"id": {"type": "string"}, "last_modified": {"type": "integer"},
                           "deleted": {"type": "boolean", "enum": [True]}},
        },
        "Permissions": {
            "type": "object",
            "description": "Principals granted each permission.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "JsonPatch": {
            "type": "array",
            "description": "RFC 6902 operations, applied to {data, permissions}.",
            "items": {
                "type": "object",
                "required": ["op", "path"],
                "properties": {
                    "op": {"type": "string",
                           "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                    "path": {"type": "string"},
                    "from": {"type": "string"},
                    "value": {},
                },
            },
        },
    }


def _body_schema(description: ResourceDescription, data: dict[str, Any],
                 data_required: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"data": data}
    if description.shareable:
        properties["permissions"] = ref("Permissions")
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if data_required:
        schema["required"] = ["data"]
    return schema


def resource_schemas(description: ResourceDescription) -> dict[str, Any]:
    """The component schemas of one resource (``<name>.record``, ``<name>.create``, ...)."""
    name = description.name
    node, preserve = description.schema_node, description.preserve_unknown
    data = record_schema(node, preserve, for_request=True)
    if description.id_pattern:
        data["properties"]["id"] = {**data["properties"]["id"],
                                    "pattern": description.id_pattern}
    partial = {key: value for key, value in data.items() if key != "required"}
    record = record_schema(node, preserve, for_request=False)
    record["required"] = list(BUILTIN_FIELDS)
    response = _body_schema(description, ref(f"{name}.record"), True)
    return {
        f"{name}.record": record,
        f"{name}.data": data,
        f"{name}.partial": partial,
        f"{name}.create": _body_schema(description, ref(f"{name}.data"),
                                       bool(data.get("required"))),
        f"{name}.patch": _body_schema(description, ref(f"{name}.partial"), False),
        f"{name}.merge_patch": _body_schema(description, {"type": "object"}, False),
        f"{name}.response": response,
        f"{name}.list": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": {
                "anyOf": [ref(f"{name}.record"), ref("Tombstone")]}}},
        },
        f"{name}.tombstones": {
            "type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": ref("Tombstone")}},
        },
        f"{name}.deleted": {
            "type": "object", "required": ["data"], "properties": {"data": ref("Tombstone")},
        },
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _header(name: str, description: str, schema: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


ETAG_SCHEMA = {"type": "string", "pattern": ETAG_PATTERN}
IF_MATCH = _header("If-Match", 'Only if the current ETag equals this quoted timestamp ("*": '
                               "only if the record exists); else 412.", ETAG_SCHEMA)
IF_NONE_MATCH = _header("If-None-Match", 'Answer 304 when the current ETag equals this quoted '
                                         'timestamp ("*": only if the record does not exist).',
                        ETAG_SCHEMA)


def filter_value_schema(field: str, operator: str) -> dict[str, Any]:
    """What a filter parameter accepts: timestamps on last_modified, booleans for has_,
    comma lists (or JSON arrays) for the list operators."""
    if operator == "has":
        return {"type": "string", "pattern": case_insensitive(BOOLEAN_WORDS)}
    if operator == "like" or field == "id":
        return {"type": "string"}
    listing = operator in ("in", "exclude", "contains", "contains_any")
    if field == "last_modified":
        return {"type": "string",
                "pattern": TIMESTAMP_LIST_PATTERN if listing else TIMESTAMP_PATTERN}
    if listing:
        return {"type": "string", "pattern": NOT_JSON_ARRAY_PATTERN,
                "description": "Comma-separated values (a JSON array is also accepted)."}
    return {"type": "string"}


def filter_parameters(description: ResourceDescription) -> list[dict[str, Any]]:
    """A query parameter per filter operator and field the schema names."""
    fields = list(BUILTIN_FIELDS) + [name for name in description.field_names
                                     if name not in BUILTIN_FIELDS]
    parameters = []
    for field in fields:
        parameters.append(_query(field, f"{field} equals the value (JSON-typed).",
                                 filter_value_schema(field, "eq")))
        for prefix, operator in reversed(PREFIXES):
            parameters.append(_query(f"{prefix}{field}",
                                     f"Filter {field} with the {operator.value} operator.",
                                     filter_value_schema(field, operator.value)))
    return parameters


def fields_schema(description: ResourceDescription, sort: bool) -> dict[str, Any]:
    """``_fields`` and ``_sort``: comma-separated fields (``-`` for descending sorts)."""
    if description.preserve_unknown:
        return {"type": "string", "pattern": SORT_LIST_PATTERN if sort else FIELD_LIST_PATTERN}
    names = [*BUILTIN_FIELDS, *description.field_names]
    if sort:
        names = [prefix + name for name in names for prefix in ("", "-")]
    return {"type": "array", "items": {"type": "string", "enum": names}, "uniqueItems": True,
            "minItems": 1}


def _list_query(name: str, text: str, schema: dict[str, Any]) -> dict[str, Any]:
    parameter = _query(name, text, schema)
    if schema["type"] == "array":
        parameter.update(style="form", explode=False)
    return parameter


def listing_parameters(description: ResourceDescription, paged: bool) -> list[dict[str, Any]]:
    """The querystring of a listing: filters, ``_since``/``_before``, ``_sort``, ``_limit``,
    ``_token`` (only when ``paged``) and ``_fields``."""
    parameters = filter_parameters(description)
    parameters += [
        _query("_since", "Only records (and tombstones) modified after this timestamp.",
               {"type": "string", "pattern": TIMESTAMP_PATTERN}),
        _query("_before", "Only records (and tombstones) modified before this timestamp.",
               {"type": "string", "pattern": TIMESTAMP_PATTERN}),
        _list_query("_sort", "Comma-separated fields, - for descending (default "
                    "-last_modified).", fields_schema(description, sort=True)),
        _query("_limit", "Most records answered (capped by the server).",
               {"type": "integer", "minimum": 1}),
        _list_query("_fields", "Comma-separated fields to answer (id and last_modified "
                    "always).", fields_schema(description, sort=False)),
    ]
    if paged:
        parameters.append(_query("_token", "Where the previous page ended (from Next-Page).",
                                 {"type": "string"}))
    return parameters


def _operation(description: ResourceDescription, operation_id: str, summary: str,
               responses: dict[str, Any], parameters: list[dict[str, Any]] | None = None,
               request_body: dict[str, Any] | None = None) -> Operation:
    errors = {"401": error_response("Authentication is needed (errno 104)."),
              "403": error_response("Not allowed (errno 121).")}
    operation: Operation = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [description.plural],
        "parameters": parameters or [],
        "responses": {**responses, **errors, "default": error_response()},
        "security": [{"basicAuth": []}] if description.user_scoped else [{"basicAuth": []}, {}],
    }
    if request_body is not None:
        operation["requestBody"] = request_body
    return operation


def _ok(schema_name: str, text: str, **extra_headers: Any) -> dict[str, Any]:
    return {"description": text, "headers": {**SUCCESS_HEADERS, **extra_headers},
            "content": json_content(ref(schema_name))}


NOT_MODIFIED = {"description": "Not modified since the given ETag.", "headers": SUCCESS_HEADERS}
INVALID = error_response("Invalid parameters (errno 107) or body (errno 106).")
PRECONDITION = error_response("Modified meanwhile (errno 114).")
CONFLICT = error_response("Another record has the value of a unique field (errno 122).")
NOT_FOUND = error_response("No such record (errno 110 or 111).")


def _listing_summary(description: ResourceDescription) -> str:
    summary = f"List {description.plural}"
    if description.preserve_unknown:
        summary += (" (fields the schema does not name can be filtered, sorted and selected "
                    "like the named ones)")
    return summary


def collection_operations(description: ResourceDescription) -> dict[str, Operation]:
    """Operations of the collection endpoint, by lower-case method."""
    name, plural = description.name, description.plural
    methods = set(description.collection_methods)
    operations: dict[str, Operation] = {}
    if "GET" in methods:
        listing = listing_parameters(description, paged=True)
        operations["get"] = _operation(
            description, f"list_{plural}", _listing_summary(description),
            {"200": _ok(f"{name}.list", "The records of the page (tombstones with _since "
                                       "or _before).", **{"Next-Page": header_ref("Next-Page")}),
             "304": NOT_MODIFIED, "400": INVALID, "412": PRECONDITION},
            [*listing, IF_MATCH, IF_NONE_MATCH])
        operations["head"] = _operation(
            description, f"count_{plural}", f"Count {plural} (Total-Records)",
            {"200": {"description": "The count, in Total-Records.", "headers": {
                **SUCCESS_HEADERS, "Total-Records": header_ref("Total-Records")}},
             "304": NOT_MODIFIED, "400": INVALID, "412": PRECONDITION},
            [*listing, IF_MATCH, IF_NONE_MATCH])
    if "POST" in methods:
        operations["post"] = _operation(
            description, f"create_{name}", f"Create a {name}",
            {"200": _ok(f"{name}.response", "A record with this data.id exists already."),
             "201": _ok(f"{name}.response", "Created."),
             "400": INVALID, "409": CONFLICT, "412": PRECONDITION},
            [IF_MATCH, IF_NONE_MATCH],
            {"required": True, "content": json_content(ref(f"{name}.create"))})
    if "DELETE" in methods:
        operations["delete"] = _operation(
            description, f"delete_{plural}", f"Delete the matching {plural}",
            {"200": _ok(f"{name}.tombstones", "The tombstones of the deleted records.",
                        **{"Next-Page": header_ref("Next-Page")}),
             "400": INVALID, "412": PRECONDITION},
            [*listing_parameters(description, paged=False), IF_MATCH, IF_NONE_MATCH])
    return operations


def _patch_body(name: str) -> dict[str, Any]:
    content = {
        "application/json": {"schema": ref(f"{name}.patch")},
        "application/merge-patch+json": {"schema": ref(f"{name}.merge_patch")},
        JSON_PATCH: {"schema": ref("JsonPatch")},
    }
    return {"required": True, "content": content}


def record_operations(description: ResourceDescription) -> dict[str, Operation]:
    """Operations of the record endpoint, by lower-case method."""
    name = description.name
    methods = set(description.record_methods)
    id_schema: dict[str, Any] = {"type": "string"}
    if description.id_pattern:
        id_schema["pattern"] = description.id_pattern
    path_id = {"name": "id", "in": "path", "required": True, "schema": id_schema,
               "description": f"The {name} id."}
    preconditions = [path_id, IF_MATCH, IF_NONE_MATCH]
    fields = _list_query("_fields", "Comma-separated fields to answer.",
                         fields_schema(description, sort=False))
    behavior = _header("Response-Behavior", "What the answer holds: the full record, the "
                       "fields sent (light) or those the server changed (diff).",
                       {"type": "string", "enum": ["full", "light", "diff"]})
    common = {"400": INVALID, "404": NOT_FOUND, "412": PRECONDITION}
    operations: dict[str, Operation] = {}
    if "GET" in methods:
        operations["get"] = _operation(
            description, f"get_{name}", f"Get a {name}",
            {"200": _ok(f"{name}.response", "The record."), "304": NOT_MODIFIED, **common},
            [*preconditions, fields])
    if "PUT" in methods:
        operations["put"] = _operation(
            description, f"replace_{name}", f"Create or replace a {name}",
            {"200": _ok(f"{name}.response", "Replaced."),
             "201": _ok(f"{name}.response", "Created."), **common, "409": CONFLICT},
            preconditions,
            {"required": True, "content": json_content(ref(f"{name}.create"))})
    if "PATCH" in methods:
        operations["patch"] = _operation(
            description, f"patch_{name}", f"Modify a {name}",
            {"200": _ok(f"{name}.response", "Modified."), **common, "409": CONFLICT},
            [*preconditions, behavior], _patch_body(name))
    if "DELETE" in methods:
        operations["delete"] = _operation(
            description, f"delete_{name}", f"Delete a {name}",
            {"200": _ok(f"{name}.deleted", "The tombstone."), **common},
            preconditions)
    return operations


def resource_paths(description: ResourceDescription) -> dict[str, dict[str, Operation]]:
    """The ``paths`` entries of one resource (endpoints without methods left out)."""
    paths = {}
    collection = collection_operations(description)
    if collection:
        paths[description.collection_path] = collection
    record = record_operations(description)
    if record:
        paths[description.record_path] = record
    return paths
