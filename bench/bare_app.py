"""The bare Pyramid application: the practical ceiling of the stack.

Each workload is one prepared SQL statement on a persistent psycopg2 connection (one per
gunicorn sync worker), decoded with orjson and answered as JSON. Same data shape as the
resources it is compared with (``id``, ``last_modified`` in epoch milliseconds, ``data`` as
JSONB), same URLs under ``/v1/records``, basic auth on the records endpoints, ``ETag`` and
``Next-Page`` headers. Writes take a strictly increasing collection timestamp through one
upsert on the ``timestamps`` row inside the same statement.

With ``bare.permissions = true`` every record also has access-control entries (the table of
cliquetish's permission backend, object ids ``/records/<id>``) and each statement checks them
as cliquetish's does, still in one statement: a listing keeps the records one of the request's
principals may ``read`` or ``write``; GET one record reads its entries with it (403 when none
grants ``read``, the permissions shown to writers); PATCH only updates a record the request
may ``write``; POST stores the creator's ``write`` entry with the record.

Served by ``gunicorn --paste bench/bare.ini --pythonpath bench``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from typing import Any
from urllib.parse import urlencode

import orjson
import psycopg2
import psycopg2.extras
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT COLLATE "C" PRIMARY KEY,
    last_modified BIGINT NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_records_last_modified ON records (last_modified DESC);
CREATE INDEX IF NOT EXISTS idx_records_rank ON records ((data->'rank') DESC, last_modified DESC);
CREATE TABLE IF NOT EXISTS timestamps (
    name TEXT PRIMARY KEY,
    last_modified BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_control_entries (
    object_id TEXT COLLATE "C" NOT NULL,
    permission TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (object_id, permission, principal)
);
"""
OBJECT_URI_PREFIX = "/records/"
EVERYONE, AUTHENTICATED = "system.Everyone", "system.Authenticated"

_BUMP = """
WITH ts AS (
    INSERT INTO timestamps (name, last_modified)
    VALUES ('records', (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT)
    ON CONFLICT (name) DO UPDATE
       SET last_modified = GREATEST(EXCLUDED.last_modified, timestamps.last_modified + 1)
    RETURNING last_modified
)
"""
_COLLECTION_TS = "(SELECT last_modified FROM timestamps WHERE name = 'records') AS collection_ts"

# Listings: (sort, filter, after a page token) -> one statement. Keyset pagination on the
# sort columns; the filter value is $1 when there is one, the token values follow, the limit last.
SORTS = {
    "-rank": ("data->'rank' DESC, last_modified DESC",
              "(data->'rank', last_modified) < (${}::jsonb, ${})", ("rank", "last_modified")),
    "-last_modified": ("last_modified DESC", "last_modified < ${}", ("last_modified",)),
}
FILTERS = {
    "": None,
    "min_rank": "data->'rank' >= $1::jsonb",
    "_since": "last_modified > $1",
}


_READABLE = (f"EXISTS (SELECT 1 FROM access_control_entries ace WHERE ace.object_id = "
             f"'{OBJECT_URI_PREFIX}' || records.id "
             "AND ace.permission = ANY(ARRAY['read', 'write']) "
             "AND ace.principal = ANY(${}::text[]))")
_WRITABLE = (f"EXISTS (SELECT 1 FROM access_control_entries ace WHERE ace.object_id = "
             f"'{OBJECT_URI_PREFIX}' || records.id AND ace.permission = 'write' "
             "AND ace.principal = ANY(${}::text[]))")
_ENTRIES = (f"ARRAY(SELECT ARRAY[permission, principal] FROM access_control_entries "
            f"WHERE object_id = '{OBJECT_URI_PREFIX}' || records.id)")


