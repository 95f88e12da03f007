"""The ``Next-Page`` URL: the request's querystring, its old token replaced, safe in a header."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from webob import Request

from cliquetish.resource.listing import next_page_url


@pytest.mark.parametrize(("query", "expected"), [
    ("", []),
    ("_limit=20&_sort=-rank", [("_limit", "20"), ("_sort", "-rank")]),
    ("_token=old&title=caf%C3%A9&x=a+b", [("title", "café"), ("x", "a b")]),
    ("%5Ftoken=old&in_id=a,b", [("in_id", "a,b")]),
    ("has_tags&&_limit=2", [("has_tags", ""), ("_limit", "2")]),
])
def test_the_querystring_is_kept_and_the_token_replaced(query: str, expected: list) -> None:
    request = Request.blank(f"/v1/articles?{query}")
    url = next_page_url(request, "eyJ2Ijp7fX0")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://localhost/v1/articles"
    assert parse_qsl(parts.query, keep_blank_values=True) == [*expected, ("_token", "eyJ2Ijp7fX0")]


def test_characters_unsafe_in_a_header_are_encoded() -> None:
    request = Request.blank("/v1/articles")
    request.environ["QUERY_STRING"] = "title=a\r\nSet-Cookie: x&w=caf\xc3\xa9"
    url = next_page_url(request, "T")
    assert url.isascii() and "\r" not in url and "\n" not in url and " " not in url
    query = urlsplit(url).query
    assert parse_qsl(query) == [("title", "a\r\nSet-Cookie: x"), ("w", "café"), ("_token", "T")]


def test_text_built_in_process_is_encoded_as_utf8() -> None:
    request = Request.blank("/v1/articles?w=€")
    assert urlsplit(next_page_url(request, "T")).query == "w=%E2%82%AC&_token=T"


def test_the_base_follows_each_requests_host_scheme_and_path() -> None:
    cases = [
        ("/v1/articles", {}, "http://localhost/v1/articles"),
        ("/v1/articles", {"HTTP_HOST": "api.example.com"}, "http://api.example.com/v1/articles"),
        ("/v1/articles", {"HTTP_HOST": "api.example.com:8443", "wsgi.url_scheme": "https"},
         "https://api.example.com:8443/v1/articles"),
        ("/v1/bookmarks", {"HTTP_HOST": "api.example.com"},
         "http://api.example.com/v1/bookmarks"),
        ("/v1/articles", {"SCRIPT_NAME": "/app", "HTTP_HOST": "api.example.com"},
         "http://api.example.com/app/v1/articles"),
        ("/v1/caf%C3%A9", {}, "http://localhost/v1/caf%C3%A9"),
    ]
    for _ in range(2):  # the second time from what the first remembered
        for path, environ, expected in cases:
            request = Request.blank(path, environ=dict(environ))
            assert next_page_url(request, "T") == f"{expected}?_token=T"
