"""Resource events: payloads, grouping, predicates, and aborting the transaction."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.config import Configurator

import cliquetish
from cliquetish.events import AfterResourceChanged, ResourceChanged, ResourceRead
from cliquetish.interfaces import IPermission, IStorage
from cliquetish.testing import flush_backends, make_app
from tests.resource.conftest import ALICE, BACKENDS, BASE_SETTINGS, PREFIX

BOOKMARKS = f"{PREFIX}/bookmarks"
ARTICLES = f"{PREFIX}/articles"


class Recorder:
    """Subscribers writing down what they hear; ``fail_on`` makes ResourceChanged raise."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, Any]] = []
        self.fail_on: str | None = None

    def listener(self, label: str) -> Any:
        def listen(event: Any) -> None:
            self.heard.append((label, event))
            if label == "changed" and event.payload["action"] == self.fail_on:
                raise RuntimeError("subscriber refuses")
        return listen

    def of(self, label: str) -> list[Any]:
        return [event for heard_label, event in self.heard if heard_label == label]


RECORDER = Recorder()
_APPS: dict[str, Any] = {}


def events_app_factory(global_config: Any = None, **settings: Any) -> Any:
    config = Configurator(settings=settings)
    cliquetish.initialize(config, version="1.0.0")
    config.scan("cliquetish.demo")
    config.add_subscriber(RECORDER.listener("changed"), ResourceChanged)
    config.add_subscriber(RECORDER.listener("after"), AfterResourceChanged)
    config.add_subscriber(RECORDER.listener("read"), ResourceRead)
    config.add_subscriber(RECORDER.listener("deletes"), ResourceChanged, for_actions=("delete",))
    config.add_subscriber(RECORDER.listener("articles"), ResourceChanged,
                          for_resources=("article",))
    return config.make_wsgi_app()


@pytest.fixture
def app(backend: str):
    test_app = _APPS.get(backend)
    if test_app is None:
        settings = {**BASE_SETTINGS, **BACKENDS[backend]()}
        test_app = _APPS[backend] = make_app(settings, app_factory=events_app_factory)
        for marker in (IStorage, IPermission):
            test_app.app.registry.getUtility(marker).initialize_schema()
    flush_backends(test_app)
    RECORDER.heard.clear()
    RECORDER.fail_on = None
    yield test_app
    flush_backends(test_app)


def create(app, **data):
    return app.post_json(BOOKMARKS, {"data": {"url": "http://a.org", **data}},
                         headers=ALICE).json["data"]


def test_create_event(app) -> None:
    record = create(app)
    (event,) = RECORDER.of("changed")
    user_id = app.get(f"{PREFIX}/", headers=ALICE).json["user"]["id"]
    assert event.payload == {
        "timestamp": record["last_modified"], "action": "create",
        "uri": f"/bookmarks/{record['id']}", "user_id": user_id, "resource_name": "bookmark",
        "bookmark_id": record["id"],
    }
    assert event.impacted_records == [{"new": record}]
    (after,) = RECORDER.of("after")
    assert after.payload == event.payload
    assert RECORDER.of("deletes") == [] and RECORDER.of("articles") == []


def test_update_and_delete_events(app) -> None:
    record = create(app)
    patched = app.patch_json(f"{BOOKMARKS}/{record['id']}", {"data": {"title": "x"}},
                             headers=ALICE).json["data"]
    tombstone = app.delete(f"{BOOKMARKS}/{record['id']}", headers=ALICE).json["data"]
    create_event, update, delete = RECORDER.of("changed")
    assert update.payload["action"] == "update"
    assert update.impacted_records == [{"new": patched, "old": record}]
    assert delete.payload["action"] == "delete"
    assert delete.payload["timestamp"] == tombstone["last_modified"]
    assert delete.impacted_records == [{"old": patched}]
    assert RECORDER.of("deletes") == [delete]
    assert len(RECORDER.of("after")) == 3


def test_collection_delete_is_one_event(app) -> None:
    first, second = create(app), create(app)
    RECORDER.heard.clear()
    app.delete(BOOKMARKS, headers=ALICE)
    (event,) = RECORDER.of("changed")
    assert event.payload["uri"] == "/bookmarks"
    assert "bookmark_id" not in event.payload
    assert sorted(event.impacted_records, key=lambda item: item["old"]["id"]) == sorted(
        [{"old": first}, {"old": second}], key=lambda item: item["old"]["id"])
    assert event.payload["timestamp"] == int(app.get(BOOKMARKS, headers=ALICE)
                                             .headers["ETag"].strip('"'))


def test_read_events(app) -> None:
    record = create(app)
    app.get(BOOKMARKS, headers=ALICE)
    app.get(f"{BOOKMARKS}/{record['id']}", headers=ALICE)
    listing, single = RECORDER.of("read")
    assert listing.payload["action"] == "read"
    assert listing.impacted_records == [{"new": record}]
    assert single.payload["bookmark_id"] == record["id"]
    assert len(RECORDER.of("after")) == 1


def test_resource_predicate(app) -> None:
    app.post_json(ARTICLES, {"data": {"t": 1}}, headers=ALICE)
    (event,) = RECORDER.of("articles")
    assert event.payload["resource_name"] == "article"


def test_a_batch_sends_one_event_per_resource_and_action(app) -> None:
    requests = [{"method": "POST", "path": "/bookmarks", "body": {"data": {"url": f"http://{n}.org"}}}
                for n in range(3)]
    requests.append({"method": "POST", "path": "/articles", "body": {"data": {}}})
    response = app.post_json(f"{PREFIX}/batch", {"requests": requests}, headers=ALICE)
    assert [r["status"] for r in response.json["responses"]] == [201, 201, 201, 201]
    changed = RECORDER.of("changed")
    assert sorted(e.payload["resource_name"] for e in changed) == ["article", "bookmark"]
    bookmarks = next(e for e in changed if e.payload["resource_name"] == "bookmark")
    assert len(bookmarks.impacted_records) == 3
    assert bookmarks.payload["uri"] == "/bookmarks"
    assert "bookmark_id" not in bookmarks.payload


def test_failing_requests_send_nothing(app) -> None:
    app.post_json(BOOKMARKS, {"data": {}}, headers=ALICE, status=400)
    assert RECORDER.heard == []


def test_a_raising_subscriber_aborts_the_transaction(app) -> None:
    RECORDER.fail_on = "create"
    response = app.post_json(BOOKMARKS, {"data": {"url": "http://a.org"}}, headers=ALICE,
                             status=500)
    assert response.json["errno"] == 999
    assert RECORDER.of("after") == []
    RECORDER.fail_on = None
    assert app.get(BOOKMARKS, headers=ALICE).json["data"] == []
    RECORDER.fail_on = "create"
    app.post_json(ARTICLES, {"data": {}}, headers=ALICE, status=500)
    RECORDER.fail_on = None
    assert app.get(ARTICLES, headers=ALICE).json["data"] == []
    storage = app.app.registry.getUtility(IStorage)
    assert storage.get_all("article", "")[0] == []


def test_listening_follows_the_subscriptions_of_the_registry() -> None:
    from pyramid.registry import Registry

    from cliquetish.events import ACTIONS, listening

    registry = Registry("listening")
    assert registry.has_listeners is False
    assert not listening(registry, ACTIONS.READ)
    registry.registerHandler(lambda event: None, (ResourceRead,))
    assert registry.has_listeners is True
    assert listening(registry, ACTIONS.READ)
    assert not listening(registry, ACTIONS.CREATE)
    registry.registerHandler(lambda event: None, (AfterResourceChanged,))
    assert listening(registry, ACTIONS.CREATE)
