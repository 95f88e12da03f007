"""The order of the pipeline, and a user's tween added at a named level."""

from __future__ import annotations

from pyramid.interfaces import ITweens
from pyramid.tweens import EXCVIEW, MAIN

from cliquetish import tweens
from tests.tweens.apps import add_plain_view, build_app


def tween_order(app) -> list[str]:
    return [name for name, _ in app.app.registry.getUtility(ITweens).implicit()]


def test_the_tweens_are_in_the_documented_order_above_the_transaction() -> None:
    order = tween_order(build_app())
    assert order == [*tweens.PIPELINE, tweens.TRANSACTION, EXCVIEW]


def test_a_users_tween_added_at_a_level_runs_there() -> None:
    seen = []

    def configure(config):
        config.registry.settings["tests.seen"] = seen
        config.add_tween("tests.tweens.test_pipeline.audit_tween_factory",
                         under=tweens.BODY_LIMIT, over=tweens.METRICS)
        add_plain_view(config, "write", "/write", lambda request: {"ok": True},
                       renderer="json")

    app = build_app({"max_request_body_bytes": "10"}, configure)
    order = tween_order(app)
    position = order.index("tests.tweens.test_pipeline.audit_tween_factory")
    assert order[position - 1] == tweens.BODY_LIMIT
    assert order[position + 1] == tweens.METRICS

    response = app.post("/v1/write", b"{}", status=200)
    assert response.headers["X-Audited"] == "yes"
    # Its request has an id already (level 0 ran before it)...
    assert seen == [response.headers["X-Request-Id"]]
    # ...and a body refused at level 3 never reaches it.
    app.post("/v1/write", b"x" * 11, status=413)
    assert len(seen) == 1


def audit_tween_factory(handler, registry):
    seen = registry.settings["tests.seen"]

    def audit_tween(request):
        seen.append(request.request_id)
        response = handler(request)
        response.headers["X-Audited"] = "yes"
        return response

    return audit_tween


def test_level_names_are_the_factories_dotted_names() -> None:
    from pyramid.path import DottedNameResolver

    resolver = DottedNameResolver()
    for name in tweens.PIPELINE:
        assert callable(resolver.resolve(name))
    assert tweens.ROUTING == MAIN
    assert tweens.EXCEPTION_VIEWS == EXCVIEW
