"""Request bodies over max_request_body_bytes: 413 errno 113, declared or streamed."""

from __future__ import annotations

import io

import pytest
import webtest

from tests.tweens.apps import add_plain_view, build_app

LIMIT = 1000


def body_size(request):
    return {"size": len(request.body)}


@pytest.fixture(scope="module")
def app():
    return build_app({"max_request_body_bytes": str(LIMIT)}, lambda config: add_plain_view(
        config, "size", "/size", body_size, renderer="json"))


def chunked_request(body: bytes) -> webtest.TestRequest:
    """A POST without Content-Length whose body is read to its end (chunked upload)."""
    request = webtest.TestRequest.blank("/v1/size", method="POST")
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["wsgi.input_terminated"] = True
    return request


def test_a_body_at_the_limit_passes(app) -> None:
    assert app.post("/v1/size", b"x" * LIMIT, status=200).json == {"size": LIMIT}


def test_a_declared_length_over_the_limit_is_413_errno_113(app) -> None:
    response = app.post("/v1/size", b"x" * (LIMIT + 1), status=413)
    body = response.json
    assert body["errno"] == 113
    assert str(LIMIT) in body["message"]
    assert body["details"][0]["location"] == "body"


def test_a_chunked_body_over_the_limit_is_413(app) -> None:
    response = app.do_request(chunked_request(b"y" * (LIMIT * 5)), status=413)
    assert response.json["errno"] == 113


def test_a_chunked_body_under_the_limit_reaches_the_view(app) -> None:
    response = app.do_request(chunked_request(b"y" * 700), status=200)
    assert response.json == {"size": 700}


def test_an_invalid_content_length_is_400(app) -> None:
    request = webtest.TestRequest.blank("/v1/size", method="POST")
    request.environ["CONTENT_LENGTH"] = "lots"
    unchecked = webtest.TestApp(app.app, extra_environ=app.extra_environ, lint=False)
    response = unchecked.do_request(request, status=400)
    assert response.json["errno"] == 107
    assert "Content-Length" in response.json["message"]


def test_413_answers_carry_the_usual_headers(app) -> None:
    response = app.post("/v1/size", b"x" * (LIMIT + 1), headers={"Origin": "https://a.example"},
                        status=413)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
