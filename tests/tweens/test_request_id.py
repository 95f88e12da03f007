"""Request ids: accepted when sane, generated otherwise, echoed, on the request and the logs."""

from __future__ import annotations

import logging
import re
import uuid

import pytest

from cliquetish.tweens.request_id import new_request_id
from tests.tweens.apps import add_plain_view, build_app

UUID_HEX = re.compile(r"[0-9a-f]{32}")


def echo_request_id(request):
    logging.getLogger("tests.view").warning("inside the view")
    return {"request_id": request.request_id}


@pytest.fixture(scope="module")
def app():
    return build_app(configure=lambda config: add_plain_view(
        config, "rid", "/rid", echo_request_id, renderer="json"))


def test_a_request_id_is_generated_and_echoed(app) -> None:
    response = app.get("/v1/rid", status=200)
    rid = response.headers["X-Request-Id"]
    assert UUID_HEX.fullmatch(rid)
    assert uuid.UUID(hex=rid).version == 4
    assert response.json == {"request_id": rid}
    assert app.get("/v1/rid").headers["X-Request-Id"] != rid


@pytest.mark.parametrize("given", ["abc-123", "a.b_c-D", "x" * 128])
def test_a_sane_client_request_id_is_kept(app, given) -> None:
    response = app.get("/v1/rid", headers={"X-Request-Id": given}, status=200)
    assert response.headers["X-Request-Id"] == given
    assert response.json == {"request_id": given}


@pytest.mark.parametrize("given", ["x" * 129, "a b", "<script>", "a;b", "é", ""])
def test_an_insane_client_request_id_is_replaced(app, given) -> None:
    response = app.get("/v1/rid", headers={"X-Request-Id": given}, status=200)
    assert UUID_HEX.fullmatch(response.headers["X-Request-Id"])


def test_request_id_is_on_errors_and_redirects(app) -> None:
    assert UUID_HEX.fullmatch(app.get("/v1/nowhere", status=404).headers["X-Request-Id"])
    assert UUID_HEX.fullmatch(app.get("/nowhere", status=307).headers["X-Request-Id"])


def test_log_lines_written_during_the_request_carry_its_id(app, caplog) -> None:
    caplog.set_level(logging.INFO)
    from cliquetish.logs import install_request_id_filter

    install_request_id_filter()  # the caplog handler was added after the app was built
    response = app.get("/v1/rid", headers={"X-Request-Id": "trace-me"}, status=200)
    assert response.headers["X-Request-Id"] == "trace-me"
    view_lines = [r for r in caplog.records if r.name == "tests.view"]
    assert [r.rid for r in view_lines] == ["trace-me"]
    logging.getLogger("tests.view").warning("outside any request")
    assert caplog.records[-1].rid is None


def test_batch_sub_requests_share_the_id_of_the_batch(app) -> None:
    payload = {"requests": [{"method": "GET", "path": "/rid"}, {"method": "GET", "path": "/rid"}]}
    response = app.post_json("/v1/batch", payload, status=200)
    rid = response.headers["X-Request-Id"]
    assert [sub["body"] for sub in response.json["responses"]] == [{"request_id": rid}] * 2


def test_generated_ids_are_random_uuid4_in_hex() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for rid in ids:
        parsed = uuid.UUID(hex=rid)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert parsed.hex == rid
    # the 122 random bits vary: every hex digit position but the version's takes many values
    positions = [{rid[i] for rid in ids} for i in range(32)]
    assert [i for i, seen in enumerate(positions) if len(seen) < 4] == [12]
