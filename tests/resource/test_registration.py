"""Registering resources: names, paths, methods, id generators, hooks, configuration errors."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationExecutionError

import cliquetish
from cliquetish import resource
from cliquetish.errors import ConfigurationError
from cliquetish.testing import DEFAULT_SETTINGS, prefixed
from tests.resource.conftest import ALICE, PREFIX
from tests.resource.resources import Note
from tests.resource.test_collection import assert_error

TODO = f"{PREFIX}/todo"


def test_name_plural_and_methods_are_overridable(app) -> None:
    created = app.post_json(TODO, {"data": {"title": "  Write DOCS "}}, headers=ALICE,
                            status=201).json["data"]
    assert created["id"].isdigit()
    response = app.put_json(f"{TODO}/{created['id']}", {"data": {}}, headers=ALICE, status=405)
    assert_error(response, 405, 115)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH",
                                                                          "DELETE"}
    assert "PUT" not in response.headers["Allow"]
    app.get(f"{PREFIX}/tasks", headers=ALICE, status=404)


def test_id_generator_validates_urls_and_bodies(app) -> None:
    response = app.get(f"{TODO}/abc", headers=ALICE, status=400)
    assert_error(response, 400, 107, "id")
    response = app.post_json(TODO, {"data": {"id": "x1"}}, headers=ALICE, status=400)
    assert_error(response, 400, 107, "data.id")
    app.post_json(TODO, {"data": {"id": "42"}}, headers=ALICE, status=201)
    app.get(f"{TODO}/42", headers=ALICE, status=200)


def test_process_record_hook(app) -> None:
    created = app.post_json(TODO, {"data": {"title": "  Write DOCS "}}, headers=ALICE).json
    assert created["data"]["title"] == "write docs"
    assert created["data"]["revision"] == 1
    patched = app.patch_json(f"{TODO}/{created['data']['id']}", {"data": {"title": "B"}},
                             headers=ALICE).json["data"]
    assert patched == {**patched, "title": "b", "revision": 2}


def test_default_sort_of_the_class(app) -> None:
    for rank in (2, 1, 3):
        app.post_json(f"{PREFIX}/notes", {"data": {"title": str(rank), "rank": rank}},
                      headers=ALICE)
    listed = app.get(f"{PREFIX}/notes", headers=ALICE).json["data"]
    assert [note["rank"] for note in listed] == [1, 2, 3]


def test_record_methods_can_be_switched_off_by_settings(app_with) -> None:
    test_app = app_with(record_note_patch_enabled="false")
    note = test_app.post_json(f"{PREFIX}/notes", {"data": {"title": "t"}}, headers=ALICE).json
    url = f"{PREFIX}/notes/{note['data']['id']}"
    test_app.patch_json(url, {"data": {}}, headers=ALICE, status=405)
    test_app.get(url, headers=ALICE, status=200)


def _configurator(**settings) -> Configurator:
    config = Configurator(settings=prefixed({**DEFAULT_SETTINGS, **settings}))
    cliquetish.initialize(config, version="1.0.0")
    return config


def test_register_resource_without_scanning() -> None:
    config = _configurator()

    class Memo(resource.UserResource):
        pass

    resource.register_resource(config, Memo, collection_path="/memos-list")
    config.commit()
    setups = resource.registered_resources(config.registry)
    assert setups["memo"].collection_path == "/v1/memos-list"
    assert setups["memo"].record_path == "/v1/memos/{id}"
    assert [service.name for service in setups["memo"].services] == [
        "memo-collection", "memo-record"]


def test_configuration_errors() -> None:
    config = _configurator()
    with pytest.raises(ConfigurationError, match="unknown register"):
        resource.register_resource(config, Note, colection_path="/typo")
    with pytest.raises(ConfigurationError, match="not a cliquetish Resource"):
        resource.register_resource(config, dict)
    with pytest.raises(ConfigurationError, match="note_cache_expires_seconds"):
        resource.register_resource(_configurator(note_cache_expires_seconds="soon"), Note)
    with pytest.raises(ConfigurationError, match="collection_note_get_enabled"):
        resource.register_resource(_configurator(collection_note_get_enabled="perhaps"), Note)


def test_two_resources_of_one_name_conflict() -> None:
    config = _configurator()

    class Note(resource.UserResource):  # noqa: F811 - the clash is the point
        pass

    resource.register_resource(config, Note, plural="notes-a")
    resource.register_resource(config, Note, plural="notes-b")
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_shareable_resource_without_permission_backend_refuses_to_start() -> None:
    config = _configurator(permission_backend="")

    class Poster(resource.ShareableResource):
        pass

    resource.register_resource(config, Poster)
    with pytest.raises(ConfigurationExecutionError) as raised:
        config.commit()
    original = raised.value.evalue  # the error raised by the action
    assert isinstance(original, ConfigurationError)
    assert original.key == "permission_backend"
    assert "Poster is a ShareableResource" in str(raised.value)


def test_user_resource_needs_no_permission_backend() -> None:
    config = _configurator(permission_backend="")

    class Diary(resource.UserResource):
        pass

    resource.register_resource(config, Diary)
    config.commit()
    assert "diary" in resource.registered_resources(config.registry)


def test_a_field_check_of_its_own_is_asked_at_every_listing() -> None:
    """A resource whose is_known_field depends on the request: its parsed listings are not
    remembered per querystring."""
    import webtest

    from cliquetish.testing import auth_headers

    config = _configurator()

    class Ledger(resource.UserResource):
        def is_known_field(self, name: str) -> bool:
            return name != "secret" or "HTTP_X_AUDITOR" in self.request.environ

    resource.register_resource(config, Ledger)
    app = webtest.TestApp(config.make_wsgi_app())
    alice = auth_headers("alice", "pw")
    app.get(f"{PREFIX}/ledgers?secret=1", headers={**alice, "X-Auditor": "yes"}, status=200)
    response = app.get(f"{PREFIX}/ledgers?secret=1", headers=alice, status=400)
    assert_error(response, 400, 107, "secret")
    setup = resource.registered_resources(config.registry)["ledger"]
    assert setup.listing_queries == {}
