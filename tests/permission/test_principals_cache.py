"""How long a process keeps a user's groups read from PostgreSQL
(``permission_principals_cache_seconds``)."""

from __future__ import annotations

import psycopg2
import pytest
import transaction

from cliquetish.interfaces import IPermission
from cliquetish.permission import postgresql
from cliquetish.storage.postgresql.client import create_client
from cliquetish.testing import make_app

USER = "basicauth:principals-cache-test"


def _backend(url: str, seconds: float) -> postgresql.Permission:
    client = create_client({"permission_url": url}, "permission")
    return postgresql.Permission(client, principals_cache_seconds=seconds)


def _add_group_behind_the_backend(url: str, group: str) -> None:
    """A change another process makes: straight into the table, unseen by this process."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO user_principals (user_id, principal) VALUES (%s, %s)", (USER, group)
        )


@pytest.fixture
def url(postgresql_url: str):
    backend = _backend(postgresql_url, 0)
    backend.initialize_schema()
    transaction.abort()
    backend.flush()
    yield postgresql_url
    backend.flush()


def test_zero_seconds_reads_groups_on_every_call(url: str) -> None:
    backend = _backend(url, 0)
    assert backend.get_user_principals(USER) == set()
    _add_group_behind_the_backend(url, "group:editors")
    assert backend.get_user_principals(USER) == {"group:editors"}


def test_a_delay_keeps_groups_changed_elsewhere_until_it_ends(url: str) -> None:
    backend = _backend(url, 60)
    assert backend.get_user_principals(USER) == set()
    _add_group_behind_the_backend(url, "group:editors")
    assert backend.get_user_principals(USER) == set()
    backend.add_user_principal(USER, "group:writers")  # a change made here is seen at once
    assert backend.get_user_principals(USER) == {"group:editors", "group:writers"}


def test_the_setting_reaches_the_backend(url: str) -> None:
    app = make_app({"permission_backend": "cliquetish.permission.postgresql",
                    "permission_url": url, "permission_principals_cache_seconds": "0"})
    backend = app.app.registry.queryUtility(IPermission)
    assert backend.principals_cache_seconds == 0.0


def test_a_negative_delay_is_refused(url: str) -> None:
    from cliquetish.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="permission_principals_cache_seconds"):
        make_app({"permission_principals_cache_seconds": "-1"})


def test_principals_read_by_the_transaction_that_changed_them_are_not_kept(url: str) -> None:
    """Its reads see its own uncommitted change: kept, they would outlive an abort."""
    backend = _backend(url, 60)
    transaction.begin()
    try:
        backend.add_user_principal(USER, "group:aborted")
        held = [(backend, str(n)) for n in range(100)]  # other objects where markers were
        for _ in range(3):
            assert backend.get_user_principals(USER) == {"group:aborted"}
        assert len(held) == 100
    finally:
        transaction.abort()
    assert backend.get_user_principals(USER) == set()
    assert _backend(url, 60).get_user_principals(USER) == set()


def test_a_committed_change_is_seen_after_the_commit(url: str) -> None:
    backend = _backend(url, 60)
    assert backend.get_user_principals(USER) == set()
    transaction.begin()
    backend.add_user_principal(USER, "group:committed")
    assert backend.get_user_principals(USER) == {"group:committed"}
    transaction.commit()
    assert backend.get_user_principals(USER) == {"group:committed"}
