"""OpenAPI operations of the built-in endpoints (hello, heartbeats, version, batch, ``__api__``).

Each entry of :data:`BUILTINS` maps the path after the version prefix to its operations; the
document lists only the endpoints the application actually routes.
"""

from __future__ import annotations

from typing import Any

from cliquetish.openapi.components import case_insensitive, error_response, json_content, ref

__all__ = ["BUILTINS", "batch_schemas", "builtin_paths"]

Operation = dict[str, Any]

NO_AUTH: list[dict[str, list[str]]] = []
"""``security`` of an operation that needs no credentials."""


def _get(operation_id: str, summary: str, responses: dict[str, Any],
         security: list | None = None) -> dict[str, Operation]:
    operation: Operation = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["Utilities"],
        "responses": {**responses, "default": error_response()},
    }
    operation["security"] = NO_AUTH if security is None else security
    return {"get": operation}


HELLO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["project_name", "project_version", "http_api_version", "url", "settings",
                 "capabilities"],
    "properties": {
        "project_name": {"type": "string"},
        "project_version": {"type": "string"},
        "http_api_version": {"type": "string"},
        "project_docs": {"type": "string"},
        "url": {"type": "string"},
        "eos": {"type": "string"},
        "settings": {
            "type": "object",
            "properties": {"batch_max_requests": {"type": "integer"},
                           "readonly": {"type": "boolean"}},
        },
        "capabilities": {"type": "object", "additionalProperties": {"type": "object"}},
        "user": {
            "type": "object",
            "properties": {"id": {"type": "string"},
                           "principals": {"type": "array", "items": {"type": "string"}}},
        },
    },
}

HEARTBEAT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "boolean"},
    "description": "Each check (storage, cache, permission, ...) and whether it passed.",
}

VERSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in ("source", "version", "commit", "build")},
}


NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


def batch_schemas(max_requests: int) -> dict[str, Any]:
    """The component schemas of the batch endpoint (at most ``max_requests`` requests)."""
    from cliquetish.views.batch import KNOWN_METHODS

    request_fields = {
        "method": {"type": "string", "pattern": case_insensitive(KNOWN_METHODS, padded=False)},
        "path": {"type": "string", "pattern": r"^/[^\x00-\x1f\x7f]*$",
                 "description": "With or without the version prefix; not the batch itself."},
        "headers": {"type": "object", "description": "Header names are HTTP tokens.",
                    "additionalProperties": {"type": "string",
                                             "pattern": NO_CONTROL_CHARACTERS}},
        "body": {"description": "Any JSON, sent as the sub-request's JSON body."},
    }
    requests = {"type": "array", "minItems": 1, "maxItems": max_requests}
    return {
        "BatchRequest": {"type": "object", "properties": request_fields,
                         "additionalProperties": False},
        "BatchPayload": {
            "type": "object",
            "required": ["requests"],
            "additionalProperties": False,
            "properties": {
                "defaults": ref("BatchRequest"),
                "requests": {**requests, "items": ref("BatchRequest")},
            },
            "anyOf": [
                {"required": ["defaults"],
                 "properties": {"defaults": {"required": ["path"]}}},
                {"properties": {"requests": {"items": {"required": ["path"]}}}},
            ],
            "description": "Every request needs a path, its own or the one of defaults.",
        },
        "BatchResponse": {
            "type": "object",
            "required": ["responses"],
            "properties": {"responses": {"type": "array", "items": {
                "type": "object",
                "required": ["status", "path", "headers", "body"],
                "properties": {
                    "status": {"type": "integer"},
                    "path": {"type": "string"},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {"nullable": True},
                },
            }}},
        },
    }


def _batch() -> dict[str, Operation]:
    return {"post": {
        "operationId": "batch",
        "summary": "Several requests in one round trip and one transaction",
        "description": (
            "Sub-requests run in order with the batch's credentials (unless their own headers "
            "say otherwise). A 4xx answer is returned in `responses`; a 5xx answer aborts the "
            "whole batch and becomes its answer. At most `batch_max_requests` requests."
        ),
        "tags": ["Batch"],
        "requestBody": {"required": True, "content": json_content(ref("BatchPayload"))},
        "responses": {
            "200": {"description": "The answers, in request order.",
                    "content": json_content(ref("BatchResponse"))},
            "400": error_response("Invalid batch (errno 106 or 107)."),
            "default": error_response(),
        },
        "security": [{"basicAuth": []}, {}],
    }}


BUILTINS: dict[str, dict[str, Operation]] = {
    "/": _get("server_info", "What this service is: versions, settings, capabilities, user",
              {"200": {"description": "Service information.",
                       "content": json_content(HELLO_SCHEMA)}},
              security=[{"basicAuth": []}, {}]),
    "/__heartbeat__": _get(
        "heartbeat", "Health of every backend",
        {"200": {"description": "Every check passed.", "content": json_content(HEARTBEAT_SCHEMA)},
         "503": {"description": "A check failed or timed out.",
                 "content": json_content(HEARTBEAT_SCHEMA)}},
    ),
    "/__lbheartbeat__": _get(
        "lbheartbeat", "Liveness for load balancers (touches no backend)",
        {"200": {"description": "The process answers.",
                 "content": json_content({"type": "object"})}},
    ),
    "/__version__": _get(
        "version", "The deployed version (version.json)",
        {"200": {"description": "The version file.", "content": json_content(VERSION_SCHEMA)},
         "404": error_response("This deployment has no version file.")},
    ),
    "/__api__": _get(
        "openapi", "This OpenAPI document",
        {"200": {"description": "The OpenAPI 3.0 document.",
                 "content": json_content({"type": "object"})}},
    ),
    "/batch": _batch(),
}
"""Operations of each built-in endpoint, by path after the version prefix."""


def builtin_paths(routed_paths: set[str], prefix: str) -> dict[str, dict[str, Operation]]:
    """The ``paths`` entries of the built-in endpoints present in ``routed_paths``."""
    paths = {}
    for suffix, operations in BUILTINS.items():
        path = prefix + suffix
        if path in routed_paths:
            paths[path] = operations
    return paths
