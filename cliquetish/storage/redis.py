"""The Redis storage: records in Redis hashes, filtered and sorted in Python.

Settings: ``storage_backend = cliquetish.storage.redis``, ``storage_url``
(``redis://host:6379/0``), ``storage_pool_size`` (+ ``storage_max_overflow``: the most
connections), ``storage_pool_timeout_seconds`` (wait for a free connection, and socket
timeouts, before failing with ``BackendError``).

Layout, per ``(collection_id, parent_id)`` pair (``<pair>`` is the JSON array of both):
``cliquetish:storage:<pair>:records`` (hash id → ``<last_modified>:<JSON without id and
last_modified>``), ``...:tombstones`` (hash id → ``<last_modified>``), ``...:timestamp``, and
``cliquetish:storage:parents:<collection JSON>`` (the set of parents, for purges).

Every write is one Lua script that reads the server's clock (``TIME``), bumps the pair's
timestamp to ``max(now_ms, previous + 1)`` (or a later client value) and writes the record, so
timestamps are strictly increasing across processes with nothing to retry. Writes with
``unique_fields`` check the pair's live records under ``WATCH`` and retry when a concurrent
write intervenes. Listings read the pair's hashes (one round trip) and filter, sort and
paginate in Python with :mod:`cliquetish.storage.evaluation`: the answers are those of the other
backends, the cost grows with the size of the pair. Writes made in an active zope transaction
are undone on abort, each undo restoring what the write replaced unless it changed since (see
:mod:`cliquetish.undo`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from cliquetish import undo
from cliquetish.errors import ConfigurationError
from cliquetish.storage import (
    ID_FIELD,
    MODIFIED_FIELD,
    BackendError,
    Filter,
    IdGenerator,
    Keyset,
    ModifiedMeanwhileError,
    ReadFilter,
    Record,
    RecordNotFoundError,
    Sort,
    StorageBase,
    UnicityError,
)
from cliquetish.storage import evaluation as ev
from cliquetish.storage.memory import select

__all__ = ["PREFIX", "RedisStorage", "create_redis_client", "load_from_config"]

PREFIX = "cliquetish:storage:"

_NEXT_STAMP = """
local clock = redis.call('TIME')
local stamp = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local previous = redis.call('GET', KEYS[3])
if previous and tonumber(previous) + 1 > stamp then stamp = tonumber(previous) + 1 end
if CLIENT ~= '' and tonumber(CLIENT) > stamp then stamp = tonumber(CLIENT) end
local text = string.format('%d', stamp)
local tombstone = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], text)
"""

WRITE_SCRIPT = """
local live = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[4] == '1' and live then return {'exists', live} end
if ARGV[5] ~= '' then
  if not live then return {'modified', false} end
  if string.match(live, '^[^:]*') ~= ARGV[5] then return {'modified', live} end
end
local CLIENT = ARGV[3]
""" + _NEXT_STAMP + """
redis.call('HSET', KEYS[1], ARGV[1], text .. ':' .. ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[6])
return {'ok', text, live or false, tombstone or false, previous or false}
"""
"""KEYS: records, tombstones, timestamp, parents. ARGV: id, data, client stamp, create flag,
expected stamp, parent id."""

DELETE_SCRIPT = """
local live = redis.call('HGET', KEYS[1], ARGV[1])
if not live then return {'missing'} end
if ARGV[4] ~= '' and string.match(live, '^[^:]*') ~= ARGV[4] then return {'modified', live} end
local CLIENT = ARGV[2]
""" + _NEXT_STAMP + """
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[3] == '1' then redis.call('HSET', KEYS[2], ARGV[1], text)
else redis.call('HDEL', KEYS[2], ARGV[1]) end
return {'ok', text, live, tombstone or false, previous or false}
"""
"""KEYS: records, tombstones, timestamp. ARGV: id, client stamp, keep tombstone flag,
expected stamp."""

RESTORE_SCRIPT = """
local function put(key, expected, value)
  if expected == '-' then return end
  if (redis.call('HGET', key, ARGV[1]) or '') ~= expected then return end
  if value == '' then redis.call('HDEL', key, ARGV[1])
  else redis.call('HSET', key, ARGV[1], value) end
end
put(KEYS[1], ARGV[2], ARGV[4])
put(KEYS[2], ARGV[3], ARGV[5])
if ARGV[6] ~= '-' and redis.call('GET', KEYS[3]) == ARGV[6] then
  if ARGV[7] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[7]) end
end
"""
"""Undo a write. ARGV: id, live value written ('-': untouched), tombstone written, live value
and tombstone to restore ('' for none), stamp written ('-': untouched), previous stamp."""

TIMESTAMP_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current then return current end
local clock = redis.call('TIME')
local text = string.format('%d', tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000))
redis.call('SET', KEYS[1], text)
return text
"""