def listing_statement(sort: str, filter_name: str, paged: bool, permissions: bool = False) -> str:
    """The SELECT of one listing, with numbered parameters: the filter value, the principals
    (``permissions``), the token values, the limit."""
    order, keyset, token_fields = SORTS[sort]
    conditions, number = [], 1
    if FILTERS[filter_name]:
        conditions.append(FILTERS[filter_name])
        number += 1
    if permissions:
        conditions.append(_READABLE.format(number))
        number += 1
    if paged:
        conditions.append(keyset.format(*range(number, number + len(token_fields))))
        number += len(token_fields)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return (f"SELECT id, last_modified, data, {_COLLECTION_TS} FROM records{where} "
            f"ORDER BY {order} LIMIT ${number}")


def listing_name(sort: str, filter_name: str, paged: bool) -> str:
    """Name of the prepared statement of one listing."""
    return f"list_{sort.strip('-_')}_{filter_name.strip('_') or 'all'}_{int(paged)}"


def prepared_statements(permissions: bool) -> dict[str, str]:
    """Name and SQL of every prepared statement (with the permission checks or without)."""
    if permissions:
        get_record = (f"SELECT last_modified, data, {_ENTRIES} FROM records WHERE id = $1")
        patch_record = (
            f"{_BUMP} UPDATE records SET data = records.data || $2::jsonb, "
            "last_modified = ts.last_modified FROM ts WHERE records.id = $1 "
            f"AND {_WRITABLE.format(3)} RETURNING records.last_modified, records.data, "
            f"{_ENTRIES}"
        )
        create_record = (
            f"{_BUMP}, entry AS (INSERT INTO access_control_entries (object_id, permission, "
            f"principal) VALUES ('{OBJECT_URI_PREFIX}' || $1, 'write', $3)) "
            "INSERT INTO records (id, last_modified, data) "
            "SELECT $1, ts.last_modified, $2::jsonb FROM ts RETURNING last_modified"
        )
    else:
        get_record = "SELECT last_modified, data FROM records WHERE id = $1"
        patch_record = (
            f"{_BUMP} UPDATE records SET data = records.data || $2::jsonb, "
            "last_modified = ts.last_modified FROM ts WHERE records.id = $1 "
            "RETURNING records.last_modified, records.data"
        )
        create_record = (
            f"{_BUMP} INSERT INTO records (id, last_modified, data) "
            "SELECT $1, ts.last_modified, $2::jsonb FROM ts RETURNING last_modified"
        )
    return {
        "heartbeat": "SELECT 1",
        "get_record": get_record,
        "patch_record": patch_record,
        "create_record": create_record,
        **{listing_name(sort, name, paged): listing_statement(sort, name, paged, permissions)
           for sort in SORTS for name in FILTERS for paged in (False, True)},
    }


MAX_LIMIT = 10000
USERID_SECRET = b"bench-secret"


class Database:
    """One autocommit connection per process, opened after the fork, with prepared statements."""

    def __init__(self, dsn: str, permissions: bool = False) -> None:
        self.dsn = dsn
        self.permissions = permissions
        self._connection: Any = None

    def _connect(self) -> Any:
        connection = psycopg2.connect(self.dsn)
        connection.autocommit = True
        psycopg2.extras.register_default_jsonb(connection, loads=orjson.loads)
        with connection.cursor() as cursor:
            for name, sql in prepared_statements(self.permissions).items():
                cursor.execute(f"PREPARE {name} AS {sql}")
        return connection

    def run(self, name: str, *params: Any) -> list[tuple]:
        """Execute the prepared statement ``name``; reconnect once if the connection dropped."""
        for attempt in (1, 2):
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            placeholders = ", ".join(["%s"] * len(params))
            statement = f"EXECUTE {name}({placeholders})" if params else f"EXECUTE {name}"
            try:
                with self._connection.cursor() as cursor:
                    cursor.execute(statement, params)
                    return cursor.fetchall()
            except psycopg2.OperationalError:
                self._connection = None
                if attempt == 2:
                    raise
        return []


def json_response(body: Any, status: int = 200, etag: int | None = None) -> Response:
    """A JSON response, with ``ETag`` when a timestamp is given."""
    response = Response(body=orjson.dumps(body), status=status,
                        content_type="application/json", charset=None)
    if etag is not None:
        response.headers["ETag"] = f'"{etag}"'
    return response


