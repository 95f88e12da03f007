"""The last-resort error tween: uncaught exceptions become 500 errno 999, logged, no traceback."""

from __future__ import annotations

import logging

import pytest
import transaction

from cliquetish.testing import auth_headers
from cliquetish.undo import active_transaction
from tests.tweens.apps import add_plain_view, build_app


class Recorder:
    """A transaction data manager noting whether the request's transaction committed."""

    def __init__(self):
        self.outcomes: list[str] = []
        self.transaction_manager = transaction.manager

    def abort(self, txn):
        self.outcomes.append("abort")

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        pass

    def tpc_finish(self, txn):
        self.outcomes.append("commit")

    def tpc_abort(self, txn):
        self.outcomes.append("abort")

    def sortKey(self):  # noqa: N802 - the transaction package's name
        return "recorder"


RECORDER = Recorder()


def join_recorder(request):
    txn = active_transaction(request.tm)
    if txn is not None:  # safe methods run outside any transaction
        txn.join(RECORDER)


def explode(request):
    join_recorder(request)
    raise ZeroDivisionError("secret internal detail")


def succeed(request):
    join_recorder(request)
    return {"ok": True}


@pytest.fixture(scope="module")
def app():
    def configure(config):
        add_plain_view(config, "explode", "/explode", explode, renderer="json")
        add_plain_view(config, "succeed", "/succeed", succeed, renderer="json")

    return build_app(configure=configure)


def test_an_exception_in_a_view_is_a_json_500_without_traceback(app) -> None:
    response = app.get("/v1/explode", status=500)
    body = response.json
    assert body["code"] == 500
    assert body["errno"] == 999
    assert body["error"] == "Internal Server Error"
    assert response.headers["X-Request-Id"] in body["message"]
    assert "Traceback" not in response.text
    assert "secret internal detail" not in response.text
    assert "ZeroDivisionError" not in response.text


def test_the_exception_is_logged_with_the_request_id_and_no_credentials(app, caplog) -> None:
    headers = {**auth_headers("bob", "pa55word"), "X-Request-Id": "incident-42"}
    app.get("/v1/explode", headers=headers, status=500)
    [record] = [r for r in caplog.records if r.name == "cliquetish.errors"]
    assert record.levelno == logging.ERROR
    assert record.rid == "incident-42"
    assert isinstance(record.exc_info[1], ZeroDivisionError)
    assert "/v1/explode" in record.getMessage()
    logged = caplog.text
    assert "pa55word" not in logged
    assert headers["Authorization"].split()[1] not in logged


def test_the_transaction_of_a_failed_request_is_aborted(app) -> None:
    # POST: safe methods run without a transaction (tests/tweens/test_transaction.py).
    RECORDER.outcomes.clear()
    app.post("/v1/explode", status=500)
    assert RECORDER.outcomes == ["abort"]
    app.post("/v1/succeed", status=200)
    assert RECORDER.outcomes == ["abort", "commit"]


def test_a_500_still_has_security_and_cors_headers(app) -> None:
    response = app.get("/v1/explode", headers={"Origin": "https://app.example"}, status=500)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_a_failing_tween_under_the_error_tween_is_a_json_500(caplog) -> None:
    from cliquetish import tweens

    def configure(config):
        config.add_tween("tests.tweens.test_errors.broken_tween_factory",
                         under=tweens.ERRORS, over=tweens.END_OF_SERVICE)

    response = build_app(configure=configure).get("/v1/__lbheartbeat__", status=500)
    assert response.json["errno"] == 999
    assert any(isinstance(r.exc_info[1], RuntimeError) for r in caplog.records if r.exc_info)


def broken_tween_factory(handler, registry):
    def broken_tween(request):
        raise RuntimeError("tween bug")

    return broken_tween


class Teapot(Exception):
    """An application exception whose exception view is itself broken."""


def broken_exception_view(error, request):
    raise ValueError("the exception view has a bug")


def teapot_tween_factory(handler, registry):
    def teapot_tween(request):
        raise Teapot()

    return teapot_tween


def test_a_broken_exception_view_falls_back_to_the_plain_500(caplog) -> None:
    from cliquetish import tweens

    def configure(config):
        config.add_exception_view(broken_exception_view, context=Teapot)
        config.add_tween("tests.tweens.test_errors.teapot_tween_factory",
                         under=tweens.ERRORS, over=tweens.END_OF_SERVICE)

    response = build_app(configure=configure).get("/v1/", status=500)
    assert response.json["errno"] == 999
    assert any(r.getMessage() == "Exception view failed" for r in caplog.records)


def test_known_exceptions_raised_outside_the_views_still_get_their_answer() -> None:
    from cliquetish import tweens

    def configure(config):
        config.add_tween("tests.tweens.test_errors.backend_down_tween_factory",
                         under=tweens.ERRORS, over=tweens.END_OF_SERVICE)

    response = build_app(configure=configure).get("/v1/", status=503)
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"] == "30"


def backend_down_tween_factory(handler, registry):
    from cliquetish.storage.exceptions import BackendError

    def backend_down_tween(request):
        raise BackendError(ConnectionError("down"))

    return backend_down_tween
