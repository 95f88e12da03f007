"""Which requests pyramid_tm wraps in a transaction: the ones that may write.

``GET``, ``HEAD`` and ``OPTIONS`` are safe methods: their views only read, and the backends
read outside any transaction (PostgreSQL: one autocommit statement on a pooled connection).
Leaving them out of the transaction machinery saves its begin, commit and bookkeeping on
every read. A sub-request of a batch runs in the batch's transaction whatever its method.

A view of a safe method that does write (an application's own, say) still works: each of its
writes is committed at once, as outside a request. One that needs several writes to succeed or
fail together opens a transaction itself (``with request.tm:``), or the application sets
``tm.activate_hook`` to a function of its own.
"""

from __future__ import annotations

from pyramid.request import Request

__all__ = ["SAFE_METHODS", "needs_transaction"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def needs_transaction(request: Request) -> bool:
    """pyramid_tm's ``tm.activate_hook``: False for the safe methods."""
    return request.environ["REQUEST_METHOD"] not in SAFE_METHODS
