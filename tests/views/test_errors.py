"""Exception views: 404/405/406/411/415 and storage errors as JSON; the not-found redirects."""

from __future__ import annotations

import pytest
from cornice import Service
from pyramid.httpexceptions import (
    HTTPLengthRequired,
    HTTPNotFound,
    HTTPNotModified,
    HTTPTooManyRequests,
    HTTPUnauthorized,
)
from pyramid.security import NO_PERMISSION_REQUIRED

from cliquetish.errors import http_error
from cliquetish.storage.exceptions import (
    BackendError,
    ReadonlyError,
    RecordNotFoundError,
    UnicityError,
)
from cliquetish.views.errors import json_error_handler
from tests.tweens.apps import add_plain_view, build_app


def raising(exception):
    def view(request):
        raise exception

    return view


def error_app(settings=None):
    """An app whose routes raise the storage exceptions and some HTTP exceptions."""

    def configure(config):
        routes = {
            "backend": BackendError(ConnectionError("postgresql://u:hunter2@db refused")),
            "unicity": UnicityError("url", {"id": "abc", "url": "http://x"}),
            "missing": RecordNotFoundError("abc"),
            "readonly": ReadonlyError("nope"),
            "length": HTTPLengthRequired(),
            "unauthorized": HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="x"'}),
            "busy": HTTPTooManyRequests(),
            "not-modified": HTTPNotModified(),
            "view-404": HTTPNotFound("No such bookmark"),
            "ours": http_error(404, 110, "Record abc not found"),
            "ours-405": http_error(405, 115, "Not here", headers={"Allow": "GET"}),
        }
        for name, exception in routes.items():
            add_plain_view(config, name, f"/raise/{name}", raising(exception))
        add_plain_view(config, "only-get", "/only-get", lambda r: {"ok": True},
                       renderer="json", request_method="GET")
        echo = Service(name="echo", path="/echo", error_handler=json_error_handler,
                       permission=NO_PERMISSION_REQUIRED)
        echo.add_view("POST", lambda r: {"ok": True}, content_type="application/json",
                      renderer="json")
        config.add_cornice_service(echo)
        plain = Service(name="plain", path="/plain", permission=NO_PERMISSION_REQUIRED)
        plain.add_view("POST", lambda r: {"ok": True}, content_type="application/json",
                       renderer="json")
        config.add_cornice_service(plain)
        add_plain_view(config, "with-param", "/with-param", lambda r: {"ok": True},
                       renderer="json", request_param="token")

    return build_app(settings, configure)


@pytest.fixture(scope="module")
def app():
    return error_app()


def test_unknown_url_is_404_errno_111(app) -> None:
    response = app.get("/v1/nowhere", status=404)
    assert response.content_type == "application/json"
    assert response.json == {"code": 404, "errno": 111, "error": "Not Found",
                             "message": "The URL matches no endpoint."}


def test_unknown_version_is_404_errno_116(app) -> None:
    assert app.get("/v2/bookmarks", status=404).json["errno"] == 116
    assert app.get("/v12", status=404).json["errno"] == 116


def test_backend_error_is_503_errno_201_with_retry_after_and_no_detail(app, caplog) -> None:
    response = app.get("/v1/raise/backend", status=503)
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"] == "30"
    assert "hunter2" not in response.text
    assert any(r.name == "cliquetish.errors" and r.exc_info for r in caplog.records)


def test_retry_after_follows_the_setting() -> None:
    response = error_app({"retry_after_seconds": "5"}).get("/v1/raise/backend", status=503)
    assert response.headers["Retry-After"] == "5"


def test_unicity_error_is_409_errno_122_with_the_existing_record(app) -> None:
    response = app.get("/v1/raise/unicity", status=409)
    body = response.json
    assert body["errno"] == 122
    assert body["details"] == {"field": "url", "existing": {"id": "abc", "url": "http://x"}}
    assert response.headers["Retry-After"] == "30"


def test_record_not_found_is_404_errno_110(app) -> None:
    assert app.get("/v1/raise/missing", status=404).json["errno"] == 110


def test_readonly_backend_is_405_errno_115(app) -> None:
    assert app.get("/v1/raise/readonly", status=405).json["errno"] == 115


def test_other_http_errors_keep_status_and_headers_with_our_body(app) -> None:
    assert app.get("/v1/raise/length", status=411).json["errno"] == 112
    unauthorized = app.get("/v1/raise/unauthorized", status=401)
    assert unauthorized.json["errno"] == 104
    assert unauthorized.headers["WWW-Authenticate"] == 'Basic realm="x"'
    assert app.get("/v1/raise/busy", status=429).json["errno"] == 117


def test_a_404_raised_by_a_view_keeps_its_message_and_is_not_redirected(app) -> None:
    body = app.get("/v1/raise/view-404", status=404).json
    assert body == {"code": 404, "errno": 111, "error": "Not Found",
                    "message": "No such bookmark"}


def test_errors_already_in_our_format_pass_unchanged(app) -> None:
    assert app.get("/v1/raise/ours", status=404).json == {
        "code": 404, "errno": 110, "error": "Not Found", "message": "Record abc not found"}


def test_statuses_under_400_are_not_turned_into_errors(app) -> None:
    response = app.get("/v1/raise/not-modified", status=304)
    assert response.body == b""


def test_unknown_method_on_a_plain_route_is_405_with_allow(app) -> None:
    response = app.delete("/v1/only-get", status=405)
    assert response.json["errno"] == 115
    assert response.headers["Allow"] == "GET"