@contextlib.contextmanager
def backend_errors() -> Iterator[None]:
    """Turn redis-py errors into :class:`BackendError`."""
    try:
        yield
    except redis.RedisError as error:
        raise BackendError(error) from error


def create_redis_client(settings: dict[str, Any], prefix_kind: str = "storage") -> redis.Redis:
    """A client on ``<kind>_url`` with a bounded, fail-fast pool and short socket timeouts."""
    key = f"{prefix_kind}_url"
    url = settings.get(key) or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(f"Invalid setting {key} = {url!r}: a redis:// URL", key=key)
    timeout = float(settings.get(f"{prefix_kind}_pool_timeout_seconds", 5.0))
    size = int(settings.get(f"{prefix_kind}_pool_size", 10))
    size += int(settings.get(f"{prefix_kind}_max_overflow", 10))
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=max(size, 1), timeout=timeout, socket_timeout=timeout,
        socket_connect_timeout=timeout, decode_responses=True,
        retry=Retry(NoBackoff(), 1),  # one new connection after a server restart
    )
    return redis.Redis(connection_pool=pool)


def _keys(collection_id: str, parent_id: str) -> list[str]:
    base = PREFIX + ev.dumps([collection_id, parent_id])
    return [f"{base}:records", f"{base}:tombstones", f"{base}:timestamp",
            PREFIX + "parents:" + ev.dumps(collection_id)]


def _parse_live(object_id: str, value: str) -> Record:
    stamp, _, data = value.partition(":")
    record = ev.loads(data)
    record[ID_FIELD] = object_id
    record[MODIFIED_FIELD] = int(stamp)
    return record


def _client_arg(value: int | None) -> str:
    return "" if value is None else str(value)


