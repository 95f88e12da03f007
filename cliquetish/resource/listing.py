"""Listings over HTTP: querystring to storage arguments, tokens, ``Next-Page``, ``_fields``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, unquote_plus

from cliquetish.resource.http import invalid
from cliquetish.resource.pagination import InvalidToken, decode_token, encode_token, keyset_of
from cliquetish.resource.querystring import (
    ID_FIELD,
    MODIFIED_FIELD,
    ListingQuery,
    QueryError,
    parse_fields,
    parse_listing,
)
from cliquetish.storage import DELETED_FIELD, Keyset, Record, Sort

__all__ = [
    "LISTING_QUERIES_KEPT",
    "Page",
    "listing_query",
    "next_page_url",
    "page_keyset",
    "project",
    "record_fields",
    "remembered_query",
]

ALWAYS_KEPT = (ID_FIELD, MODIFIED_FIELD, DELETED_FIELD)


def listing_query(
    params: Iterable[tuple[str, str]],
    is_known_field: Any,
    default_sort: Sequence[Sort],
    page_size: int,
) -> ListingQuery:
    """:func:`~cliquetish.resource.querystring.parse_listing`, a bad parameter giving 400."""
    try:
        return parse_listing(params, is_known_field, default_sort, page_size)
    except QueryError as error:
        raise invalid("querystring", error.name, error.description) from error


LISTING_QUERIES_KEPT = 256
"""Distinct querystrings whose parsed listing a resource remembers (all are forgotten at
once when the limit is reached)."""


def remembered_query(
    memo: dict[str, ListingQuery],
    query_string: str,
    params: Callable[[], Iterable[tuple[str, str]]],
    is_known_field: Any,
    default_sort: Sequence[Sort],
    page_size: int,
) -> ListingQuery:
    """:func:`listing_query` of ``params()``, remembered in ``memo`` by ``query_string``.

    Clients repeat the same listings: the parsing (and WebOb's decoding of the querystring)
    is done once per querystring. Only for an ``is_known_field`` that depends on the field
    name alone; a :class:`ListingQuery` is immutable, so one may serve every request. A
    querystring that does not parse is not remembered (each request gets its 400).
    """
    query = memo.get(query_string)
    if query is None:
        query = listing_query(params(), is_known_field, default_sort, page_size)
        if len(memo) >= LISTING_QUERIES_KEPT:
            memo.clear()
        memo[query_string] = query
    return query


def record_fields(params: Any, is_known_field: Any) -> list[str] | None:
    """``_fields`` of a record endpoint (other parameters are ignored), 400 when invalid."""
    raw = params.get("_fields")
    if raw is None:
        return None
    try:
        return parse_fields(raw, is_known_field)
    except QueryError as error:
        raise invalid("querystring", error.name, error.description) from error


def token_scope(resource_name: str, parent_id: str, user_id: str | None, query_scope: str
                ) -> str:
    """What a pagination token is bound to: resource, parent, user and the listing's filters
    and sort."""
    return "\n".join((resource_name, parent_id, user_id or "", query_scope))


def page_keyset(secret: bytes, scope: str, query: ListingQuery) -> Keyset | None:
    """The keyset of ``_token`` (None without one); 400 errno 107 for a bad token."""
    if query.token is None:
        return None
    try:
        return decode_token(secret, scope, query.token, query.sorting)
    except InvalidToken as error:
        raise invalid("querystring", "_token", f"Invalid pagination token: {error}") from error


class Page:
    """The records of one page and the token of the next one (None on the last page)."""

    def __init__(self, fetched: list[Record], query: ListingQuery, secret: bytes, scope: str
                 ) -> None:
        self.records = fetched[:query.limit]
        self.next_token: str | None = None
        if len(fetched) > query.limit:
            last = self.records[-1]
            self.next_token = encode_token(secret, scope, keyset_of(last, query.sorting))


_QUERY_SAFE = "&=+%/:,;@!$'()*~.-_"
"""Characters of a querystring kept as they are (with letters and digits); any other is
percent-encoded, so the URL is safe in a header whatever the request's querystring held."""


_PATH_URL_KEYS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
                  "PATH_INFO")
"""What WebOb's ``path_url`` is made of (scheme, host and port, script name, path)."""

_PATH_URLS: dict[tuple[Any, ...], str] = {}
_PATH_URLS_KEPT = 1024


def _path_url(request: Any) -> str:
    """``request.path_url``, remembered per scheme, host, port and path (WebOb builds it
    anew at every call, and a listing's next pages ask it again and again)."""
    environ = request.environ
    key = tuple(environ.get(name) for name in _PATH_URL_KEYS)
    url = _PATH_URLS.get(key)
    if url is None:
        if len(_PATH_URLS) >= _PATH_URLS_KEPT:
            _PATH_URLS.clear()
        url = _PATH_URLS[key] = request.path_url
    return url


def next_page_url(request: Any, token: str) -> str:
    """The absolute URL of the next page: the same querystring with the new ``_token``.

    The other parameters are kept as the client wrote them; the token needs no quoting
    (URL-safe base64).
    """
    return f"{_path_url(request)}?{_kept_query(request.environ.get('QUERY_STRING', ''))}" \
        f"_token={token}"


@functools.lru_cache(maxsize=256)
def _kept_query(query_string: str) -> str:
    """The parameters of ``query_string`` but ``_token``, quoted, each followed by ``&``
    (remembered: the pages of a listing share them)."""
    kept = [part for part in query_string.split("&")
            if part and unquote_plus(part.partition("=")[0]) != "_token"]
    kept.append("")
    joined = "&".join(kept)
    try:  # a WSGI string: each character stands for one byte
        return quote(joined, safe=_QUERY_SAFE, encoding="latin-1")
    except UnicodeEncodeError:  # built in process (a batch entry) from text
        return quote(joined, safe=_QUERY_SAFE)


def _copy_path(source: dict[str, Any], target: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    value: Any = source
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return
        value = value[part]
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def project(record: Record, fields: Sequence[str] | None) -> Record:
    """``record`` with only ``fields`` (dotted allowed) plus ``id``, ``last_modified`` and
    ``deleted``; the whole record when ``fields`` is None."""
    if fields is None:
        return record
    result = {key: record[key] for key in ALWAYS_KEPT if key in record}
    for dotted in fields:
        _copy_path(record, result, dotted)
    return result
