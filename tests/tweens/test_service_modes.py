"""End of service (Alert, 410) and read-only mode (405 on writes)."""

from __future__ import annotations

import datetime
import json

import pytest

from cliquetish.errors import ConfigurationError
from tests.tweens.apps import add_plain_view, build_app

TOMORROW = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
EOS = {"eos_message": "Moving to v2", "eos_url": "https://example.com/v2"}


def test_no_alert_without_eos() -> None:
    assert "Alert" not in build_app().get("/v1/").headers


def test_before_the_date_every_answer_has_a_soft_alert() -> None:
    app = build_app({"eos": TOMORROW, **EOS})
    response = app.get("/v1/", status=200)
    assert json.loads(response.headers["Alert"]) == {
        "code": "soft-eol", "message": "Moving to v2", "url": "https://example.com/v2"}
    assert response.json["eos"] == TOMORROW
    assert "Alert" in app.get("/v1/nowhere", status=404).headers


def test_today_is_still_served() -> None:
    build_app({"eos": datetime.date.today().isoformat()}).get("/v1/", status=200)


def test_after_the_date_everything_is_410_errno_202_with_a_hard_alert() -> None:
    app = build_app({"eos": YESTERDAY, **EOS})
    response = app.get("/v1/", status=410)
    assert response.json["errno"] == 202
    assert response.json["message"] == "Moving to v2"
    assert json.loads(response.headers["Alert"])["code"] == "hard-eol"
    assert app.post("/v1/__heartbeat__", status=410).json["errno"] == 202


def test_the_alert_header_stays_one_ascii_line() -> None:
    app = build_app({"eos": TOMORROW, "eos_message": "Fin\r\nSet-Cookie: x=1 — bientôt"})
    alert = app.get("/v1/").headers["Alert"]
    assert "\r" not in alert and "\n" not in alert
    assert alert.isascii()
    assert json.loads(alert)["message"] == "Fin\r\nSet-Cookie: x=1 — bientôt"


def test_a_bad_eos_date_stops_start_up_naming_the_key() -> None:
    with pytest.raises(ConfigurationError) as raised:
        build_app({"eos": "next year"})
    assert raised.value.key == "eos"


@pytest.fixture(scope="module")
def readonly_app():
    def configure(config):
        add_plain_view(config, "things", "/things", lambda r: {"method": r.method},
                       renderer="json")

    return build_app({"readonly": "true"}, configure)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_readonly_refuses_writes_with_405_errno_115(readonly_app, method) -> None:
    response = readonly_app.request("/v1/things", method=method, status=405)
    assert response.json["errno"] == 115
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_readonly_still_serves_reads(readonly_app) -> None:
    assert readonly_app.get("/v1/things", status=200).json == {"method": "GET"}
    assert readonly_app.get("/v1/", status=200).json["settings"]["readonly"] is True


def test_readonly_checks_each_batch_sub_request(readonly_app) -> None:
    payload = {"requests": [{"method": "GET", "path": "/things"},
                            {"method": "PUT", "path": "/things", "body": {}}]}
    response = readonly_app.post_json("/v1/batch", payload, status=200)
    statuses = [sub["status"] for sub in response.json["responses"]]
    assert statuses == [200, 405]
    assert response.json["responses"][1]["body"]["errno"] == 115


def test_writes_pass_when_not_readonly() -> None:
    def configure(config):
        add_plain_view(config, "things", "/things", lambda r: {"method": r.method},
                       renderer="json")

    assert build_app(configure=configure).delete("/v1/things").json == {"method": "DELETE"}