class RedisStorage(StorageBase):
    """Records of every pair in Redis hashes (see the module docstring)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._write = client.register_script(WRITE_SCRIPT)
        self._delete = client.register_script(DELETE_SCRIPT)
        self._restore = client.register_script(RESTORE_SCRIPT)
        self._timestamp = client.register_script(TIMESTAMP_SCRIPT)

    def initialize_schema(self, dry_run: bool = False) -> list[str]:
        """Nothing to create."""
        return []

    def flush(self) -> None:
        """Delete every key of the storage (not undoable)."""
        with backend_errors():
            keys = list(self.client.scan_iter(match=PREFIX + "*", count=1000))
            for start in range(0, len(keys), 1000):
                self.client.delete(*keys[start:start + 1000])

    def ping(self) -> bool:
        """True when the server answers; never raises."""
        try:
            return bool(self.client.ping())
        except Exception:  # noqa: BLE001 (a heartbeat reports, it never raises)
            return False

    def collection_timestamp(self, collection_id: str, parent_id: str) -> int:
        """The pair's timestamp (stored as the server's now on the first read)."""
        with backend_errors():
            return int(self._timestamp(keys=[_keys(collection_id, parent_id)[2]]))

    def _remember(self, keys: list[str], object_id: str, written: tuple[str, str],
                  result: list[Any]) -> None:
        """Register the undo of a write whose script answered ``result``."""
        stamp, old_live, old_tombstone, old_stamp = (result[1], *result[2:5])
        args = [object_id, *written, old_live or "", old_tombstone or "", stamp, old_stamp or ""]

        def restore() -> None:
            self._restore(keys=keys[:3], args=args)

        undo.record(self, restore)

    # Writes
    def create(
        self,
        collection_id: str,
        parent_id: str,
        record: Record,
        id_generator: IdGenerator | None = None,
        unique_fields: Sequence[str] = (),
    ) -> Record:
        """Store a new record (see :meth:`StorageBase.create`)."""
        object_id = record.get(ID_FIELD) or (id_generator or ev.default_id)()
        return self._put(collection_id, parent_id, object_id, record, unique_fields, True, None)

    def update(
        self,
        collection_id: str,
        parent_id: str,
        object_id: str,
        record: Record,
        unique_fields: Sequence[str] = (),
        expected_last_modified: int | None = None,
    ) -> Record:
        """Replace or create the record (see :meth:`StorageBase.update`)."""
        return self._put(collection_id, parent_id, object_id, record, unique_fields, False,
                         expected_last_modified)

    def _put(
        self, collection_id: str, parent_id: str, object_id: str, record: Record,
        unique_fields: Sequence[str], create: bool, expected: int | None,
    ) -> Record:
        data, client_stamp = ev.split_record(record)
        text = ev.dumps(data)
        keys = _keys(collection_id, parent_id)
        args = [object_id, text, _client_arg(client_stamp), "1" if create else "",
                "" if expected is None else str(expected), parent_id]
        with backend_errors():
            if unique_fields:
                result = self._write_unique(keys, args, data, object_id, unique_fields)
            else:
                result = self._write(keys=keys, args=args)
        if result[0] == "exists":
            raise UnicityError(ID_FIELD, _parse_live(object_id, result[1]))
        if result[0] == "modified":
            raise ModifiedMeanwhileError(result[1] and _parse_live(object_id, result[1]))
        self._remember(keys, object_id, (f"{result[1]}:{text}", ""), result)
        return {**data, ID_FIELD: object_id, MODIFIED_FIELD: int(result[1])}

    def _write_unique(
        self, keys: list[str], args: list[str], data: Record, object_id: str,
        unique_fields: Sequence[str],
    ) -> list[Any]:
        """Check unicity against the live records and write, atomically (WATCH, retried)."""
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(keys[0])
                    live = [_parse_live(i, v) for i, v in pipe.hgetall(keys[0]).items()]
                    conflict = ev.unique_conflict(live, data, object_id, unique_fields)
                    if conflict is not None:
                        raise UnicityError(*conflict)
                    pipe.multi()
                    self._write(keys=keys, args=args, client=pipe)
                    return pipe.execute()[0]
                except redis.WatchError:
                    continue

    def delete(
        self,
        collection_id: str,
        parent_id: str,
        object_id: str,
        with_deleted: bool = True,
        last_modified: int | None = None,
        expected_last_modified: int | None = None,
    ) -> Record:
        """Delete the live record (see :meth:`StorageBase.delete`)."""
        keys = _keys(collection_id, parent_id)
        expected = "" if expected_last_modified is None else str(expected_last_modified)
        args = [object_id, _client_arg(ev.client_timestamp(last_modified)),
                "1" if with_deleted else "", expected]
        with backend_errors():
            result = self._delete(keys=keys[:3], args=args)
        if result[0] == "missing":
            raise RecordNotFoundError(object_id)
        if result[0] == "modified":
            raise ModifiedMeanwhileError(_parse_live(object_id, result[1]))
        self._remember(keys, object_id, ("", result[1] if with_deleted else ""), result)
        return ev.tombstone(object_id, int(result[1]))

    def delete_all(
        self,
        collection_id: str,
        parent_id: str,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination_rules: Keyset | None = None,
        limit: int | None = None,
        with_deleted: bool = True,
        read_filter: ReadFilter | None = None,
    ) -> list[Record]:
        """Delete, one by one in listing order, what the same listing returns."""
        records, _ = self.get_all(collection_id, parent_id, filters, sorting, pagination_rules,
                                  limit, read_filter=read_filter)
        tombstones = []
        for record in records:
            try:
                tombstones.append(self.delete(collection_id, parent_id, record[ID_FIELD],
                                              with_deleted))
            except RecordNotFoundError:  # deleted meanwhile by another writer
                continue
        return tombstones

    def purge_deleted(
        self, collection_id: str, parent_id: str | None = None, before: int | None = None
    ) -> list[str]:
        """Remove tombstones older than ``before`` (see :meth:`StorageBase.purge_deleted`)."""
        parents_key = _keys(collection_id, "")[3]
        removed: list[str] = []
        with backend_errors():
            parents = [parent_id] if parent_id is not None else self.client.smembers(parents_key)
            for parent in parents:
                keys = _keys(collection_id, parent)
                for object_id, stamp in self.client.hgetall(keys[1]).items():
                    if before is not None and int(stamp) >= before:
                        continue
                    if self.client.hdel(keys[1], object_id):
                        removed.append(object_id)
                        restore = [object_id, "-", "", "", stamp, "-", ""]
                        undo.record(self, lambda k=keys, a=restore: self._restore(
                            keys=k[:3], args=a))
        return removed

    # Reads
    def get(self, collection_id: str, parent_id: str, object_id: str) -> Record:
        """The live record (see :meth:`StorageBase.get`)."""
        with backend_errors():
            value = self.client.hget(_keys(collection_id, parent_id)[0], object_id)
        if value is None:
            raise RecordNotFoundError(object_id)
        return _parse_live(object_id, value)

    def get_all(
        self,
        collection_id: str,
        parent_id: str,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination_rules: Keyset | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        read_filter: ReadFilter | None = None,
        count: bool = False,
    ) -> tuple[list[Record], int | None]:
        """List the pair's records, filtered, sorted and paginated in Python."""
        allowed = ev.accessible_ids(read_filter)
        keys = _keys(collection_id, parent_id)
        with backend_errors(), self.client.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys[0])
            if include_deleted:
                pipe.hgetall(keys[1])
            answers = pipe.execute()
        candidates = [(_parse_live(i, v), False) for i, v in answers[0].items()]
        if include_deleted:
            candidates += [(ev.tombstone(i, int(v)), True) for i, v in answers[1].items()]
        return select(candidates, filters, sorting, pagination_rules, limit, allowed, count)


def load_from_config(config: Any) -> RedisStorage:
    """The storage of ``storage_url`` with the ``storage_*`` pool settings."""
    return RedisStorage(create_redis_client(config.get_settings(), "storage"))
