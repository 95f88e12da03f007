"""Filtered listings answered from a bounded walk of the listing's sort order.

PostgreSQL plans a filtered listing for its values, at every request: a generic plan cannot
know whether ``min_rank=5000`` keeps half of the collection (walk the sort index and filter as
it goes) or a handful of records (find them, then sort them), and the planning costs about what
the run does. A filtered listing sorted on an indexed field is first asked from a *bounded
walk* instead: the first ``window`` records in the listing's order (with the page token's
condition and a range on the sorted column, without the other filters), then the filters and
the read permission on those, in one statement whose plan is the same whatever the values,
so it is prepared once per connection with a generic plan (:mod:`.prepared`)::

    SELECT ... FROM (SELECT ..., row_number() OVER () AS walked
                     FROM (SELECT ... ORDER BY <sort> LIMIT window + 1) AS walk) AS records
    WHERE (<filters and permission>) OR walked > window
    LIMIT fetch

The record at ``window + 1``, returned whatever the filters say, tells that the walk was cut
short: when it comes back, the page was not filled within the window and the listing is run
as before, planned for its values. Otherwise the rows are exactly the listing's page (the
window held the page, or the walk ended within it: the collection's end, or the bound of a
``_since``). The permission check sits under an ``OR``, its subquery ends with ``OFFSET 0``:
PostgreSQL then checks it per walked record (an index lookup) instead of planning a join or
hashing every entry of the principals, and nothing reorders the walk (:func:`walked_page`
still checks the order).

Whether walking pays depends on how often the window fills the page, which
:class:`WalkOutcomes` learns per statement shape: a shape whose walks mostly fall back is
planned directly, and walked again now and then in case its values changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_WINDOW", "WINDOW_FACTOR", "WalkOutcomes", "walk_window", "walked_page"]

WINDOW_FACTOR = 10
"""Records walked per record asked: a walk fills its page when at least about one walked
record in this many passes the filters."""

MAX_WINDOW = 2000
"""Most records a walk reads. A larger page (``_since`` without ``_limit`` asks 10,001) is
still answered by a walk that ends before the window, at the end of the collection or at the
bound of a ``_since``: the usual poll for what changed lately."""

_KEEP_RATE = 0.75
"""Weight of the past in a shape's success rate (the last walk weighs the rest)."""

WALK_THRESHOLD = 0.6
"""Success rate under which a shape is planned directly: a failed walk costs its window and a
second round trip, a successful one saves the planning."""

RETRY_EVERY = 32
"""A shape planned directly is walked again once in this many listings."""

_MAX_SHAPES = 512


def walk_window(fetch: int, maximum: int = MAX_WINDOW) -> int:
    """The records walked for a page of ``fetch`` records."""
    return min(fetch * WINDOW_FACTOR, maximum)


def walked_page(rows: Sequence[Sequence[Any]], window: int) -> list[Sequence[Any]] | None:
    """The page from the rows of a walk (their last column is the walk position), or None
    when the walk was cut short before the page was filled (or, defensively, when the rows
    did not keep the walk's order)."""
    previous = 0
    for row in rows:
        position = row[-1]
        if position > window or position <= previous:
            return None
        previous = position
    return list(rows)


class WalkOutcomes:
    """How often walking each statement shape filled the page (in this process)."""

    def __init__(self) -> None:
        self._rates: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def should_walk(self, shape: str) -> bool:
        """True when the shape's walks have paid lately (or are to be tried again)."""
        entry = self._rates.get(shape)
        if entry is None or entry[0] >= WALK_THRESHOLD:
            return True
        entry[1] += 1
        return entry[1] % RETRY_EVERY == 0

    def record(self, shape: str, filled: bool) -> None:
        """Remember whether a walk of ``shape`` filled its page."""
        with self._lock:
            entry = self._rates.get(shape)
            if entry is None:
                entry = self._rates[shape] = [1.0, 0]
                if len(self._rates) > _MAX_SHAPES:
                    self._rates.popitem(last=False)
            entry[0] = entry[0] * _KEEP_RATE + (1.0 - _KEEP_RATE) * filled

    def rate(self, shape: str) -> float | None:
        """The shape's recent success rate (None: never walked)."""
        entry = self._rates.get(shape)
        return None if entry is None else entry[0]

    def rates(self) -> dict[str, float]:
        """The recent success rate of every shape remembered."""
        return {shape: entry[0] for shape, entry in list(self._rates.items())}
