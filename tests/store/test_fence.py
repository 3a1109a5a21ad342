"""Fencing on a real PostgreSQL server: a controller that lost the claim cannot commit a write.

Two "controllers" in one test: each a :class:`vigil.store.DatabaseClaim` (the advisory lock)
and a :class:`vigil.store.SqlStore` that leads with :meth:`~vigil.store.SqlStore.lead`. The
leader's claim session is ended with ``pg_terminate_backend`` (a network cut, an idle-session
kill) while the standby waits; the standby is granted the lock and leads; the old leader's pool
connections are untouched, so only the fence stands between its writes and the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from _postgres import PgServer
from vigil.errors import NotLeaderError, StoreBusy, StoreError
from vigil.store import DatabaseClaim, SqlStore, _fence


class Side:
    """One controller's view of the database: its claim and its store."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.claim = DatabaseClaim(url)
        self.store = SqlStore(url)
        self.lost: list[str] = []

    def lead(self, at: float, wait: float = 30.0) -> int:
        return self.store.lead(self.name, at=at, on_lost=self.lost.append, wait=wait)

    def audit(self, what: str) -> None:
        self.store.append_audit(
            at=1.0, actor=self.name, action="test", target=what, reason="", result="ok"
        )

    def trail(self) -> list[str]:
        """The audit trail's targets, oldest first."""
        entries = self.store.list_audit().items
        return [e.target for e in sorted(entries, key=lambda e: e.id)]

    def close(self) -> None:
        self.claim.release()
        self.store.close()


@pytest.fixture(params=["one round trip", "two statements"])
def check_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the check as psycopg sends it, and as other drivers do."""
    if request.param == "two statements":
        monkeypatch.setattr(_fence, "ONE_TRIP_DRIVERS", ())
    return str(request.param)


@pytest.fixture
def sides(pg_url: str, check_path: str) -> Iterator[tuple[Side, Side]]:
    leader, standby = Side(pg_url, "controller A"), Side(pg_url, "controller B")
    yield leader, standby
    leader.close()
    standby.close()


def cut_claim(server: PgServer, side: Side) -> None:
    """End the claim's session only (the store's pool stays connected), and wait for it."""
    conn = side.claim._conn
    assert conn is not None
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    server.admin(f"SELECT pg_terminate_backend({pid}, 10000)")


def take_over(server: PgServer, leader: Side, standby: Side) -> None:
    """The standby waits for the lock; the leader's claim session is cut; the standby leads."""
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(standby.claim.wait, 60)
        cut_claim(server, leader)
        assert waiting.result(timeout=90) is True
    standby.lead(at=2.0)


def test_the_old_leaders_writes_fail_once_the_standby_leads_and_none_lands(
    pg_server: PgServer, sides: tuple[Side, Side]
) -> None:
    leader, standby = sides
    assert leader.claim.try_acquire() is None
    assert leader.lead(at=1.0) == 1
    leader.audit("before the cut")
    leader.store.set_meta("written by", "A")

    take_over(pg_server, leader, standby)

    with pytest.raises(NotLeaderError) as caught:
        leader.audit("after the cut")
    assert str(caught.value).startswith(
        "this controller is no longer the leader: the store is led by controller B (epoch 2), "
        "this controller led epoch 1; appending audit entry test 'after the cut' was refused"
    )
    with pytest.raises(NotLeaderError):
        leader.store.set_meta("written by", "A again")
    with pytest.raises(NotLeaderError), leader.store.batch("a batch of writes"):
        leader.store.set_meta("batched", "A")
        leader.audit("batched")
    assert leader.lost == [str(caught.value)], "told once, at the first refused write"

    view = standby.store
    assert standby.trail() == ["before the cut"]
    assert view.get_meta("written by") == "A"
    assert view.get_meta("batched") is None
    standby.audit("by the new leader")
    assert view.verify_audit() is None
    assert standby.trail() == ["before the cut", "by the new leader"]
    assert standby.lost == []


