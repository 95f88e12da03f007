"""``GET /v1/__api__``: a valid OpenAPI 3.0 document that tells the truth about the API.

Besides validating the document, the tests call every documented operation of the demo
resources and check that the status answered is one the document lists for it and that the
body matches the documented schema.
"""

from __future__ import annotations

import uuid
from typing import Any

import colander
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from pyramid.config import Configurator

import cliquetish
from cliquetish import resource, schema
from cliquetish.openapi.document import build_document, cached_document
from cliquetish.openapi.schema import node_schema
from cliquetish.testing import auth_headers, make_app

ALICE = auth_headers("alice", "secret")
JSON_PATCH = "application/json-patch+json"
SETTINGS = {"http_api_version": "1.0", "article_create_principals": "system.Authenticated"}


class GadgetSchema(schema.ResourceSchema):
    """Every colander type and validator the document translates."""

    name = colander.SchemaNode(colander.String(), validator=colander.Length(min=2, max=40))
    kind = colander.SchemaNode(colander.String(), validator=colander.OneOf(["a", "b"]),
                               missing=colander.drop)
    rank = colander.SchemaNode(colander.Integer(), validator=colander.Range(min=0, max=10),
                               missing=colander.drop)
    weight = colander.SchemaNode(colander.Float(), missing=colander.drop)
    active = colander.SchemaNode(colander.Boolean(), missing=colander.drop)
    homepage = schema.URL(missing=colander.drop)
    code = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^[A-Z]{3}$"),
                               missing=colander.drop)
    email = colander.SchemaNode(colander.String(), validator=colander.Email(),
                                missing=colander.drop)
    seen = colander.SchemaNode(colander.DateTime(), missing=colander.drop)
    labels = colander.SchemaNode(colander.Sequence(), colander.SchemaNode(colander.String()),
                                 validator=colander.Length(max=3), missing=colander.drop)
    owner = colander.SchemaNode(
        colander.Mapping(),
        colander.SchemaNode(colander.String(), name="login"),
        missing=colander.drop,
    )


class Gadget(resource.ShareableResource):
    """Gadgets, for the document tests."""

    schema = GadgetSchema


def gadget_app(global_config: Any, **settings: Any) -> Any:
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    resource.register_resource(config, Gadget)
    return config.make_wsgi_app()


@pytest.fixture(scope="module")
def app():
    return make_app(SETTINGS)


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return app.get("/v1/__api__").json


@pytest.fixture(scope="module")
def gadgets() -> dict[str, Any]:
    gadget = make_app({"collection_gadget_delete_enabled": "false"}, app_factory=gadget_app)
    return gadget.get("/v1/__api__").json


def parameter_names(operation: dict[str, Any]) -> set[str]:
    return {parameter["name"] for parameter in operation["parameters"]}


# The document ---------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_0(document, gadgets):
    assert document["openapi"].startswith("3.0.")
    validate(document)
    validate(gadgets)


def test_it_lists_the_builtin_endpoints_and_every_resource(document):
    paths = document["paths"]
    for path in ("/v1/", "/v1/__heartbeat__", "/v1/__lbheartbeat__", "/v1/__version__",
                 "/v1/__api__"):
        assert set(paths[path]) == {"get"}, path
    assert set(paths["/v1/batch"]) == {"post"}
    for plural in ("bookmarks", "articles"):
        assert set(paths[f"/v1/{plural}"]) == {"get", "head", "post", "delete"}
        assert set(paths[f"/v1/{plural}/{{id}}"]) == {"get", "put", "patch", "delete"}
    assert document["info"]["version"] == cliquetish.__version__


def test_operation_ids_are_unique(document):
    ids = [operation["operationId"] for methods in document["paths"].values()
           for operation in methods.values()]
    assert len(ids) == len(set(ids))


def test_disabled_methods_are_left_out(gadgets):
    assert set(gadgets["paths"]["/v1/gadgets"]) == {"get", "head", "post"}
    assert "/v1/bookmarks" not in gadgets["paths"]


def test_security_scheme_is_basic_auth(document):
    assert document["components"]["securitySchemes"]["basicAuth"] == {
        "type": "http", "scheme": "basic",
        "description": document["components"]["securitySchemes"]["basicAuth"]["description"],
    }
    assert document["paths"]["/v1/bookmarks"]["get"]["security"] == [{"basicAuth": []}]
    assert {} in document["paths"]["/v1/articles"]["get"]["security"]
    assert document["paths"]["/v1/__heartbeat__"]["get"]["security"] == []


