"""The workloads: what wrk sends, and the check that the answer is right before it is timed.

A check raises :class:`CheckFailed` when a system answers wrongly (wrong order, wrong filter,
missing ``Next-Page``, wrong count of ``_since`` results...), so a wrong answer cannot look fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client import Answer, basic_auth, call, path_of
from loadgen import LoadSpec
from systems import System, record_id

PAGE = 20
FILTER_MIN_RANK = 5000
CHECKED_RECORD = 1234
PATCHED_RECORD = 4321
CREATED_RANK = 5000


class CheckFailed(AssertionError):
    """A system gave a wrong answer."""


@dataclass
class Context:
    """What a workload needs to know about the system and its data."""

    system: System
    records: int
    ids_file: Path
    exact_newest: bool
    newest_rank: int
    """Rank of the newest seeded record (a large collection's older records rank higher)."""
    seed_offset: int = 0
    found: dict[str, Any] = field(default_factory=dict)


def expect(condition: bool, message: str, answer: Answer | None = None) -> None:
    """Raise CheckFailed with the answer when ``condition`` is false."""
    if not condition:
        shown = "" if answer is None else f" (status {answer.status}: {str(answer.body)[:400]})"
        raise CheckFailed(message + shown)


def get_ok(ctx: Context, path: str, auth: bool = True) -> Answer:
    """GET that must answer 200."""
    answer = call(ctx.system.port, "GET", path, auth=auth)
    expect(answer.status == 200, f"GET {path} did not answer 200", answer)
    return answer


def records_of(answer: Answer) -> list[dict]:
    """The ``data`` list of a listing."""
    expect(isinstance(answer.body, dict) and isinstance(answer.body.get("data"), list),
           "listing has no data list", answer)
    return answer.body["data"]


def check_heartbeat(ctx: Context) -> None:
    """200 and every check true."""
    answer = get_ok(ctx, ctx.system.heartbeat_path, auth=False)
    expect(isinstance(answer.body, dict) and answer.body and all(answer.body.values()),
           "heartbeat is not all true", answer)


def check_get_record(ctx: Context) -> None:
    """The record asked for, with its seeded fields."""
    wanted = record_id(CHECKED_RECORD)
    data = get_ok(ctx, ctx.system.record_path(wanted)).body["data"]
    expect(data["id"] == wanted and data["rank"] == CHECKED_RECORD
           and data["title"] == f"Record {CHECKED_RECORD}", f"wrong record {data}")


def check_list_sorted(ctx: Context) -> None:
    """The 20 highest ranks in order, and a second page continuing them."""
    answer = get_ok(ctx, f"{ctx.system.collection_path}?_limit={PAGE}&_sort=-rank")
    top = ctx.records - 1
    ranks = [record["rank"] for record in records_of(answer)]
    expect(ranks == list(range(top, top - PAGE, -1)), f"wrong ranks {ranks}")
    expect("next-page" in answer.headers, "no Next-Page header", answer)
    second = get_ok(ctx, path_of(answer.headers["next-page"]))
    ranks = [record["rank"] for record in records_of(second)]
    expect(ranks == list(range(top - PAGE, top - 2 * PAGE, -1)), f"wrong page 2 ranks {ranks}")


def check_list_filtered(ctx: Context) -> None:
    """Only ranks >= 5000, newest first, a Next-Page, and a second page older than the first."""
    answer = get_ok(ctx, f"{ctx.system.collection_path}?min_rank={FILTER_MIN_RANK}&_limit={PAGE}")
    records = records_of(answer)
    expect(len(records) == PAGE, f"{len(records)} records instead of {PAGE}")
    expect(all(record["rank"] >= FILTER_MIN_RANK for record in records), "filter not applied")
    stamps = [record["last_modified"] for record in records]
    expect(stamps == sorted(stamps, reverse=True) and len(set(stamps)) == PAGE,
           "not newest first")
    if ctx.exact_newest:
        ranks = [record["rank"] for record in records]
        newest = ctx.newest_rank
        expect(ranks == list(range(newest, newest - PAGE, -1)), f"wrong ranks {ranks}")
    expect("next-page" in answer.headers, "no Next-Page header", answer)
    second = records_of(get_ok(ctx, path_of(answer.headers["next-page"])))
    expect(len(second) == PAGE and all(r["rank"] >= FILTER_MIN_RANK for r in second)
           and max(r["last_modified"] for r in second) < stamps[-1], "wrong page 2")


def check_list_since(ctx: Context) -> None:
    """``_since`` the 21st newest record gives exactly the 20 newest, without Next-Page."""
    newest = records_of(get_ok(ctx, f"{ctx.system.collection_path}?_limit={PAGE + 1}"))
    expect(len(newest) == PAGE + 1, "fewer records than expected")
    since = newest[PAGE]["last_modified"]
    answer = get_ok(ctx, f"{ctx.system.collection_path}?_since={since}")
    records = records_of(answer)
    expect([r["id"] for r in records] == [r["id"] for r in newest[:PAGE]],
           f"_since={since} gave {len(records)} records, not the {PAGE} newest")
    expect("next-page" not in answer.headers, "unexpected Next-Page header", answer)
    ctx.found["since"] = since


def check_patch_record(ctx: Context) -> None:
    """PATCH changes the title only and moves last_modified forward; GET sees it."""
    path = ctx.system.record_path(record_id(PATCHED_RECORD))
    before = get_ok(ctx, path).body["data"]
    answer = call(ctx.system.port, "PATCH", path, body={"data": {"title": "checked"}})
    expect(answer.status == 200, "PATCH did not answer 200", answer)
    data = answer.body["data"]
    expect(data["title"] == "checked" and data["rank"] == PATCHED_RECORD
           and data["last_modified"] > before["last_modified"], f"wrong PATCH answer {data}")
    expect(get_ok(ctx, path).body["data"]["title"] == "checked", "PATCH not stored")


def check_create_record(ctx: Context) -> None:
    """POST answers 201 with a new id that GET then finds."""
    body = {"data": {"title": "checked", "rank": CREATED_RANK, "tags": ["new"]}}
    answer = call(ctx.system.port, "POST", ctx.system.collection_path, body=body)
    expect(answer.status == 201, "POST did not answer 201", answer)
    created = answer.body["data"]
    stored = get_ok(ctx, ctx.system.record_path(created["id"])).body["data"]
    expect(stored["title"] == "checked" and stored["rank"] == CREATED_RANK,
           f"POST not stored {stored}")


@dataclass
class Workload:
    """A named workload: its check, the load it sends, and how it changes the record count."""

    name: str
    label: str
    check: Callable[[Context], None]
    spec: Callable[[Context], LoadSpec]
    creates: bool = False
    writes: bool = False


def _get(path: Callable[[Context], str], auth: bool = True) -> Callable[[Context], LoadSpec]:
    def spec(ctx: Context) -> LoadSpec:
        target = path(ctx)
        return LoadSpec("GET", target, 200, auth=basic_auth() if auth else "",
                        ids_file=ctx.ids_file if "{id}" in target else None)
    return spec


def _patch_spec(ctx: Context) -> LoadSpec:
    body = json.dumps({"data": {"title": "patched {n}"}})
    return LoadSpec("PATCH", ctx.system.record_path("{id}"), 200, body=body, auth=basic_auth(),
                    ids_file=ctx.ids_file)


def _create_spec(ctx: Context) -> LoadSpec:
    # Ranks 5000-9999: created records (the newest) match the min_rank filter, so how many
    # records a system created before does not change what the filter walks past later.
    body = json.dumps({"data": {"title": "created {n}", "rank": "{rank}", "tags": ["new"]}})
    body = body.replace('"{rank}"', "{rank}")
    return LoadSpec("POST", ctx.system.collection_path, 201, body=body, auth=basic_auth())


WORKLOADS: dict[str, Workload] = {w.name: w for w in [
    Workload("heartbeat", "`__heartbeat__`", check_heartbeat,
             _get(lambda ctx: ctx.system.heartbeat_path, auth=False)),
    Workload("get_record", "GET one record", check_get_record,
             _get(lambda ctx: ctx.system.record_path("{id}"))),
    Workload("list_sorted", "GET list `_limit=20&_sort=-rank`", check_list_sorted,
             _get(lambda ctx: f"{ctx.system.collection_path}?_limit={PAGE}&_sort=-rank")),
    Workload("list_filtered", "GET list `min_rank=5000&_limit=20`", check_list_filtered,
             _get(lambda ctx: f"{ctx.system.collection_path}?min_rank={FILTER_MIN_RANK}"
                              f"&_limit={PAGE}")),
    Workload("list_since", "GET list `_since` (20 newer)", check_list_since,
             _get(lambda ctx: f"{ctx.system.collection_path}?_since={ctx.found['since']}")),
    Workload("patch_record", "PATCH one record", check_patch_record, _patch_spec, writes=True),
    Workload("create_record", "POST create", check_create_record, _create_spec,
             creates=True, writes=True),
]}
LIST_WORKLOADS = ("list_sorted", "list_filtered", "list_since")
