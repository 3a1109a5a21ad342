"""A controller on PostgreSQL whose claim was cut stops at its first refused write (the fence).

An in-process controller leads a database of the test server; the test plays the standby (a
:class:`vigil.store.DatabaseClaim` waiting for the lock, then a store that leads). The claim
check is set to an hour, so the watch cannot be what stops the old leader: only the fence can.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from _postgres import PgServer
from vigil.daemon import _lock
from vigil.daemon._controller import Controller
from vigil.model import ReplicaState
from vigil.store import DatabaseClaim, SqlStore

from ._support import eventually, model_servers, replica_states, service, settled
from .conftest import OPERATOR, StartController


@pytest.fixture
def standby(pg_url: str) -> Iterator[tuple[DatabaseClaim, SqlStore]]:
    claim, store = DatabaseClaim(pg_url), SqlStore(pg_url)
    yield claim, store
    claim.release()
    store.close()


def cut_claim(server: PgServer, controller: Controller) -> None:
    """End the controller's claim session only (its store pool stays connected)."""
    lock = controller._db_lock
    assert lock is not None and lock.claim._conn is not None
    pid = lock.claim._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    server.admin(f"SELECT pg_terminate_backend({pid}, 10000)")


@pytest.mark.slow
async def test_a_leader_whose_claim_was_cut_stops_at_its_first_refused_write_leaving_replicas(
    pg_server: PgServer,
    pg_url: str,
    tag: str,
    start_controller: StartController,
    standby: tuple[DatabaseClaim, SqlStore],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(_lock, "CHECK_EVERY", 3600.0)  # the watch sleeps through the test
    controller = await start_controller(
        {"store": {"url": pg_url}, "services": [service(tag, replicas=1)]}
    )
    await eventually(
        lambda: settled(controller), 30, "the replica ready", lambda: replica_states(controller)
    )
    _, task = start_controller.running[id(controller)]
    info = controller.runners["llm/0"].info  # type: ignore[index]
    assert info is not None
    claim, store = standby
    assert await asyncio.to_thread(claim.wait, 0.2) is False  # led: the standby waits

    waiting = asyncio.create_task(asyncio.to_thread(claim.wait, 60))
    cut_claim(pg_server, controller)
    assert await asyncio.wait_for(waiting, 90) is True
    assert store.lead("the standby", at=time.time()) == 2
    assert not task.done(), "nothing has told the old leader yet"

    # an operator asks the old leader for a restart: its action record is a fenced write
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{controller.api_port}",
        headers={"Authorization": f"Bearer {OPERATOR}"},
        timeout=10,
    ) as ops:
        try:
            answer: httpx.Response | None = await ops.post("/api/v1/replicas/llm/0/restart")
        except httpx.TransportError:  # a write of its own (an event, rollups) was refused first
            answer = None
    if answer is not None:
        assert answer.status_code == 503, answer.text
        assert (
            "this controller is no longer the leader: the store is led by the standby"
            in (answer.json()["detail"])
        )

    await asyncio.wait_for(asyncio.shield(task), 60)  # stopped by the fence alone
    assert "no longer the leader" in caplog.text
    assert "stopping, leaving the replicas to the new leader" in caplog.text
    assert model_servers(tag) == [info.pid], "the replica was neither restarted nor stopped"
    os.kill(info.pid, 0)

    assert store.list_actions().total == 0, "the refused restart left no action record"
    assert all(e.action != "replica.restart" for e in store.list_audit().items)
    assert store.verify_audit() is None
    row = store.get_replica("llm/0")
    assert row is not None and row.pid == info.pid and row.state == ReplicaState.RUNNING
