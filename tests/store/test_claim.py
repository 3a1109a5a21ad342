"""The controller's claim on a PostgreSQL database (an advisory lock,
:class:`vigil.store.DatabaseClaim`), on a real server."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from _postgres import PgServer
from vigil.errors import StoreError
from vigil.store import DatabaseClaim


@pytest.fixture
def claims(pg_url: str) -> Iterator[list[DatabaseClaim]]:
    made = [DatabaseClaim(pg_url), DatabaseClaim(pg_url)]
    yield made
    for claim in made:
        claim.release()


def test_a_database_is_claimed_once_and_the_refused_one_learns_the_holder(
    claims: list[DatabaseClaim],
) -> None:
    first, second = claims
    assert first.try_acquire() is None
    holder = second.try_acquire()
    assert holder is not None
    assert f"vigil controller pid {os.getpid()} on {socket.gethostname()}"[:63] in holder
    assert first.held() and not second.held()


def test_a_waiting_claim_gets_the_database_once_the_holder_lets_go(
    claims: list[DatabaseClaim],
) -> None:
    first, second = claims
    assert first.try_acquire() is None
    assert second.wait(0.2) is False  # lock_timeout: the holder is still there
    first.release()
    assert second.wait(30) is True
    assert second.held() and not first.held()


def test_a_claim_whose_session_was_ended_knows_it_lost_the_lock(
    pg_server: PgServer, claims: list[DatabaseClaim]
) -> None:
    first, second = claims
    assert first.try_acquire() is None
    pg_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name LIKE 'vigil controller pid {os.getpid()}%'"
    )  # as when the holder's host vanished: the server drops the session and its lock
    assert first.held() is False
    assert second.try_acquire() is None


def test_claims_on_two_databases_of_one_server_are_apart(pg_server: PgServer, pg_url: str) -> None:
    with pg_server.database() as other_url:
        ours, theirs = DatabaseClaim(pg_url), DatabaseClaim(other_url)
        try:
            assert ours.try_acquire() is None
            assert theirs.try_acquire() is None
        finally:
            ours.release()
            theirs.release()


def test_only_a_postgresql_store_is_claimed_this_way() -> None:
    assert DatabaseClaim.applies("postgresql://u@h/db")
    assert not DatabaseClaim.applies("sqlite:///x.db")
    with pytest.raises(StoreError, match="only a PostgreSQL database is claimed"):
        DatabaseClaim("sqlite:///x.db")


def test_a_claim_on_a_server_that_is_not_there_names_the_fix() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    claim = DatabaseClaim(f"postgresql://vigil@127.0.0.1:{port}/vigil")
    try:
        with pytest.raises(StoreError, match=r"cannot claim .*Connection refused: is PostgreSQL"):
            claim.try_acquire()
    finally:
        claim.release()