def test_errors_use_the_error_body(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "errno", "error"]
    for methods in document["paths"].values():
        for operation in methods.values():
            default = operation["responses"]["default"]
            assert default["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}


def test_listing_parameters(document):
    names = parameter_names(document["paths"]["/v1/bookmarks"]["get"])
    assert {"_sort", "_limit", "_token", "_since", "_before", "_fields"} <= names
    assert {"title", "min_title", "max_title", "lt_title", "gt_title", "not_title", "eq_title",
            "in_title", "exclude_title", "like_title", "has_title", "contains_tags",
            "contains_any_tags", "in_id", "gt_last_modified"} <= names
    assert {"If-Match", "If-None-Match"} <= names
    parameters = {parameter["name"]: parameter
                  for parameter in document["paths"]["/v1/bookmarks"]["get"]["parameters"]}
    assert parameters["has_title"]["schema"]["pattern"].startswith("^")
    assert "[0-9]+" in parameters["min_last_modified"]["schema"]["pattern"]
    assert parameters["If-Match"]["schema"]["pattern"] == '^\\s*(\\*|"[0-9]+")\\s*$'
    deleting = parameter_names(document["paths"]["/v1/bookmarks"]["delete"])
    assert "_token" not in deleting and "_since" in deleting


def test_record_parameters_and_headers(document):
    record = document["paths"]["/v1/bookmarks/{id}"]
    for method in ("get", "put", "patch", "delete"):
        assert {"id", "If-Match", "If-None-Match"} <= parameter_names(record[method])
    assert "Response-Behavior" in parameter_names(record["patch"])
    assert set(record["patch"]["requestBody"]["content"]) == {
        "application/json", "application/merge-patch+json", "application/json-patch+json"}
    assert set(record["get"]["responses"]["200"]["headers"]) == {"ETag", "Last-Modified"}
    head = document["paths"]["/v1/bookmarks"]["head"]["responses"]["200"]
    assert "Total-Records" in head["headers"] and "content" not in head


def test_bookmark_schema_comes_from_colander(document):
    schemas = document["components"]["schemas"]
    data = schemas["bookmark.data"]
    assert data["required"] == ["url"]
    assert data["properties"]["url"] == {"type": "string", "format": "uri"}
    assert data["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert "additionalProperties" not in data  # preserve_unknown keeps other fields
    assert schemas["bookmark.create"]["required"] == ["data"]
    assert "permissions" not in schemas["bookmark.create"]["properties"]
    assert "permissions" in schemas["article.create"]["properties"]
    assert schemas["article.data"]["properties"].keys() == {"id", "last_modified"}


def test_gadget_schema_translates_types_and_validators(gadgets):
    schemas = gadgets["components"]["schemas"]
    data = schemas["gadget.data"]
    properties = data["properties"]
    assert data["additionalProperties"] is False
    assert data["required"] == ["name"]
    assert properties["name"] == {"type": "string", "minLength": 2, "maxLength": 40}
    assert properties["kind"] == {"type": "string", "enum": ["a", "b"]}
    assert properties["rank"] == {"type": "integer", "minimum": 0, "maximum": 10}
    assert properties["weight"] == {"type": "number"}
    assert properties["active"] == {"type": "boolean"}
    assert properties["homepage"] == {"type": "string", "format": "uri"}
    assert properties["code"] == {"type": "string", "pattern": "^[A-Z]{3}$"}
    assert properties["email"] == {"type": "string", "format": "email"}
    assert properties["seen"] == {"type": "string", "format": "date-time"}
    assert properties["labels"] == {"type": "array", "items": {"type": "string"}, "maxItems": 3}
    assert properties["owner"]["properties"]["login"] == {"type": "string"}
    assert properties["owner"]["required"] == ["login"]
    record = schemas["gadget.record"]
    assert record["required"] == ["id", "last_modified"]
    assert "additionalProperties" not in record
    assert "required" not in schemas["gadget.partial"]


def test_node_schema_keeps_descriptions_and_defaults():
    node = colander.SchemaNode(colander.String(), name="color", description="A colour.",
                               default="red")
    assert node_schema(node) == {"type": "string", "description": "A colour.",
                                 "default": "red"}
    assert node_schema(colander.SchemaNode(colander.Set(), name="s")) == {
        "type": "array", "uniqueItems": True, "items": {}}


# Caching --------------------------------------------------------------------------------------

def test_the_document_is_built_once_per_registry(app):
    registry = app.app.registry
    first = cached_document(registry)
    assert cached_document(registry) is first
    assert app.get("/v1/__api__").body == first
    other = make_app(SETTINGS)
    assert cached_document(other.app.registry) is not first


def test_builtins_not_routed_are_not_listed():
    config = Configurator(settings={"cliquetish.userid_hmac_secret": "x"})
    cliquetish.initialize(config, version="2.0.0")
    registry = config.registry
    config.commit()
    document = build_document(registry)
    assert "/v2/__heartbeat__" in document["paths"]
    assert "/v1/__heartbeat__" not in document["paths"]


def test_answers_are_json_and_not_cached(app):
    response = app.get("/v1/__api__")
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-cache"
    assert app.post("/v1/__api__", status=405).json["errno"] == 115


# The document tells the truth -----------------------------------------------------------------

class Conformance:
    """Checks answers against the document's operations."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.checked: set[tuple[str, str, int]] = set()

    def check(self, path: str, method: str, response: Any) -> None:
        operation = self.document["paths"][path][method]
        status = str(response.status_int)
        assert status in operation["responses"], (path, method, status)
        documented = operation["responses"][status]
        content = documented.get("content", {}).get("application/json")
        if content is None:
            assert not response.body or method == "head", (path, method, status)
        else:
            schema = {"components": self.document["components"], **content["schema"]}
            OAS30Validator(schema).validate(response.json)
        for header in documented.get("headers", {}):
            if header != "Next-Page":
                assert header in response.headers, (path, method, status, header)
        self.checked.add((path, method, response.status_int))


def test_every_resource_operation_answers_as_documented(app, document):
    conformance = Conformance(document)
    check = conformance.check
    for plural in ("bookmarks", "articles"):
        collection, record = f"/v1/{plural}", f"/v1/{plural}/{{id}}"
        data = {"url": "https://example.org", "title": "T", "tags": ["x"]}
        created = app.post_json(collection, {"data": data}, headers=ALICE)
        check(collection, "post", created)
        record_id = created.json["data"]["id"]
        url = f"{collection}/{record_id}"
        etag = created.headers["ETag"]
        check(collection, "post", app.post_json(collection, {"data": {**data, "id": record_id}},
                                                headers=ALICE))
        check(collection, "post", app.post_json(collection, {"data": []}, headers=ALICE,
                                                status=400))
        check(collection, "get", app.get(collection, headers=ALICE))
        check(collection, "get", app.get(f"{collection}?_limit=1&_since=0", headers=ALICE))
        check(collection, "get", app.get(f"{collection}?_limit=zero", headers=ALICE,
                                         status=400))
        check(collection, "head", app.head(collection, headers=ALICE))
        check(record, "get", app.get(url, headers=ALICE))
        check(record, "get", app.get(url, headers={**ALICE, "If-None-Match": etag},
                                     status=304))
        check(record, "get", app.get(url, headers={**ALICE, "If-Match": '"1"'}, status=412))
        check(record, "put", app.put_json(url, {"data": data}, headers=ALICE))
        check(record, "put", app.put_json(f"{collection}/{uuid.uuid4()}", {"data": data},
                                          headers=ALICE, status=201))
        check(record, "patch", app.patch_json(url, {"data": {"title": "U"}}, headers=ALICE))
        check(record, "patch", app.patch(url, '[{"op": "replace", "path": "/data/title", '
                                         '"value": "V"}]', headers={
                                             **ALICE, "Content-Type": JSON_PATCH}))
        check(record, "delete", app.delete(url, headers=ALICE))
        check(record, "get", app.get(url, headers=ALICE, status=404))
        check(collection, "get", app.get(f"{collection}?_since=0", headers=ALICE))
        check(collection, "delete", app.delete(collection, headers=ALICE))
    check("/v1/bookmarks", "get", app.get("/v1/bookmarks", status=401))
    assert len(conformance.checked) >= 30


def test_builtin_endpoints_answer_as_documented(app, document):
    conformance = Conformance(document)
    conformance.check("/v1/", "get", app.get("/v1/"))
    conformance.check("/v1/__heartbeat__", "get", app.get("/v1/__heartbeat__"))
    conformance.check("/v1/__lbheartbeat__", "get", app.get("/v1/__lbheartbeat__"))
    conformance.check("/v1/__version__", "get", app.get("/v1/__version__", expect_errors=True))
    conformance.check("/v1/__api__", "get", app.get("/v1/__api__"))
    conformance.check("/v1/batch", "post", app.post_json(
        "/v1/batch", {"requests": [{"path": "/bookmarks"}]}, headers=ALICE))
    conformance.check("/v1/batch", "post", app.post_json("/v1/batch", {}, status=400))


def test_fields_and_sort_of_a_closed_schema_are_enumerated(gadgets):
    parameters = {parameter["name"]: parameter
                  for parameter in gadgets["paths"]["/v1/gadgets"]["get"]["parameters"]}
    fields = parameters["_fields"]
    assert (fields["style"], fields["explode"]) == ("form", False)
    assert "name" in fields["schema"]["items"]["enum"]
    assert "-name" not in fields["schema"]["items"]["enum"]
    sort_names = set(parameters["_sort"]["schema"]["items"]["enum"])
    assert {"-rank", "rank", "-last_modified"} <= sort_names


def test_batch_schema_follows_the_settings():
    limited = make_app({**SETTINGS, "batch_max_requests": "3"}).get("/v1/__api__").json
    payload = limited["components"]["schemas"]["BatchPayload"]
    assert payload["properties"]["requests"]["maxItems"] == 3
    validator = OAS30Validator({"components": limited["components"],
                                "$ref": "#/components/schemas/BatchPayload"})
    assert validator.is_valid({"requests": [{"path": "/bookmarks"}]})
    assert validator.is_valid({"defaults": {"path": "/bookmarks"}, "requests": [{}]})
    assert not validator.is_valid({"requests": [{}]})
    assert not validator.is_valid({"requests": [{"path": "/x"}] * 4})
    assert not validator.is_valid({"requests": [{"path": "/x", "headers": {"X": 1}}]})
    assert validator.is_valid({"requests": [{"path": "/x", "method": "patch"}]})
    assert not validator.is_valid({"requests": [{"path": "/x", "method": "BREW"}]})