def test_a_leader_whose_claim_connection_was_cut_writes_on_while_nobody_else_leads(
    pg_server: PgServer, sides: tuple[Side, Side]
) -> None:
    # a server restart or an idle-session kill with no standby: the lone leader must go on
    leader, _ = sides
    assert leader.claim.try_acquire() is None
    leader.lead(at=1.0)
    cut_claim(pg_server, leader)
    assert leader.claim.held() is False
    leader.audit("still the leader")
    assert leader.store.verify_audit() is None
    assert leader.lost == []


def test_a_new_leader_waits_for_the_old_leaders_write_in_flight_which_commits_first(
    pg_server: PgServer, sides: tuple[Side, Side]
) -> None:
    leader, standby = sides
    assert leader.claim.try_acquire() is None
    leader.lead(at=1.0)
    in_batch, release = threading.Event(), threading.Event()

    def old_leader_batch() -> None:
        with leader.store.batch("a slow batch"):  # fenced: epoch 1 checked at its start
            leader.audit("in flight")
            in_batch.set()
            assert release.wait(60)

    with ThreadPoolExecutor(2) as pool:
        batch = pool.submit(old_leader_batch)
        assert in_batch.wait(60)
        waiting = pool.submit(standby.claim.wait, 60)
        cut_claim(pg_server, leader)
        assert waiting.result(timeout=90) is True
        with pytest.raises(StoreBusy):  # the old leader's transaction holds the fence
            standby.lead(at=2.0, wait=0.3)
        release.set()
        batch.result(timeout=60)
    assert standby.lead(at=2.0) == 2

    with pytest.raises(NotLeaderError):
        leader.audit("after")
    standby.audit("after the takeover")
    assert standby.trail() == ["in flight", "after the takeover"]
    assert standby.store.verify_audit() is None


def test_the_epoch_is_kept_in_the_meta_row_leader_with_its_holder(sides: tuple[Side, Side]) -> None:
    leader, _ = sides
    assert leader.lead(at=5.0) == 1
    raw = leader.store.get_meta("leader")
    assert raw == '{"epoch": 1, "holder": "controller A", "since": 5.0}'
    assert leader.lead(at=6.0) == 2  # a second lead (the same controller) goes on from it


def test_a_store_that_does_not_lead_is_not_fenced(pg_url: str, sides: tuple[Side, Side]) -> None:
    # the CLI's store, an operator's tool: never leads, never refused
    leader, _ = sides
    leader.lead(at=1.0)
    other = SqlStore(pg_url)
    try:
        other.set_meta("by the cli", "yes")
        assert leader.store.get_meta("by the cli") == "yes"
    finally:
        other.close()


def test_a_sqlite_store_leads_as_epoch_zero_and_is_not_fenced(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/vigil.db")
    try:
        assert store.lead("controller A", at=1.0) == 0
        store.set_meta("k", "v")
        assert store.get_meta("leader") is None
    finally:
        store.close()


def test_an_unreadable_leader_row_is_a_clear_store_error(
    pg_url: str, sides: tuple[Side, Side]
) -> None:
    leader, _ = sides
    leader.lead(at=1.0)
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE meta SET value = 'not json' WHERE key = 'leader'")
    engine.dispose()
    with pytest.raises(StoreError) as caught:
        leader.store.set_meta("k", "v")
    assert "the meta row 'leader' is not JSON: 'not json': stop every controller" in str(
        caught.value
    )
    assert "DELETE FROM meta WHERE key = 'leader'" in str(caught.value)


def test_the_stores_sessions_keep_tcp_alive_so_a_vanished_leaders_write_in_flight_ends(
    pg_url: str,
) -> None:
    # a new leader waits for the old one's write transactions in flight: a host gone silent
    # mid-transaction must lose its session in about 20 s (server side), not hours
    store = SqlStore(pg_url + "?options=-c%20statement_timeout%3D600000")
    try:
        with store._db.read("the session settings") as conn:
            shown = {
                name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                for name in ("tcp_keepalives_idle", "tcp_keepalives_count", "statement_timeout")
            }
        assert shown == {
            "tcp_keepalives_idle": "5",
            "tcp_keepalives_count": "3",
            "statement_timeout": "10min",  # the URL's own options are kept
        }
    finally:
        store.close()
