"""Concurrent requests: paging while others write, and conditional writes racing."""

from __future__ import annotations

import threading
from collections import Counter

import webtest

from tests.resource.conftest import ALICE, PREFIX

NOTES = f"{PREFIX}/notes"
WRITERS = 20


def client(app: webtest.TestApp) -> webtest.TestApp:
    """Another client of the same WSGI application (one per thread)."""
    return webtest.TestApp(app.app, extra_environ={"HTTP_HOST": "localhost:80"})


def run_together(count: int, work) -> list:
    """Run ``work(index)`` in ``count`` threads released at once; return their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


MAX_INSERTS = 150  # bounded: a writer faster than the walk could otherwise outrun it forever
MAX_PAGES = (40 + MAX_INSERTS) // 3 + 2


def test_paging_while_records_are_added_returns_each_record_once(app) -> None:
    initial = {app.post_json(NOTES, {"data": {"title": f"n{i}", "rank": i % 7}},
                             headers=ALICE).json["data"]["id"] for i in range(40)}
    stop = threading.Event()
    added: list[str] = []

    def insert() -> None:
        writer = client(app)
        index = 0
        while not stop.is_set() and index < MAX_INSERTS:
            response = writer.post_json(NOTES, {"data": {"title": f"new{index}", "rank": 3}},
                                        headers=ALICE)
            added.append(response.json["data"]["id"])
            index += 1

    inserter = threading.Thread(target=insert)
    inserter.start()
    try:
        for sort in ("", "&_sort=rank", "&_sort=-title"):
            seen = []
            response = app.get(f"{NOTES}?_limit=3{sort}", headers=ALICE)
            for _ in range(MAX_PAGES):
                seen.extend(record["id"] for record in response.json["data"])
                link = response.headers.get("Next-Page")
                if not link:
                    break
                response = app.get(link, headers=ALICE)
            else:
                raise AssertionError(f"the walk{sort} did not end within {MAX_PAGES} pages")
            duplicates = [item for item, times in Counter(seen).items() if times > 1]
            assert duplicates == []
            assert initial <= set(seen)
    finally:
        stop.set()
        inserter.join()
    assert added, "the other thread inserted records meanwhile"


def test_concurrent_patches_with_one_if_match_let_exactly_one_win(app) -> None:
    note = app.post_json(NOTES, {"data": {"title": "race"}}, headers=ALICE).json["data"]
    url = f"{NOTES}/{note['id']}"
    etag = f'"{note["last_modified"]}"'

    def patch(index: int) -> int:
        response = client(app).patch_json(url, {"data": {"title": f"winner {index}"}},
                                          headers={**ALICE, "If-Match": etag}, status="*")
        return response.status_int

    statuses = Counter(run_together(WRITERS, patch))
    assert statuses == {200: 1, 412: WRITERS - 1}
    assert app.get(url, headers=ALICE).json["data"]["title"].startswith("winner ")


def test_concurrent_patches_without_if_match_lose_no_update(app) -> None:
    note = app.post_json(NOTES, {"data": {"title": "merge", "author": {}}},
                         headers=ALICE).json["data"]
    url = f"{NOTES}/{note['id']}"
    merge = {**ALICE, "Content-Type": "application/merge-patch+json"}

    def patch(index: int) -> int:
        body = f'{{"data": {{"author": {{"f{index}": {index}}}}}}}'
        return client(app).patch(url, body, headers=merge, status="*").status_int

    assert set(run_together(WRITERS, patch)) == {200}
    author = app.get(url, headers=ALICE).json["data"]["author"]
    assert author == {f"f{index}": index for index in range(WRITERS)}


def test_concurrent_deletes_with_if_match(app) -> None:
    note = app.post_json(NOTES, {"data": {"title": "gone"}}, headers=ALICE).json["data"]
    url = f"{NOTES}/{note['id']}"
    etag = f'"{note["last_modified"]}"'

    def delete(index: int) -> int:
        return client(app).delete(url, headers={**ALICE, "If-Match": etag},
                                  status="*").status_int

    statuses = Counter(run_together(8, delete))
    assert statuses[200] == 1
    assert statuses[200] + statuses[412] + statuses[404] == 8
