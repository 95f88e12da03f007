"""Request bodies over max_request_body_bytes: 413 errno 113, declared or streamed."""

from __future__ import annotations

import io

import pytest
import webtest
from pyramid.httpexceptions import HTTPException

from cliquetish.tweens.body_limit import BoundedInput
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


def terminated_request(body: bytes, method: str = "POST") -> webtest.TestRequest:
    """A request with neither Content-Length nor Transfer-Encoding on an input the server
    ends itself (``wsgi.input_terminated``, as gunicorn passes every GET)."""
    request = webtest.TestRequest.blank("/v1/size", method=method)
    request.environ.pop("CONTENT_LENGTH", None)
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


@pytest.mark.parametrize("size", (0, 1, LIMIT))
def test_an_undeclared_body_within_the_limit_reaches_the_view(app, size: int) -> None:
    response = app.do_request(terminated_request(b"z" * size), status=200)
    assert response.json == {"size": size}


@pytest.mark.parametrize("size", (LIMIT + 1, LIMIT * 70))
def test_an_undeclared_body_over_the_limit_is_413_when_read(app, size: int) -> None:
    response = app.do_request(terminated_request(b"z" * size), status=413)
    assert response.json["errno"] == 113
    assert str(LIMIT) in response.json["message"]


def test_an_undeclared_body_is_read_by_its_reader_not_before() -> None:
    """A view that never reads the body leaves it unread (a GET costs no read)."""
    stream = io.BytesIO(b"w" * (LIMIT * 3))
    untouched = build_app({"max_request_body_bytes": str(LIMIT)}, lambda config: add_plain_view(
        config, "ok", "/ok", lambda request: {"ok": True}, renderer="json"))
    request = webtest.TestRequest.blank("/v1/ok", method="GET")
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input"] = stream
    request.environ["wsgi.input_terminated"] = True
    assert untouched.do_request(request, status=200).json == {"ok": True}
    assert stream.tell() == 0


def test_the_bounded_input_reads_lines_and_stops_one_byte_past_the_limit() -> None:
    lines = io.BytesIO(b"ab\ncd\n")
    assert list(BoundedInput(lines, 10)) == [b"ab\n", b"cd\n"]
    assert BoundedInput(io.BytesIO(b"ab\ncd\n"), 10).readlines() == [b"ab\n", b"cd\n"]
    stream = io.BytesIO(b"q" * 100)
    bounded = BoundedInput(stream, 10)
    assert bounded.read(4) == b"qqqq"
    with pytest.raises(HTTPException) as raised:
        bounded.read()
    assert raised.value.code == 413
    assert stream.tell() == 11
    with pytest.raises(HTTPException):
        BoundedInput(io.BytesIO(b"r" * 20 + b"\n"), 10).readline()
