"""PATCH bodies in their three media types, and the ``Response-Behavior`` header.

* ``application/json``: ``{"data": {...}, "permissions": {...}}`` merged shallowly: each
  field of ``data`` replaces the record's; each permission named replaces its principals.
* ``application/merge-patch+json``: the same body applied as an RFC 7396 merge patch (nested
  objects merged, ``null`` removes a field).
* ``application/json-patch+json``: an RFC 6902 operation list applied to the document
  ``{"data": <record>, "permissions": {"read": [...], "write": [...]}}``, so paths read
  ``/data/title`` or ``/permissions/read/0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from cliquetish.resource.http import invalid
from cliquetish.resource.schema import InvalidBody, check_body

__all__ = [
    "JSON",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_TYPES",
    "PatchResult",
    "apply_patch",
    "merge_patch",
    "response_behavior",
    "shape_response",
]

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
PATCH_TYPES = (JSON, MERGE_PATCH, JSON_PATCH)
BEHAVIORS = ("full", "light", "diff")


@dataclass
class PatchResult:
    """The patched record data, the patched permissions (None: unchanged) and what the
    request sent for each top-level field it touched."""

    data: dict[str, Any]
    permissions: dict[str, Any] | None
    sent: dict[str, Any]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` merged into ``target`` (neither is modified)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _object_part(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name, {})
    if not isinstance(value, dict):
        raise InvalidBody([{"location": "body", "name": name,
                            "description": "Should be a JSON object"}])
    return value


def _merge_body(media_type: str, body: Any, record: dict[str, Any],
                permissions: dict[str, list[str]] | None) -> PatchResult:
    body = check_body(body, permissions is not None)
    changes = _object_part(body, "data")
    shallow = media_type != MERGE_PATCH
    data = {**record, **changes} if shallow else merge_patch(record, changes)
    new_permissions = None
    if permissions is not None and "permissions" in body:
        requested = _object_part(body, "permissions")
        new_permissions = merge_patch(permissions, requested)
    return PatchResult(data, new_permissions, changes)


def _touched_fields(operations: list[Any]) -> set[str]:
    fields = set()
    for operation in operations:
        for key in ("path", "from"):
            pointer = operation.get(key) if isinstance(operation, dict) else None
            if isinstance(pointer, str) and pointer.startswith("/data/"):
                fields.add(jsonpointer.JsonPointer(pointer).parts[1])
    return fields


def _json_patch(body: Any, record: dict[str, Any],
                permissions: dict[str, list[str]] | None) -> PatchResult:
    if not isinstance(body, list):
        raise invalid("body", "body", "Should be a JSON array of JSON-patch operations")
    document: dict[str, Any] = {"data": record}
    if permissions is not None:
        document["permissions"] = permissions
    try:
        patched = jsonpatch.JsonPatch(body).apply(document)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError,
            KeyError, AttributeError) as error:
        raise invalid("body", "body", f"Invalid JSON patch: {error}") from error
    if not isinstance(patched, dict) or set(patched) != set(document):
        raise invalid("body", "body", "A JSON patch may only change /data and /permissions")
    data = patched["data"]
    sent = {name: data[name] for name in _touched_fields(body) if isinstance(data, dict)
            and name in data}
    new_permissions = patched.get("permissions") if permissions is not None else None
    return PatchResult(data, new_permissions, sent)


def apply_patch(media_type: str, body: Any, record: dict[str, Any],
                permissions: dict[str, list[str]] | None) -> PatchResult:
    """The record (and permissions, when the resource has them) after the PATCH ``body``.

    :raises InvalidBody: or an HTTP 400 for a malformed body or patch.
    """
    if media_type == JSON_PATCH:
        return _json_patch(body, record, permissions)
    return _merge_body(media_type, body, record, permissions)


def response_behavior(request: Any) -> str:
    """``Response-Behavior``: full (default), light or diff; 400 otherwise."""
    raw = request.headers.get("Response-Behavior")
    if raw is None:
        return "full"
    value = raw.strip().lower()
    if value not in BEHAVIORS:
        raise invalid("header", "Response-Behavior", f"Should be one of {', '.join(BEHAVIORS)}")
    return value


def shape_response(behavior: str, record: dict[str, Any], sent: dict[str, Any]
                   ) -> dict[str, Any]:
    """The ``data`` answered to a PATCH.

    ``full``: the whole record; ``light``: the fields the request sent, as stored; ``diff``:
    those of them stored with another value than the one sent (changed by the server). ``id``
    and ``last_modified`` are always kept.
    """
    if behavior == "full":
        return record
    kept = {key: record[key] for key in ("id", "last_modified") if key in record}
    for key in sent:
        if key not in record:
            continue
        if behavior == "light" or record[key] != sent[key]:
            kept[key] = record[key]
    return kept
