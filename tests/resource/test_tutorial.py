"""The tutorial's application does what docs/tutorial.rst says."""

from __future__ import annotations

from pathlib import Path

import pytest

from cliquetish.testing import auth_headers, make_app
from tests.resource import tutorial_app

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.rst"
RECIPES = "/v1/recipes"
ALICE = auth_headers("alice", "secret")
BOB = auth_headers("bob", "secret")


@pytest.fixture(scope="module")
def app():
    return make_app({"recipe_create_principals": "system.Authenticated"},
                    app_factory=tutorial_app.main)


def test_the_page_includes_this_application() -> None:
    text = TUTORIAL.read_text()
    assert "../tests/resource/tutorial_app.py" in text
    for marker in ("# step: schema", "# step: resource", "# step: subscriber", "# step: main"):
        assert marker in Path(tutorial_app.__file__).read_text()
        assert marker in text


def test_the_tutorial_steps(app) -> None:
    tutorial_app.CHANGES.clear()
    app.post_json(RECIPES, {"data": {"title": "x"}}, headers=ALICE, status=400)
    soup = app.post_json(RECIPES, {"data": {"title": " Pea soup ", "minutes": 40}},
                         headers=ALICE, status=201).json
    assert soup["data"]["slug"] == "pea-soup"
    assert soup["data"]["title"] == "Pea soup"
    app.post_json(RECIPES, {"data": {"title": "Toast", "minutes": 5},
                            "permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    app.post_json(RECIPES, {"data": {"title": "Pea soup", "minutes": 30}}, headers=ALICE,
                  status=409)
    titles = [r["title"] for r in app.get(RECIPES, headers=ALICE).json["data"]]
    assert titles == ["Toast", "Pea soup"]
    assert [r["title"] for r in app.get(RECIPES).json["data"]] == ["Toast"]
    url = f"{RECIPES}/{soup['data']['id']}"
    app.get(url, headers=BOB, status=403)
    app.patch_json(url, {"data": {"slug": "soup"}}, headers=ALICE, status=400)
    app.patch_json(url, {"permissions": {"read": ["system.Authenticated"]}}, headers=ALICE)
    app.get(url, headers=BOB, status=200)
    assert tutorial_app.CHANGES == [("create", 1), ("create", 1), ("update", 1)]
