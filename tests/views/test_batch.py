"""``POST /v1/batch`` through the real WSGI application, on memory and PostgreSQL storage.

The application under test is the real pipeline plus a few views registered by this module that
write to the storage backend, fail on purpose (4xx after a write, 5xx ``BackendError``) or echo
what they received.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

import cliquetish
from cliquetish.errors import http_error
from cliquetish.interfaces import IPermission, IStorage
from cliquetish.storage.exceptions import BackendError
from cliquetish.testing import auth_headers, flush_backends, make_app

COLLECTION, PARENT = "batch-test", "tests"


# Views of the application under test ----------------------------------------------------------

def put_record(request: Request) -> dict[str, Any]:
    record = {"id": request.matchdict["id"], **request.json_body}
    request.response.status_code = 201
    return request.storage.create(COLLECTION, PARENT, record)


def put_record_then_refuse(request: Request) -> None:
    put_record(request)
    raise http_error(400, message="refused after writing")


def backend_failure(request: Request) -> None:
    raise BackendError(message="the database went away")


def list_records(request: Request) -> dict[str, Any]:
    records, _ = request.storage.get_all(COLLECTION, PARENT)
    return {"data": sorted(record["id"] for record in records)}


def echo(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.GET),
        "userid": request.authenticated_userid,
        "content_type": request.content_type,
        "body": request.json_body if request.body else None,
        "headers": {name.lower(): value for name, value in request.headers.items()},
        "rid": request.request_id,
    }


def application(global_config: Any, **settings: Any) -> Any:
    """The pipeline, the built-in endpoints and the test views above (under /v1)."""
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    views = [
        ("records", "/test/records/{id}", "PUT", put_record),
        ("refuse", "/test/refuse/{id}", "PUT", put_record_then_refuse),
        ("failure", "/test/failure", "GET", backend_failure),
        ("listing", "/test/records", "GET", list_records),
        ("echo", "/test/echo", ("GET", "POST", "PUT", "PATCH", "DELETE"), echo),
    ]
    for name, pattern, methods, view in views:
        config.add_route(f"test-{name}", pattern)
        config.add_view(view, route_name=f"test-{name}", request_method=methods,
                        renderer="json", permission=NO_PERMISSION_REQUIRED)
    return config.make_wsgi_app()


def storage_settings(kind: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if kind == "memory":
        return {}
    url = request.getfixturevalue("postgresql_url")
    return {"storage_backend": "cliquetish.storage.postgresql", "storage_url": url}


@pytest.fixture(scope="module", params=["memory", "postgresql"])
def app(request: pytest.FixtureRequest):
    settings = {"batch_max_requests": "5", **storage_settings(request.param, request)}
    test_app = make_app(settings, app_factory=application)
    test_app.app.registry.getUtility(IStorage).initialize_schema()
    yield test_app
    flush_backends(test_app)


@pytest.fixture(autouse=True)
def clean(app):
    yield
    flush_backends(app)


def stored_ids(app) -> list[str]:
    storage = app.app.registry.getUtility(IStorage)
    records, _ = storage.get_all(COLLECTION, PARENT)
    return sorted(record["id"] for record in records)


def batch(app, payload: Any, status: int = 200, **kwargs: Any):
    return app.post_json("/v1/batch", payload, status=status, **kwargs)


# Answers --------------------------------------------------------------------------------------

def test_responses_come_in_order_with_status_path_headers_body(app):
    response = batch(app, {"requests": [
        {"method": "PUT", "path": "/test/records/a", "body": {"title": "A"}},
        {"path": "/test/records"},
        {"method": "DELETE", "path": "/v1/test/echo?x=1"},
    ]})
    responses = response.json["responses"]
    assert [entry["status"] for entry in responses] == [201, 200, 200]
    assert [entry["path"] for entry in responses] == [
        "/v1/test/records/a", "/v1/test/records", "/v1/test/echo?x=1"
    ]
    assert responses[0]["body"]["title"] == "A"
    assert responses[1]["body"] == {"data": ["a"]}
    assert responses[2]["body"]["method"] == "DELETE"
    assert responses[2]["body"]["query"] == {"x": "1"}
    assert responses[0]["headers"]["Content-Type"].startswith("application/json")
    assert stored_ids(app) == ["a"]


def test_defaults_are_merged_into_every_request(app):
    payload = {
        "defaults": {
            "method": "POST",
            "path": "/test/echo",
            "headers": {"X-Origin": "defaults", "X-Kept": "yes"},
            "body": {"data": {"shared": 1, "nested": {"a": 1}}},
        },
        "requests": [
            {},
            {"method": "put", "headers": {"x-origin": "request"},
             "body": {"data": {"own": 2, "nested": {"b": 2}}}},
        ],
    }
    first, second = batch(app, payload).json["responses"]
    assert first["body"]["method"] == "POST"
    assert first["body"]["body"] == {"data": {"shared": 1, "nested": {"a": 1}}}
    assert first["body"]["headers"]["x-origin"] == "defaults"
    assert second["body"]["method"] == "PUT"
    assert second["body"]["body"] == {"data": {"shared": 1, "own": 2, "nested": {"a": 1, "b": 2}}}
    assert second["body"]["headers"]["x-origin"] == "request"
    assert second["body"]["headers"]["x-kept"] == "yes"


def test_sub_requests_get_json_bodies_and_keep_a_given_content_type(app):
    first, second = batch(app, {"requests": [
        {"method": "PATCH", "path": "/test/echo", "body": {"data": {"a": 1}}},
        {"method": "PATCH", "path": "/test/echo", "body": {"data": None},
         "headers": {"Content-Type": "application/merge-patch+json"}},
    ]}).json["responses"]
    assert first["body"]["content_type"] == "application/json"
    assert second["body"]["content_type"] == "application/merge-patch+json"
    assert second["body"]["body"] == {"data": None}


def test_non_ascii_paths_are_encoded(app):
    (entry,) = batch(app, {"requests": [{"path": "/test/echo?title=café"}]}).json["responses"]
    assert entry["status"] == 200
    assert entry["body"]["query"] == {"title": "café"}


def test_sub_requests_are_authenticated_with_the_batch_credentials(app):
    alice = auth_headers("alice", "secret")
    bob = auth_headers("bob", "other")
    first, second = batch(app, {"requests": [
        {"path": "/test/echo"},
        {"path": "/test/echo", "headers": bob},
    ]}, headers=alice).json["responses"]
    assert first["body"]["userid"] and first["body"]["userid"] != second["body"]["userid"]
    (anonymous,) = batch(app, {"requests": [{"path": "/test/echo"}]}).json["responses"]
    assert anonymous["body"]["userid"] is None


def test_batch_preconditions_and_length_are_not_inherited(app):
    (entry,) = batch(app, {"requests": [{"path": "/test/echo"}]},
                     headers={"If-Match": '"1"', "X-Custom": "kept"}).json["responses"]
    headers = entry["body"]["headers"]
    assert "if-match" not in headers
    assert headers["x-custom"] == "kept"


def test_sub_requests_share_the_batch_request_id(app):
    response = batch(app, {"requests": [{"path": "/test/echo"}, {"path": "/test/echo"}]},
                     headers={"X-Request-Id": "batch-42"})
    assert [entry["body"]["rid"] for entry in response.json["responses"]] == ["batch-42"] * 2
    assert response.headers["X-Request-Id"] == "batch-42"


def test_unknown_paths_and_methods_answer_in_responses(app):
    first, second = batch(app, {"requests": [
        {"path": "/nowhere"},
        {"method": "POST", "path": "/test/records"},
    ]}).json["responses"]
    assert (first["status"], first["body"]["errno"]) == (404, 111)
    assert second["status"] in (404, 405)


def test_one_summary_log_line_per_sub_request(app, caplog):
    caplog.set_level(logging.INFO, logger="cliquetish.request")
    batch(app, {"requests": [{"path": "/test/echo"}, {"path": "/test/records"}]})
    paths = [record.fields["path"] for record in caplog.records
             if record.name == "cliquetish.request" and hasattr(record, "fields")]
    assert sorted(paths) == ["/v1/batch", "/v1/test/echo", "/v1/test/records"]


# Transaction ----------------------------------------------------------------------------------

def test_a_4xx_answer_keeps_the_other_writes(app):
    responses = batch(app, {"requests": [
        {"method": "PUT", "path": "/test/records/a", "body": {}},
        {"method": "PUT", "path": "/test/refuse/b", "body": {}},
        {"method": "PUT", "path": "/test/records/c", "body": {}},
    ]}).json["responses"]
    assert [entry["status"] for entry in responses] == [201, 400, 201]
    assert responses[1]["body"]["message"] == "refused after writing"
    assert stored_ids(app) == ["a", "c"]


def test_a_5xx_answer_fails_the_whole_batch_and_writes_nothing(app):
    response = batch(app, {"requests": [
        {"method": "PUT", "path": "/test/records/a", "body": {}},
        {"path": "/test/failure"},
        {"method": "PUT", "path": "/test/records/c", "body": {}},
    ]}, status=503)
    assert response.json["errno"] == 201
    assert "Retry-After" in response.headers
    assert stored_ids(app) == []


def test_a_failed_batch_leaves_earlier_data_alone(app):
    batch(app, {"requests": [{"method": "PUT", "path": "/test/records/kept", "body": {}}]})
    batch(app, {"requests": [
        {"method": "PUT", "path": "/test/records/lost", "body": {}},
        {"path": "/test/failure"},
    ]}, status=503)
    assert stored_ids(app) == ["kept"]


# Bad input ------------------------------------------------------------------------------------

def error_of(response) -> tuple[int, int, list[str]]:
    body = response.json
    return body["code"], body["errno"], [detail["name"] for detail in body.get("details", [])]


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "requests"),
    ({"requests": {"path": "/x"}}, "requests"),
    ({"requests": []}, "requests"),
    ({"requests": [{"path": "/test/echo"}] * 6}, "requests"),
    ({"requests": ["/test/echo"]}, "requests.0"),
    ({"requests": [{}]}, "requests.0.path"),
    ({"requests": [{"path": "test/echo"}]}, "requests.0.path"),
    ({"requests": [{"path": 12}]}, "requests.0.path"),
    ({"requests": [{"path": "/test/echo\r\nX-Injected: 1"}]}, "requests.0.path"),
    ({"requests": [{"path": "/test/echo", "method": "BREW"}]}, "requests.0.method"),
    ({"requests": [{"path": "/test/echo", "method": 1}]}, "requests.0.method"),
    ({"requests": [{"path": "/test/echo", "headers": {"X-Count": 1}}]},
     "requests.0.headers.X-Count"),
    ({"requests": [{"path": "/test/echo", "headers": {"X-Null": None}}]},
     "requests.0.headers.X-Null"),
    ({"requests": [{"path": "/test/echo", "headers": {"X-Evil": "a\r\nSet-Cookie: x"}}]},
     "requests.0.headers.X-Evil"),
    ({"requests": [{"path": "/test/echo", "headers": {"Bad Name": "x"}}]},
     "requests.0.headers.Bad Name"),
    ({"requests": [{"path": "/test/echo", "headers": ["X-A"]}]}, "requests.0.headers"),
    ({"requests": [{"path": "/test/echo", "querystring": "a=1"}]}, "requests.0.querystring"),
    ({"requests": [{"path": "/test/echo"}], "extra": 1}, "extra"),
    ({"defaults": [], "requests": [{"path": "/test/echo"}]}, "defaults"),
    ({"defaults": {"headers": {"X-A": 1}}, "requests": [{"path": "/test/echo"}]},
     "defaults.headers.X-A"),
    ([{"path": "/test/echo"}], "body"),
])
def test_invalid_batches_are_400_naming_the_field(app, payload, field):
    response = batch(app, payload, status=400)
    code, errno, names = error_of(response)
    assert (code, errno) == (400, 107)
    assert field in names
    assert response.json["message"].startswith(f"{field} in body: ")
    assert stored_ids(app) == []


def test_too_many_requests_says_the_limit(app):
    response = batch(app, {"requests": [{"path": "/test/echo"}] * 6}, status=400)
    assert "limited to 5" in response.json["message"]


def test_non_string_header_is_named_with_its_type(app):
    response = batch(app, {"requests": [{"path": "/test/echo", "headers": {"X-N": [1]}}]},
                     status=400)
    assert response.json["details"][0]["description"] == "must be a string, not list"


def test_body_that_is_not_json_is_errno_106(app):
    response = app.post("/v1/batch", "{not json", status=400,
                        headers={"Content-Type": "application/json"})
    assert response.json["errno"] == 106


def test_nothing_runs_when_one_request_is_invalid(app):
    batch(app, {"requests": [
        {"method": "PUT", "path": "/test/records/a", "body": {}},
        {"method": "PUT"},
    ]}, status=400)
    assert stored_ids(app) == []


@pytest.mark.parametrize("path", [
    "/batch", "/v1/batch", "/batch/", "/v1/batch/", "/v1/b%61tch", "/v1//batch",
    "/batch?x=1", "//batch",
])
def test_the_batch_endpoint_cannot_be_a_target(app, path):
    response = batch(app, {"requests": [{"method": "POST", "path": path, "body": {}}]},
                     status=400)
    assert response.json["errno"] == 107
    assert response.json["details"][0]["description"] == "Recursive call on batch endpoint"


def test_recursion_through_defaults_is_refused(app):
    batch(app, {"defaults": {"path": "/batch"}, "requests": [{"method": "POST"}]}, status=400)


def test_only_post_is_allowed(app):
    response = app.get("/v1/batch", status=405)
    assert response.json["errno"] == 115


# Read-only mode -------------------------------------------------------------------------------

def test_readonly_is_checked_per_sub_request():
    readonly_app = make_app({"readonly": "true"}, app_factory=application)
    first, second = readonly_app.post_json("/v1/batch", {"requests": [
        {"path": "/test/echo"},
        {"method": "PUT", "path": "/test/records/a", "body": {}},
    ]}).json["responses"]
    assert first["status"] == 200
    assert (second["status"], second["body"]["errno"]) == (405, 115)
    assert stored_ids(readonly_app) == []


# The demo resources ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest):
    url = request.getfixturevalue("postgresql_url")
    test_app = make_app({
        "http_api_version": "1.0",
        "storage_backend": "cliquetish.storage.postgresql",
        "storage_url": url,
        "permission_backend": "cliquetish.permission.postgresql",
        "permission_url": url,
        "article_create_principals": "system.Authenticated",
    })
    for marker in (IStorage, IPermission):
        test_app.app.registry.getUtility(marker).initialize_schema()
    yield test_app
    flush_backends(test_app)


def test_batch_creates_and_lists_bookmarks_with_validation_per_request(demo):
    alice = auth_headers("alice", "secret")
    responses = demo.post_json("/v1/batch", {
        "defaults": {"method": "POST", "path": "/bookmarks"},
        "requests": [
            {"body": {"data": {"url": "https://a.example", "title": "A"}}},
            {"body": {"data": {"title": "no url"}}},
            {"body": {"data": {"url": "https://b.example", "title": "B"}}},
            {"method": "GET", "path": "/bookmarks?_sort=title"},
        ],
    }, headers=alice).json["responses"]
    assert [entry["status"] for entry in responses] == [201, 400, 201, 200]
    assert responses[1]["body"]["errno"] == 107
    assert "data.url" in responses[1]["body"]["message"]
    assert [record["title"] for record in responses[3]["body"]["data"]] == ["A", "B"]
    assert responses[3]["headers"]["ETag"].strip('"').isdigit()
    flush_backends(demo)


def test_batch_cannot_read_what_the_user_may_not_read(demo):
    alice, bob = auth_headers("alice", "secret"), auth_headers("bob", "secret")
    created = demo.post_json("/v1/articles", {"data": {"title": "private"}}, headers=alice)
    record_path = f"/articles/{created.json['data']['id']}"
    own, other_listing, anonymous = demo.post_json("/v1/batch", {"requests": [
        {"path": record_path},
        {"path": "/articles", "headers": bob},
        {"path": record_path, "headers": {"Authorization": ""}},
    ]}, headers=alice).json["responses"]
    assert own["status"] == 200 and own["body"]["data"]["title"] == "private"
    assert other_listing["status"] == 200 and other_listing["body"]["data"] == []
    assert anonymous["status"] in (401, 403)
    flush_backends(demo)
