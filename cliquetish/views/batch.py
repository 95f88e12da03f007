"""``POST /v1/batch``: several requests in one round trip and one transaction.

Body::

    {"defaults": {"method": "POST", "path": "/articles", "headers": {...}, "body": {...}},
     "requests": [{"method": "GET", "path": "/articles?_limit=5", "headers": {...}}, ...]}

Answer: ``{"responses": [{"status", "path", "headers", "body"}, ...]}`` in request order.

* ``defaults`` is merged into every request (objects such as ``headers`` and ``body`` merged
  key by key, the request winning; header names compared case-insensitively).
* A path may omit the version prefix (``/articles`` means ``/v1/articles``); the batch endpoint
  itself cannot be a target.
* Sub-requests inherit the batch's headers (``Authorization`` among them), except those that
  describe the batch's own body and preconditions, and go through the whole pipeline:
  authentication, validation, read-only mode, summary log line.
* All sub-requests share the batch's transaction. A 4xx answer is returned in ``responses``
  and only that sub-request's own writes are undone (when every backend joined to the
  transaction supports savepoints); a 5xx answer stops the batch, aborts the whole transaction
  and becomes the batch's answer.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import orjson
from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from transaction._transaction import NoRollbackSavepoint

from cliquetish.cornice_hooks import add_service
from cliquetish.errors import ERRORS, http_error
from cliquetish.jsonbody import load_json_body
from cliquetish.views import json_response
from cliquetish.views.errors import json_error_handler

__all__ = ["BATCH_ENVIRON_KEY", "batch_view", "includeme", "merge_defaults", "validate_payload"]

logger = logging.getLogger(__name__)

BATCH_ENVIRON_KEY = "cliquetish.batch.parent"
"""Environ key of a sub-request: the batch request it belongs to."""

KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REQUEST_FIELDS = ("method", "path", "headers", "body")
NOT_INHERITED_HEADERS = frozenset({
    "content-length", "content-type", "content-encoding", "transfer-encoding", "expect",
    "if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
})
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
PATH_SAFE_CHARACTERS = "/:@!$&'()*+,;=-._~%?"


class Problems:
    """Collects validation problems as the ``details`` of a 400 errno 107 answer."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def add(self, name: str, description: str) -> None:
        """Record that the body field ``name`` is wrong because of ``description``."""
        self.details.append({"location": "body", "name": name, "description": description})

    def raise_if_any(self) -> None:
        """Raise the 400 answer naming the first problem, listing them all."""
        if self.details:
            first = self.details[0]
            message = f"{first['name']} in body: {first['description']}"
            raise http_error(400, ERRORS.INVALID_PARAMETERS, message, self.details)


def _check_headers(headers: Any, name: str, problems: Problems) -> None:
    if not isinstance(headers, dict):
        problems.add(name, "must be an object of header names to strings")
        return
    for header, value in headers.items():
        if not HEADER_NAME.match(header):
            problems.add(f"{name}.{header}", "is not a valid header name")
        elif not isinstance(value, str):
            problems.add(f"{name}.{header}",
                         f"must be a string, not {type(value).__name__}")
        elif CONTROL_CHARACTERS.search(value):
            problems.add(f"{name}.{header}", "must not contain control characters")


def _check_request_fields(spec: Any, name: str, problems: Problems) -> None:
    """Check the type of each field of a request (or of ``defaults``); nothing is required."""
    if not isinstance(spec, dict):
        problems.add(name, "must be an object")
        return
    for key in spec:
        if key not in REQUEST_FIELDS:
            problems.add(f"{name}.{key}", f"is not allowed (expected {', '.join(REQUEST_FIELDS)})")
    method = spec.get("method")
    if "method" in spec and (
        not isinstance(method, str) or method.upper() not in KNOWN_METHODS
    ):
        problems.add(f"{name}.method", f"must be one of {', '.join(KNOWN_METHODS)}")
    path = spec.get("path")
    if "path" in spec:
        if not isinstance(path, str) or not path.startswith("/"):
            problems.add(f"{name}.path", "must be a string starting with /")
        elif CONTROL_CHARACTERS.search(path):
            problems.add(f"{name}.path", "must not contain control characters")
    if "headers" in spec:
        _check_headers(spec["headers"], f"{name}.headers", problems)


def validate_payload(payload: Any, max_requests: int) -> tuple[dict[str, Any], list[dict]]:
    """Check a batch body; return its ``defaults`` and its ``requests`` (not merged yet).

    :raises HTTPBadRequest: errno 107, every problem listed in ``details``.
    """
    problems = Problems()
    if not isinstance(payload, dict):
        problems.add("body", "must be a JSON object with a requests list")
        problems.raise_if_any()
    for key in payload:
        if key not in ("defaults", "requests"):
            problems.add(key, "is not allowed (expected defaults, requests)")
    defaults = payload.get("defaults", {})
    _check_request_fields(defaults, "defaults", problems)
    requests = payload.get("requests")
    if "requests" not in payload:
        problems.add("requests", "Required")
    elif not isinstance(requests, list):
        problems.add("requests", "must be a list of requests")
    elif not requests:
        problems.add("requests", "must contain at least one request")
    elif len(requests) > max_requests:
        problems.add("requests", f"Number of requests is limited to {max_requests}")
    else:
        for index, spec in enumerate(requests):
            _check_request_fields(spec, f"requests.{index}", problems)
    problems.raise_if_any()
    return defaults, requests


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    return copy.deepcopy(override)


def _merge_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            merged[name.lower()] = (name, value)
    return dict(merged.values())


