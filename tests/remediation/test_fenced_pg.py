"""Host actions under the store's fence on a real PostgreSQL: a takeover that lands while an
old leader's start is in flight waits for the start to end (it no longer slips between the
check and the action), and an action asked after the takeover is refused and audited.

Two stores on one database stand for two controllers: ``old`` leads (epoch 1) and wraps a real
:class:`~vigil.backends.local.LocalBackend` in a :class:`~vigil.remediation.FencedBackend`;
``new`` takes the lead (:meth:`~vigil.store.SqlStore.lead`) while the old one's start is held at
a gate inside the backend, after the fence's check.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from vigil.backends import ProcessInfo, ProcessSpec
from vigil.backends.local import LocalBackend
from vigil.errors import NotLeaderError
from vigil.model import ReplicaId
from vigil.remediation import FencedBackend
from vigil.store import SqlStore


class GatedBackend(LocalBackend):
    """A real local backend whose start waits at a gate first (the fence's check is done)."""

    def __init__(self, instance: str, order: list[str]) -> None:
        super().__init__(instance)
        self.at_gate = asyncio.Event()
        self.gate = asyncio.Event()
        self.order = order

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        self.at_gate.set()
        await self.gate.wait()
        info = await super().start(spec)
        self.order.append("started")
        return info


@pytest.fixture
def stores(pg_url: str) -> Iterator[tuple[SqlStore, SqlStore, SqlStore]]:
    old, new, watcher = SqlStore(pg_url), SqlStore(pg_url), SqlStore(pg_url)
    old.lead("controller A", at=1.0)
    yield old, new, watcher
    for store in (old, new, watcher):
        store.close()


def takeover_waits(watcher: SqlStore) -> bool:
    """Whether a session waits for an advisory lock (the fence's, taken exclusive)."""
    with watcher._db.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return bool(conn.exec_driver_sql(query).scalar())


async def test_a_takeover_waits_for_the_old_leaders_start_in_flight(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    old, new, watcher = stores
    order: list[str] = []
    inner = GatedBackend(f"fence-{uuid.uuid4().hex[:8]}", order)
    hosts = FencedBackend(inner, store=old, hold=old.holding_lead, clock=lambda: 1.0)
    spec = ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"])
    starting = asyncio.create_task(hosts.start(spec))
    await asyncio.wait_for(inner.at_gate.wait(), 30)  # the fence's check has passed

    def take() -> None:
        new.lead("controller B", at=2.0, wait=60.0)
        order.append("took over")

    taking = asyncio.create_task(asyncio.to_thread(take))
    for _ in range(600):  # until the takeover committed (main) or waits on the fence (fixed)
        if taking.done() or await asyncio.to_thread(takeover_waits, watcher):
            break
        await asyncio.sleep(0.05)
    inner.gate.set()
    info = await asyncio.wait_for(starting, 30)
    try:
        await asyncio.wait_for(taking, 30)
        # on main the takeover committed first and the old leader started its process after it
        assert order == ["started", "took over"]
        assert not old.leads() and new.leads()
    finally:
        await inner.stop(info, 1.0)


async def test_an_action_after_a_takeover_is_refused_and_audited(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    old, new, watcher = stores
    new.lead("controller B", at=2.0, wait=30.0)
    lost: list[str] = []
    inner = LocalBackend(f"fence-{uuid.uuid4().hex[:8]}")
    hosts = FencedBackend(
        inner, store=old, hold=old.holding_lead, clock=lambda: 3.0, on_lost=lost.append
    )
    spec = ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"])
    with pytest.raises(NotLeaderError, match="no longer the leader"):
        await hosts.start(spec)
    assert len(lost) == 1 and "controller B" in lost[0]
    refused = [e for e in watcher.list_audit().items if e.action == "replica.start.refused"]
    assert [(e.target, e.result) for e in refused] == [("replica:llm/0", "refused: not the leader")]
    assert inner.sweep([]) == []  # nothing was started


def test_a_store_that_never_led_holds_nothing(pg_url: str) -> None:
    store = SqlStore(pg_url)
    try:
        with store.holding_lead("a sweep") as held:
            assert held is None
        assert store.leads()
    finally:
        store.close()


class GatedStop(LocalBackend):
    """A real local backend whose stop waits at a gate first (the fence's check is done)."""

    def __init__(self, instance: str) -> None:
        super().__init__(instance)
        self.at_gate = asyncio.Event()
        self.gate = asyncio.Event()

    async def stop(self, info: ProcessInfo, grace: float) -> int | None:
        self.at_gate.set()
        await self.gate.wait()
        return await super().stop(info, grace)


async def test_a_stop_is_checked_but_holds_no_connection_through_its_grace(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    # at shutdown every replica stops at once: a connection held per stop would starve the pool
    old, new, _ = stores
    inner = GatedStop(f"fence-{uuid.uuid4().hex[:8]}")
    hosts = FencedBackend(inner, store=old, hold=old.holding_lead, clock=lambda: 1.0)
    info = await inner.start(ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"]))
    stopping = asyncio.create_task(hosts.stop(info, 1.0))
    try:
        await asyncio.wait_for(inner.at_gate.wait(), 30)
        # the takeover is not held back by the stop in flight (lock_timeout 1 s, no retry)
        await asyncio.to_thread(new.lead, "controller B", at=2.0, wait=1.0)
        assert new.leads()
    finally:
        inner.gate.set()
        await asyncio.wait_for(stopping, 30)
    assert not inner.alive(info)
