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
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

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


def until(check: Callable[[], bool], thread: threading.Thread) -> None:
    """Poll ``check`` until true or ``thread`` ended (at most 30 s; no timing is asserted)."""
    for _ in range(600):
        if not thread.is_alive() or check():
            return
        time.sleep(0.05)


class WatchedSignals(LocalBackend):
    """A real local backend that, on the stop's SIGTERM, starts a takeover in a thread and lets
    it reach the fence (or commit) before the signal goes out."""

    def __init__(self, instance: str, take: Callable[[], None], watcher: SqlStore) -> None:
        super().__init__(instance)
        self.take, self.watcher = take, watcher
        self.order: list[str] = []
        self.taking: threading.Thread | None = None

    def kill(self, info: ProcessInfo, signum: int) -> None:
        if signum == signal.SIGTERM and self.taking is None:
            self.taking = threading.Thread(target=self.take)
            self.taking.start()
            until(lambda: takeover_waits(self.watcher), self.taking)
            self.order.append("signalled")
        super().kill(info, signum)


async def test_a_takeover_waits_for_a_stops_signal_in_flight(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    # main checked the lead, then signalled unheld: a takeover in between still saw it stopped
    old, new, watcher = stores
    order: list[str] = []

    def take() -> None:
        new.lead("controller B", at=2.0, wait=60.0)
        order.append("took over")

    inner = WatchedSignals(f"fence-{uuid.uuid4().hex[:8]}", take, watcher)
    inner.order = order
    hosts = FencedBackend(inner, store=old, hold=old.holding_lead, clock=lambda: 1.0)
    info = await inner.start(ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"]))
    try:
        await asyncio.wait_for(hosts.stop(info, 5.0), 30)
    finally:
        assert inner.taking is not None
        await asyncio.to_thread(inner.taking.join, 30)
        await inner.stop(info, 0.0)
    assert order == ["signalled", "took over"]
    assert not inner.alive(info) and new.leads()


TERM_IGNORED = 'trap \'echo term >> "$0"\' TERM; : > "$0.ready"; while :; do sleep 0.1; done'
"""A replica that notes its SIGTERM in the file named by $0 and runs on (SIGKILL ends it); it
makes ``$0.ready`` once its trap is set (a SIGTERM before that ends the shell: a CI run failed
so, the stop finished with no SIGTERM noted)."""


async def test_a_takeover_during_a_stops_grace_is_not_held_back_and_refuses_its_sigkill(
    stores: tuple[SqlStore, SqlStore, SqlStore], tmp_path: Path
) -> None:
    old, new, watcher = stores
    lost: list[str] = []
    inner = LocalBackend(f"fence-{uuid.uuid4().hex[:8]}")
    hosts = FencedBackend(
        inner, store=old, hold=old.holding_lead, clock=lambda: 3.0, on_lost=lost.append
    )
    noted = tmp_path / "terms"
    argv = ["sh", "-c", TERM_IGNORED, str(noted)]
    info = await inner.start(ProcessSpec(replica=ReplicaId("llm/0"), argv=argv))
    try:
        ready = tmp_path / "terms.ready"
        for _ in range(600):  # its trap set before the SIGTERM goes out
            if ready.exists():
                break
            await asyncio.sleep(0.05)
        assert ready.exists()
        stopping = asyncio.create_task(hosts.stop(info, 8.0))  # room for the takeover
        for _ in range(600):
            if noted.exists() or stopping.done():
                break
            await asyncio.sleep(0.05)
        assert noted.exists()  # the SIGTERM went out while this controller led
        # no store connection is held through the grace: the takeover waits on nothing
        # (lock_timeout 1 s, no retry)
        await asyncio.to_thread(new.lead, "controller B", at=2.0, wait=1.0)
        with pytest.raises(NotLeaderError, match="no longer the leader"):
            await asyncio.wait_for(stopping, 30)
        assert inner.alive(info)  # the new leader's now: the old one sends no SIGKILL
        assert len(lost) == 1 and "controller B" in lost[0]
        refused = [e.action for e in watcher.list_audit().items if e.target == "replica:llm/0"]
        assert refused == ["replica.stop.kill.refused"]
    finally:
        await inner.stop(info, 0.0)
    assert not inner.alive(info)