def error(status: int, errno: int, message: str) -> Response:
    """The error body of the protocol."""
    return json_response({"code": status, "errno": errno, "message": message}, status=status)


def user_id(request: Request) -> str | None:
    """Basic-auth user id (HMAC-SHA256 of ``user:password``), or None without credentials."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        credentials = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in credentials:
        return None
    digest = hmac.new(USERID_SECRET, credentials.encode("utf-8"), hashlib.sha256).hexdigest()
    return "basicauth:" + digest


def principals(userid: str) -> list[str]:
    """The principals of an authenticated request (the bare application has no groups)."""
    return [EVERYONE, AUTHENTICATED, userid]


def shown_permissions(entries: list[list[str]], request_principals: list[str]
                      ) -> tuple[bool, bool, dict[str, list[str]]]:
    """May read, may write, and the record's permissions, from its ``[permission, principal]``
    entries."""
    acl: dict[str, list[str]] = {"read": [], "write": []}
    for permission, principal in entries:
        acl.setdefault(permission, []).append(principal)
    granted = set(request_principals)
    writer = bool(granted.intersection(acl["write"]))
    return writer or bool(granted.intersection(acl["read"])), writer, {
        name: sorted(acl[name]) for name in ("read", "write")}


def as_record(record_id: str, last_modified: int, data: dict) -> dict:
    """The record as the API shows it."""
    return {**data, "id": record_id, "last_modified": last_modified}


def heartbeat(request: Request) -> Response:
    """``SELECT 1`` on the database."""
    rows = request.registry.database.run("heartbeat")
    return json_response({"storage": rows == [(1,)]})


def _filter_of(params: Any) -> tuple[str, list[Any]] | None:
    """The one supported filter of the querystring and its value (None: unsupported)."""
    keys = set(params) - {"_limit", "_sort", "_token"}
    if not keys:
        return "", []
    if keys == {"min_rank"} and params["min_rank"].lstrip("-").isdigit():
        return "min_rank", [params["min_rank"]]
    since = params.get("_since", "").strip('"')
    if keys == {"_since"} and since.isdigit():
        return "_since", [int(since)]
    return None


def _token_values(params: Any, sort: str) -> list[Any] | None:
    """Values of the page token for ``sort`` (empty: first page; None: invalid token)."""
    if "_token" not in params:
        return []
    try:
        token = orjson.loads(base64.urlsafe_b64decode(params["_token"]))
        values = [token[field] for field in SORTS[sort][2]]
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return [orjson.dumps(values[0]).decode(), *values[1:]] if sort == "-rank" else values


def _next_page(request: Request, sort: str, last: tuple) -> str:
    """Next-Page URL continuing after the ``last`` row shown."""
    values = {"last_modified": last[1], "rank": last[2].get("rank")}
    token = orjson.dumps({field: values[field] for field in SORTS[sort][2]})
    query = [(k, v) for k, v in request.GET.items() if k != "_token"]
    query.append(("_token", base64.urlsafe_b64encode(token).decode()))
    return request.path_url + "?" + urlencode(query)


def list_records(request: Request) -> Response:
    """GET /v1/records: one statement, ``Next-Page`` when more rows match."""
    userid = user_id(request)
    if userid is None:
        return error(401, 104, "Please authenticate yourself to use this endpoint.")
    raw_limit = request.GET.get("_limit", str(MAX_LIMIT))
    sort = request.GET.get("_sort", "-last_modified")
    chosen = _filter_of(request.GET)
    if not raw_limit.isdigit() or sort not in SORTS or chosen is None:
        return error(400, 107, "querystring: unsupported by the bare application")
    token = _token_values(request.GET, sort)
    if token is None:
        return error(400, 107, "_token in querystring: invalid")
    limit = min(int(raw_limit), MAX_LIMIT)
    filter_name, params = chosen
    database = request.registry.database
    if database.permissions:
        params.append(principals(userid))
    rows = database.run(listing_name(sort, filter_name, bool(token)), *params, *token, limit + 1)
    response = json_response(
        {"data": [as_record(row[0], row[1], row[2]) for row in rows[:limit]]},
        etag=rows[0][3] if rows else 0,
    )
    if len(rows) > limit:
        response.headers["Next-Page"] = _next_page(request, sort, rows[limit - 1])
    return response


def create_record(request: Request) -> Response:
    """POST /v1/records: insert with a fresh timestamp in one statement."""
    userid = user_id(request)
    if userid is None:
        return error(401, 104, "Please authenticate yourself to use this endpoint.")
    try:
        data = orjson.loads(request.body)["data"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return error(400, 107, "data in body: Required")
    if not isinstance(data, dict):
        return error(400, 107, "data in body: must be an object")
    record_id = str(uuid.uuid4())
    data.pop("id", None)
    data.pop("last_modified", None)
    database = request.registry.database
    extra = [userid] if database.permissions else []
    rows = database.run("create_record", record_id, orjson.dumps(data).decode(), *extra)
    body: dict[str, Any] = {"data": as_record(record_id, rows[0][0], data)}
    if database.permissions:
        body["permissions"] = {"read": [], "write": [userid]}
    return json_response(body, status=201, etag=rows[0][0])


def get_record(request: Request) -> Response:
    """GET /v1/records/{id}."""
    userid = user_id(request)
    if userid is None:
        return error(401, 104, "Please authenticate yourself to use this endpoint.")
    record_id = request.matchdict["id"]
    rows = request.registry.database.run("get_record", record_id)
    if not rows:
        return error(404, 110, "record not found")
    body: dict[str, Any] = {"data": as_record(record_id, rows[0][0], rows[0][1])}
    if request.registry.database.permissions:
        readable, writer, acl = shown_permissions(rows[0][2], principals(userid))
        if not readable:
            return error(403, 121, "not allowed to read this record")
        if writer:
            body["permissions"] = acl
    return json_response(body, etag=rows[0][0])


def patch_record(request: Request) -> Response:
    """PATCH /v1/records/{id}: shallow merge and new timestamp in one statement (with
    permissions: only when the request may write the record, 403 otherwise)."""
    userid = user_id(request)
    if userid is None:
        return error(401, 104, "Please authenticate yourself to use this endpoint.")
    try:
        changes = orjson.loads(request.body)["data"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return error(400, 107, "data in body: Required")
    if not isinstance(changes, dict):
        return error(400, 107, "data in body: must be an object")
    changes.pop("id", None)
    changes.pop("last_modified", None)
    record_id = request.matchdict["id"]
    database = request.registry.database
    extra = [principals(userid)] if database.permissions else []
    rows = database.run("patch_record", record_id, orjson.dumps(changes).decode(), *extra)
    if not rows:
        if database.permissions:
            return error(403, 121, "record missing or not writable")
        return error(404, 110, "record not found")
    body: dict[str, Any] = {"data": as_record(record_id, rows[0][0], rows[0][1])}
    if database.permissions:
        body["permissions"] = shown_permissions(rows[0][2], [])[2]
    return json_response(body, etag=rows[0][0])


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Any:
    """WSGI application factory (``bare.url`` is the database URL, ``bare.permissions`` true
    to check access-control entries)."""
    config = Configurator(settings=settings)
    permissions = str(settings.get("bare.permissions", "false")).lower() in ("true", "1", "yes")
    config.registry.database = Database(settings["bare.url"], permissions)
    config.add_route("heartbeat", "/v1/__heartbeat__")
    config.add_route("records", "/v1/records")
    config.add_route("record", "/v1/records/{id}")
    config.add_view(heartbeat, route_name="heartbeat", request_method="GET")
    config.add_view(list_records, route_name="records", request_method="GET")
    config.add_view(create_record, route_name="records", request_method="POST")
    config.add_view(get_record, route_name="record", request_method="GET")
    config.add_view(patch_record, route_name="record", request_method="PATCH")
    return config.make_wsgi_app()
