"""The request.summary line and the classic and JSON formatters."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from cliquetish.logs import ClassicFormatter, JsonFormatter, request_id_var
from cliquetish.testing import auth_headers
from tests.tweens.apps import add_plain_view, build_app

APP_INI = Path(__file__).parents[2] / "app.ini"


@pytest.fixture(scope="module")
def app():
    return build_app(configure=lambda config: add_plain_view(
        config, "ok", "/ok", lambda request: {"ok": True}, renderer="json"))


def summaries(caplog):
    return [r for r in caplog.records if r.name == "cliquetish.request"]


def test_one_summary_line_per_request_with_every_field(app, caplog) -> None:
    caplog.set_level(logging.INFO, logger="cliquetish.request")
    response = app.get("/v1/ok?_limit=2", headers={"User-Agent": "probe/1.0"}, status=200)
    [record] = summaries(caplog)
    assert record.getMessage() == "request.summary"
    fields = record.fields
    assert set(fields) == {"agent", "path", "method", "querystring", "uid", "errno", "code",
                           "t", "rid"}
    assert fields["agent"] == "probe/1.0"
    assert fields["path"] == "/v1/ok"
    assert fields["method"] == "GET"
    assert fields["querystring"] == "_limit=2"
    assert fields["uid"] is None
    assert fields["errno"] is None
    assert fields["code"] == 200
    assert fields["t"] >= 0
    assert fields["rid"] == response.headers["X-Request-Id"]


def test_summary_of_an_error_has_its_errno(app, caplog) -> None:
    caplog.set_level(logging.INFO, logger="cliquetish.request")
    app.get("/v1/nowhere", status=404)
    [record] = summaries(caplog)
    assert record.fields["code"] == 404
    assert record.fields["errno"] == 111


def test_summary_never_contains_credentials(app, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    headers = auth_headers("alice", "s3cr3t-password")
    app.get("/v1/ok", headers=headers, status=200)
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert headers["Authorization"].split()[1] not in text
    assert "s3cr3t-password" not in text


def test_nothing_is_logged_when_the_level_is_off(app, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="cliquetish.request")
    app.get("/v1/ok", status=200)
    assert summaries(caplog) == []


def make_record(fields=None, exc_info=None, message="request.summary"):
    record = logging.LogRecord("cliquetish.request", logging.INFO, __file__, 1, message, None,
                               exc_info)
    if fields is not None:
        record.fields = fields
    return record


def test_classic_formatter_prints_fields_and_escapes_line_breaks() -> None:
    record = make_record({"path": "/v1/x\nFAKE LINE", "code": 200, "uid": None})
    token = request_id_var.set("rid-1")
    try:
        line = ClassicFormatter().format(record)
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    assert "[cliquetish.request][rid-1] request.summary" in line
    assert 'path="/v1/x\\nFAKE LINE"' in line
    assert "code=200" in line
    assert "uid=-" in line


def test_classic_formatter_keeps_the_traceback_after_the_fields() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = make_record({"code": 500}, exc_info=sys.exc_info(), message="failed")
    lines = ClassicFormatter().format(record).splitlines()
    assert lines[0].endswith("failed code=500")
    assert lines[-1] == "ValueError: boom"


def test_json_formatter_writes_mozlog_objects() -> None:
    record = make_record({"path": "/v1/", "code": 200})
    record.rid = "rid-2"
    document = json.loads(JsonFormatter().format(record))
    assert set(document) == {"Timestamp", "Type", "Logger", "Hostname", "EnvVersion",
                             "Severity", "Pid", "Fields"}
    assert document["Type"] == "request.summary"
    assert document["Logger"] == "cliquetish.request"
    assert document["Severity"] == 6
    assert document["EnvVersion"] == "2.0"
    assert document["Fields"] == {"path": "/v1/", "code": 200, "rid": "rid-2"}
    assert document["Timestamp"] > 10**18


def test_json_formatter_puts_plain_messages_and_errors_in_fields() -> None:
    try:
        raise KeyError("k")
    except KeyError:
        record = make_record(exc_info=sys.exc_info(), message="it broke")
    record.levelno = logging.ERROR
    document = json.loads(JsonFormatter().format(record))
    assert document["Type"] == "log"
    assert document["Severity"] == 3
    assert document["Fields"]["msg"] == "it broke"
    assert "KeyError" in document["Fields"]["error"]


def log_through_ini(ini_path) -> str:
    """Configure logging from ``ini_path`` in a fresh interpreter, log a summary; its stderr."""
    script = (
        "import logging, logging.config, sys\n"
        "logging.config.fileConfig(sys.argv[1])\n"
        "logging.getLogger('cliquetish.request').info(\n"
        "    'request.summary', extra={'fields': {'path': '/v1/', 'code': 200}})\n"
    )
    args = [sys.executable, "-c", script, str(ini_path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return done.stderr


def test_app_ini_logs_classic_lines() -> None:
    line = log_through_ini(APP_INI).strip()
    assert " INFO  [cliquetish.request][-] request.summary path=/v1/ code=200" in line


def test_the_ini_can_select_the_json_formatter(tmp_path) -> None:
    ini = tmp_path / "logging.ini"
    ini.write_text(APP_INI.read_text().replace("formatter = classic", "formatter = json"))
    document = json.loads(log_through_ini(ini))
    assert document["Type"] == "request.summary"
    assert document["Fields"] == {"path": "/v1/", "code": 200}


def test_summary_names_the_authenticated_user(caplog) -> None:
    from cliquetish.testing import make_app

    app = make_app()
    caplog.set_level(logging.INFO, logger="cliquetish.request")
    app.get("/v1/", headers=auth_headers("alice", "secret"), status=200)
    [record] = summaries(caplog)
    assert record.fields["uid"].startswith("basicauth:")


class BrokenPolicy:
    """A security policy failing on every call (a backend down, say)."""

    def authenticated_userid(self, request):
        raise ConnectionError("policy backend down")

    identity = authenticated_userid

    def permits(self, request, context, permission):
        return True


def test_a_failing_policy_does_not_lose_the_summary(caplog) -> None:
    def configure(config):
        config.set_security_policy(BrokenPolicy())
        add_plain_view(config, "ok", "/ok", lambda request: {"ok": True}, renderer="json")

    app = build_app(configure=configure)
    caplog.set_level(logging.DEBUG, logger="cliquetish")
    app.get("/v1/ok", headers=auth_headers(), status=200)
    [record] = summaries(caplog)
    assert record.fields["uid"] is None
    assert record.fields["code"] == 200


def test_an_exception_escaping_the_pipeline_is_still_summarised(caplog) -> None:
    from cliquetish import tweens

    def configure(config):
        config.add_tween("tests.tweens.test_request_log.failing_tween_factory",
                         under=tweens.REQUEST_LOG, over=tweens.SECURITY_HEADERS)

    app = build_app(configure=configure)
    caplog.set_level(logging.INFO, logger="cliquetish.request")
    with pytest.raises(RuntimeError, match="outer tween bug"):
        app.get("/v1/")
    [record] = summaries(caplog)
    assert record.fields["code"] == 500


def failing_tween_factory(handler, registry):
    def failing_tween(request):
        raise RuntimeError("outer tween bug")

    return failing_tween


def test_current_request_id_outside_a_request() -> None:
    from cliquetish.logs import current_request_id

    assert current_request_id() is None
    token = request_id_var.set("abc")
    try:
        assert current_request_id() == "abc"
    finally:
        request_id_var.reset(token)


def test_the_classic_formatter_leaves_the_record_as_it_was() -> None:
    record = make_record({"code": 200})
    ClassicFormatter().format(record)
    assert not hasattr(record, "rid")
    record.rid = None
    ClassicFormatter().format(record)
    assert record.rid is None