def merge_defaults(defaults: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """A request with ``defaults`` filled in: objects merged key by key, ``spec`` winning."""
    merged = _deep_merge(copy.deepcopy(dict(defaults)), dict(spec))
    merged["headers"] = _merge_headers(defaults.get("headers", {}), spec.get("headers", {}))
    merged["method"] = str(merged.get("method") or "GET").upper()
    return merged


def full_path(path: str, prefix: str) -> str:
    """``path`` with the version prefix (``/v1``) added when absent, non-ASCII percent-encoded."""
    path = quote(path, safe=PATH_SAFE_CHARACTERS)
    if path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "?"):
        return path
    return prefix + path


def targets_batch(path: str, batch_path: str) -> bool:
    """True when ``path`` (prefixed) would reach the batch endpoint."""
    path_info = unquote(path.split("?", 1)[0])
    return re.sub("/+", "/", path_info).rstrip("/") == batch_path


def check_targets(requests: list[dict[str, Any]], prefix: str, batch_path: str) -> None:
    """Every merged request needs a path, and none may target the batch endpoint."""
    problems = Problems()
    for index, spec in enumerate(requests):
        if "path" not in spec:
            problems.add(f"requests.{index}.path", "Required")
        elif targets_batch(full_path(spec["path"], prefix), batch_path):
            problems.add(f"requests.{index}.path", "Recursive call on batch endpoint")
    problems.raise_if_any()


def build_subrequest(request: Request, spec: Mapping[str, Any], path: str) -> Request:
    """The WSGI request of one batch entry, inheriting the batch's headers and transaction."""
    inherited = {
        name: value for name, value in request.headers.items()
        if name.lower() not in NOT_INHERITED_HEADERS
    }
    request_id = getattr(request, "request_id", None)
    correlation = {"X-Request-Id": request_id} if request_id else {}
    headers = _merge_headers(inherited, correlation, spec["headers"])
    # The class of the batch request: the application's request factory, with its properties.
    subrequest = type(request).blank(path, base_url=request.host_url, headers=headers)
    subrequest.method = spec["method"]
    for key in ("REMOTE_ADDR", "tm.active", "tm.manager"):
        if key in request.environ:
            subrequest.environ[key] = request.environ[key]
    subrequest.environ[BATCH_ENVIRON_KEY] = request
    if "body" in spec:
        subrequest.body = orjson.dumps(spec["body"])
        if not any(name.lower() == "content-type" for name in headers):
            subrequest.content_type = "application/json"
    return subrequest


def response_summary(response: Response, path: str) -> dict[str, Any]:
    """One entry of ``responses``: status, path, headers and the decoded body."""
    body: Any = None
    if response.body:
        body = response.body.decode(response.charset or "utf-8", "replace")
        if "json" in (response.content_type or ""):
            with contextlib.suppress(orjson.JSONDecodeError):
                body = orjson.loads(response.body)
    return {
        "status": response.status_code,
        "path": path,
        "headers": dict(response.headers),
        "body": body,
    }


def open_savepoint(request: Request) -> Any:
    """A savepoint of the batch's transaction that can be rolled back, or ``None``."""
    if not request.environ.get("tm.active"):
        return None
    savepoint = request.tm.get().savepoint(optimistic=True)
    # A backend whose data manager cannot roll back to a savepoint gets a no-rollback one;
    # rolling it back would fail the whole transaction, so then nothing is undone.
    if any(isinstance(part, NoRollbackSavepoint) for part in savepoint._savepoints):
        return None
    return savepoint


def run_subrequest(request: Request, spec: Mapping[str, Any], path: str) -> Response:
    """Invoke one sub-request through the whole pipeline; undo its writes if it fails."""
    savepoint = open_savepoint(request)
    subrequest = build_subrequest(request, spec, path)
    response = request.invoke_subrequest(subrequest, use_tweens=True)
    if savepoint is not None and 400 <= response.status_code < 500:
        savepoint.rollback()
    return response


def batch_view(request: Request) -> Any:
    """Run the batch; see the module docstring."""
    if BATCH_ENVIRON_KEY in request.environ:
        raise http_error(400, ERRORS.INVALID_PARAMETERS, "Recursive call on batch endpoint")
    payload = load_json_body(request) if request.body else None
    settings = request.registry.settings
    defaults, specs = validate_payload(payload, settings["batch_max_requests"])
    prefix = "/" + settings["version_prefix"]
    merged = [merge_defaults(defaults, spec) for spec in specs]
    check_targets(merged, prefix, prefix + "/batch")
    responses = []
    for spec in merged:
        path = full_path(spec["path"], prefix)
        response = run_subrequest(request, spec, path)
        if response.status_code >= 500:
            logger.warning("batch aborted: %s %s answered %s", spec["method"], path,
                           response.status_code)
            if request.environ.get("tm.active"):
                request.tm.doom()
            return response
        responses.append(response_summary(response, path))
    return json_response(request, {"responses": responses})


def includeme(config: Configurator) -> None:
    """Add ``POST /<version>/batch`` (under the route prefix when one is set)."""
    prefix = config.get_settings()["version_prefix"]
    route_prefix = (config.route_prefix or "").strip("/")
    path = "/batch" if route_prefix == prefix else f"/{prefix}/batch"
    service = Service(
        name="batch",
        path=path,
        description="Several requests in one round trip and one transaction",
        error_handler=json_error_handler,
        permission=NO_PERMISSION_REQUIRED,
    )
    service.add_view("POST", batch_view)
    add_service(config, service)
