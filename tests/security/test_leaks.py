"""No credentials, secrets or tracebacks in responses or logs.

Requests are made with basic-auth credentials (valid, invalid, in batches) and through failing
paths (a bug: 500; a dead backend: 503). Every response body and header, and every log line
written meanwhile, formatted by both the classic and the JSON formatter, is searched for the
password, the ``Authorization`` value, the HMAC secret and the exception text.

Decision: a traceback is written only by the ``cliquetish.errors`` logger (the server-side error
log, at ERROR, with the request id); the ``request.summary`` line of the same request carries its
code, errno and request id but never a traceback, and no response ever does.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import webtest

from cliquetish.logs import ClassicFormatter, JsonFormatter
from tests.security.conftest import (
    ALICE,
    BOB,
    EXCEPTION_MARKER,
    HMAC_SECRET,
    PASSWORD,
    security_app,
)

AUTHORIZATION = ALICE["Authorization"]
ENCODED_CREDENTIALS = AUTHORIZATION.split(" ", 1)[1]
STORAGE_PASSWORD = "storage-password-never-shown"

FORBIDDEN_IN_RESPONSES = (PASSWORD, ENCODED_CREDENTIALS, HMAC_SECRET, EXCEPTION_MARKER,
                          STORAGE_PASSWORD, "Traceback", 'File "')
FORBIDDEN_IN_LOGS = (PASSWORD, ENCODED_CREDENTIALS, HMAC_SECRET, STORAGE_PASSWORD)


def _exchange(app: webtest.TestApp) -> list[Any]:
    """Requests over every kind of path, with credentials; their responses."""
    wrong = {**ALICE, "Authorization": "Basic " + base64.b64encode(
        f"alice:{PASSWORD}-wrong".encode()).decode()}
    created = app.post_json("/v1/articles", {"data": {"title": "t"}}, headers=ALICE)
    record = f"/v1/articles/{created.json['data']['id']}"
    calls = [
        lambda: app.get("/v1/", headers=ALICE),
        lambda: app.get("/v1/__heartbeat__", headers=ALICE),
        lambda: app.get("/v1/__api__", headers=ALICE),
        lambda: app.get("/v1/__version__", headers=ALICE, expect_errors=True),
        lambda: app.get("/v1/bookmarks", headers=ALICE),
        lambda: app.get("/v1/bookmarks", headers={**ALICE, "Authorization": "Basic %%%"},
                        expect_errors=True),
        lambda: app.get("/v1/bookmarks", headers=wrong),
        lambda: app.get(record, headers=BOB, expect_errors=True),
        lambda: app.get(record, headers={"Authorization": AUTHORIZATION + "x"},
                        expect_errors=True),
        lambda: app.post_json("/v1/bookmarks", {"data": {"url": "not a url"}}, headers=ALICE,
                              expect_errors=True),
        lambda: app.get("/v1/boom", headers=ALICE, expect_errors=True),
        lambda: app.get("/v1/backend-down", headers=ALICE, expect_errors=True),
        lambda: app.get("/v1/unknown", headers=ALICE, expect_errors=True),
        lambda: app.get("/bookmarks?password=x", headers=ALICE, expect_errors=True),
        lambda: app.post_json("/v1/batch", {
            "defaults": {"headers": {"Authorization": AUTHORIZATION}},
            "requests": [{"path": "/bookmarks"}, {"path": "/boom"}],
        }, expect_errors=True),
        lambda: app.post_json("/v1/batch", {"requests": [
            {"path": "/articles", "method": "POST", "body": {"data": {}}},
            {"path": "/backend-down"},
        ]}, headers=ALICE, expect_errors=True),
    ]
    return [created] + [call() for call in calls]


@pytest.fixture
def leak_app() -> webtest.TestApp:
    """The security app whose (memory) storage URL setting holds a password."""
    return security_app(storage_url=f"postgresql://user:{STORAGE_PASSWORD}@db.invalid/x")


def test_responses_hold_no_secret_credential_or_traceback(leak_app: webtest.TestApp) -> None:
    responses = _exchange(leak_app)
    statuses = {response.status_int for response in responses}
    assert {200, 201, 401, 403, 404, 500, 503} <= statuses, statuses
    for response in responses:
        text = response.body.decode("utf-8", "replace") + repr(response.headerlist)
        for secret in FORBIDDEN_IN_RESPONSES:
            assert secret not in text, (secret, response.request.url, text[:300])


def _formatted(records: list[logging.LogRecord]) -> list[tuple[logging.LogRecord, str]]:
    lines = []
    for formatter in (ClassicFormatter(), JsonFormatter()):
        lines.extend((record, formatter.format(record)) for record in records)
    return lines


def test_logs_hold_no_secret_or_credential(leak_app: webtest.TestApp,
                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _exchange(leak_app)
    lines = _formatted(caplog.records)
    assert any(record.getMessage() == "request.summary" for record, _ in lines)
    for record, line in lines:
        for secret in FORBIDDEN_IN_LOGS:
            assert secret not in line, (secret, record.name, line[:500])


def test_tracebacks_only_in_the_error_log(app: webtest.TestApp,
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        response = app.get("/v1/boom", headers=ALICE, status=500)
    rid = response.headers["X-Request-Id"]
    assert response.json["errno"] == 999
    assert rid in response.json["message"]
    lines = _formatted(caplog.records)
    with_traceback = [(record, line) for record, line in lines if "Traceback" in line]
    assert with_traceback, "the bug must be logged with its traceback"
    for record, line in with_traceback:
        assert record.name == "cliquetish.errors" and record.levelno == logging.ERROR, line
        assert rid in line
        assert EXCEPTION_MARKER in line
    summaries = [(record, line) for record, line in lines
                 if record.getMessage() == "request.summary"]
    assert len(summaries) == 2  # classic and JSON renderings of the one summary record
    for record, line in summaries:
        assert record.fields["code"] == 500 and record.fields["errno"] == 999
        assert record.fields["rid"] == rid
        assert "Traceback" not in line and EXCEPTION_MARKER not in line


def test_backend_errors_are_logged_without_reaching_the_client(
    app: webtest.TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = app.get("/v1/backend-down", headers=ALICE, status=503)
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"]
    assert EXCEPTION_MARKER not in response.text
    logged = [record for record in caplog.records if EXCEPTION_MARKER in record.getMessage()
              or (record.exc_info and EXCEPTION_MARKER in str(record.exc_info[1]))]
    assert logged and all(record.levelno >= logging.WARNING for record in logged)
    assert all(record.name.startswith("cliquetish") for record in logged)


def test_user_ids_are_hmacs_not_credentials(app: webtest.TestApp) -> None:
    user = app.get("/v1/", headers=ALICE, status=200).json["user"]
    prefix, digest = user["id"].split(":", 1)
    assert prefix == "basicauth" and len(digest) == 64
    assert "alice" not in user["id"]
    other_secret = security_app(userid_hmac_secret="another-secret")
    assert other_secret.get("/v1/", headers=ALICE).json["user"]["id"] != user["id"]
