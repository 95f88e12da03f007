"""Schemathesis against ``/v1/__api__``: every operation of the document, fuzzed through the WSGI
application, must never answer 5xx and must answer what the document says (documented status
code, content type, headers and body schema).

Both valid and invalid requests are generated (schemathesis' positive and negative modes), with
alice's credentials, and once more with whatever ``Authorization`` schemathesis makes up. The
demo runs on memory backends; the resource operations run once more, with fewer examples, on
PostgreSQL. The number of examples is kept small so that the module runs in about a minute; set
``CLIQUETISH_FUZZ_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.hostile.demo_apps import ALICE, demo_app
from tests.servers import POSTGRESQL_URL, reachable

EXAMPLES = int(os.environ.get("CLIQUETISH_FUZZ_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RESOURCE_PATHS = r"^/v1/(articles|bookmarks)"

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

memory_schema = schemathesis.openapi.from_wsgi("/v1/__api__", demo_app("memory").app)


@memory_schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_with_credentials(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": ALICE["Authorization"]}, checks=CHECKS)


@memory_schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 3, 3))
def test_every_operation_with_made_up_credentials(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


def _postgresql_schema() -> Any:
    """The schema of the demo on PostgreSQL, resource operations only (None: no server)."""
    if not reachable(POSTGRESQL_URL, 5432) and os.environ.get("CI") != "true":
        return None
    schema = schemathesis.openapi.from_wsgi("/v1/__api__", demo_app("postgresql").app)
    return schema.include(path_regex=RESOURCE_PATHS)


postgresql_schema = _postgresql_schema()

if postgresql_schema is not None:

    @postgresql_schema.parametrize()
    @settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 3, 3))
    def test_resource_operations_on_postgresql(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": ALICE["Authorization"]},
                               checks=CHECKS)