def test_unknown_method_on_a_service_is_405_with_allow(app) -> None:
    response = app.get("/v1/echo", status=405)
    assert response.json["errno"] == 115
    assert response.headers["Allow"] == "POST"


def test_unsupported_content_type_is_415_json(app) -> None:
    response = app.post("/v1/echo", "a=b", headers={"Content-Type": "text/plain"}, status=415)
    body = response.json
    assert body["code"] == 415
    assert body["details"][0]["name"] == "Content-Type"
    app.post_json("/v1/echo", {"a": 1}, status=200)


def test_our_405_passes_unchanged(app) -> None:
    response = app.get("/v1/raise/ours-405", status=405)
    assert response.json["message"] == "Not here"
    assert response.headers["Allow"] == "GET"


def test_a_view_predicate_other_than_the_method_is_404(app) -> None:
    assert app.get("/v1/with-param", status=404).json["errno"] == 111
    assert app.get("/v1/with-param?token=1", status=200).json == {"ok": True}


def test_cornice_errors_of_services_without_our_handler_get_our_body(app) -> None:
    response = app.post("/v1/plain", "a=b", headers={"Content-Type": "text/plain"}, status=415)
    body = response.json
    assert body["code"] == 415
    assert body["errno"] == 107
    assert body["details"][0]["name"] == "Content-Type"


def test_url_that_is_not_utf8_is_400(app) -> None:
    response = app.get("/v1/%ff%fe", status=400)
    assert response.json["errno"] == 107


# -- Redirects ------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "location"), [
    ("/nowhere", "/v1/nowhere"),
    ("/nowhere?_limit=3&a=%20b", "/v1/nowhere?_limit=3&a=%20b"),
    ("/", "/v1/"),
    ("/v1", "/v1/"),
    ("/v1/nowhere/", "/v1/nowhere"),
    ("/v1/__heartbeat__/?x=1", "/v1/__heartbeat__?x=1"),
    ("/__heartbeat__/", "/v1/__heartbeat__"),
    ("//evil.com", "/v1/evil.com"),
    ("//evil.com/", "/v1/evil.com"),
    ("/v1//evil.com", "/v1/evil.com"),
])
def test_redirects_are_307_to_the_prefixed_path(app, path, location) -> None:
    response = app.get(path, status=307)
    assert response.headers["Location"] == "http://localhost" + location
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_redirect_targets_answer(app) -> None:
    app.get("/__heartbeat__", status=307).follow(status=200)
    app.get("/v1/__heartbeat__/", status=307).follow(status=200)


@pytest.mark.parametrize("path", [
    "/x%0D%0ASet-Cookie:%20a=b",
    "/v1/x%0D%0ASet-Cookie:%20a=b/",
    "/x%0ALocation:%20http://evil.com",
])
def test_crlf_in_a_redirected_path_never_becomes_a_header(app, path) -> None:
    response = app.get(path, status=307)
    assert "Set-Cookie" not in response.headers
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert location.startswith("http://localhost/v1/x%0")


def test_crlf_in_a_redirected_querystring_is_quoted(app) -> None:
    response = app.request("/nowhere?a=b\r\nSet-Cookie:%20c=d", status=307)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Location"] == (
        "http://localhost/v1/nowhere?a=b%0D%0ASet-Cookie:%20c=d")


def test_redirects_can_be_turned_off() -> None:
    app = error_app({"version_prefix_redirect_enabled": "false",
                     "trailing_slash_redirect_enabled": "false"})
    assert app.get("/nowhere", status=404).json["errno"] == 111
    assert app.get("/v1/__heartbeat__/", status=404).json["errno"] == 111
    app.get("/v1/__heartbeat__", status=200)


def test_trailing_slash_redirect_alone_can_be_turned_off() -> None:
    app = error_app({"trailing_slash_redirect_enabled": "false"})
    assert app.get("/v1/nowhere/", status=404).json["errno"] == 111
    assert app.get("/nowhere", status=307).headers["Location"].endswith("/v1/nowhere")


# -- json_error_handler -------------------------------------------------------------------

class FakeErrorsRequest:
    """Only what json_error_handler reads: ``errors`` as cornice builds it."""

    def __init__(self, errors, status=400):
        from cornice.errors import Errors

        self.errors = Errors(status=status)
        for error in errors:
            self.errors.add(**error)


def test_json_error_handler_lists_every_error() -> None:
    request = FakeErrorsRequest([
        {"location": "body", "name": "data.url", "description": "Required"},
        {"location": "querystring", "name": "_limit", "description": b"Not a number"},
    ])
    response = json_error_handler(request)
    assert response.code == 400
    assert response.json_body == {
        "code": 400, "errno": 107, "error": "Bad Request",
        "message": "data.url in body: Required",
        "details": [
            {"location": "body", "name": "data.url", "description": "Required"},
            {"location": "querystring", "name": "_limit", "description": "Not a number"},
        ],
    }


def test_json_error_handler_gives_errno_106_for_invalid_json() -> None:
    request = FakeErrorsRequest([{"location": "body", "name": "", "description": "Invalid JSON"}])
    response = json_error_handler(request)
    assert response.json_body["errno"] == 106
    assert response.json_body["message"] == "body: Invalid JSON"


def test_json_error_handler_keeps_the_status_cornice_chose() -> None:
    request = FakeErrorsRequest(
        [{"location": "header", "name": "Accept", "description": "Accept header should be"}],
        status=406)
    assert json_error_handler(request).code == 406
