"""A host action whose store connection is cut while it holds the fence, on a real PostgreSQL.

The old leader's start is held at a gate inside a real :class:`~vigil.backends.local.LocalBackend`
(the fence's check is done, its transaction open); the test ends that transaction's session with
``pg_terminate_backend``, which frees ``FENCE_LOCK``, so a standby may take the lead before the
start returns. After the action the controller must prove it still leads (its hold's commit
failed); it cannot once another leads, so the process it just started (unrecorded, and maybe
after the new leader's sweep) is stopped again, the audit trail says so, the controller is told
to stop (``on_lost``) and the start raises :class:`~vigil.errors.NotLeaderError`. When nobody
took over, the lead is proven by a fresh check and the start stands (audited as well). A signal
cut the same way cannot be undone: it is audited as done without proof and raised. A store that
cannot answer the check after the cut undoes the start and raises a plain StoreError (the
runner retries; the controller is not stopped).

On main all four fail: the failed commit was logged as a warning and the action stood, nothing
audited, the controller not told.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from contextlib import AbstractContextManager

import pytest

from vigil.backends import ProcessInfo, ProcessSpec
from vigil.backends.local import LocalBackend
from vigil.errors import NotLeaderError, StoreError
from vigil.model import ReplicaId
from vigil.remediation import FencedBackend
from vigil.store import SqlStore


class GatedStart(LocalBackend):
    """A real local backend whose start waits at a gate first (the fence is held by then)."""

    def __init__(self, instance: str) -> None:
        super().__init__(instance)
        self.at_gate = asyncio.Event()
        self.gate = asyncio.Event()
        self.started: list[ProcessInfo] = []

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        self.at_gate.set()
        await self.gate.wait()
        info = await super().start(spec)
        self.started.append(info)
        return info


def cut_the_hold(watcher: SqlStore) -> int:
    """End the session holding ``FENCE_LOCK`` shared (the hold's); how many were ended."""
    query = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
        "WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted"
    )
    with watcher._db.engine.connect() as conn:
        return int(conn.exec_driver_sql(query).scalar() or 0)


async def held_start(
    old: SqlStore, lost: list[str]
) -> tuple[GatedStart, FencedBackend, asyncio.Task[ProcessInfo]]:
    inner = GatedStart(f"fence-{uuid.uuid4().hex[:8]}")
    hosts = FencedBackend(
        inner, store=old, hold=old.holding_lead, clock=lambda: 5.0, on_lost=lost.append
    )
    spec = ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"])
    starting = asyncio.create_task(hosts.start(spec))
    await asyncio.wait_for(inner.at_gate.wait(), 30)
    return inner, hosts, starting


async def test_a_start_whose_hold_is_cut_by_a_takeover_is_undone_audited_and_refused(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    old, new, watcher = stores
    lost: list[str] = []
    inner, _, starting = await held_start(old, lost)
    try:
        assert await asyncio.to_thread(cut_the_hold, watcher) == 1
        # the lock went with the session (its end may lag the call a little: up to 10 s)
        await asyncio.to_thread(new.lead, "controller B", at=2.0, wait=10.0)
        inner.gate.set()
        with pytest.raises(NotLeaderError, match="controller B"):
            await asyncio.wait_for(starting, 60)
        assert len(inner.started) == 1
        assert not inner.alive(inner.started[0])  # stopped again: no second copy
        assert len(lost) == 1 and "controller B" in lost[0]
        trail = [(e.action, e.result) for e in watcher.list_audit().items]
        assert trail == [("replica.start.unproven", "undone: another controller leads")]
    finally:
        inner.gate.set()
        for info in inner.started:
            await inner.stop(info, 0.0)


async def test_a_start_whose_hold_is_cut_without_a_takeover_stands_once_the_lead_is_proven(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    old, _, watcher = stores
    lost: list[str] = []
    inner, _, starting = await held_start(old, lost)
    try:
        assert await asyncio.to_thread(cut_the_hold, watcher) == 1
        inner.gate.set()
        info = await asyncio.wait_for(starting, 60)
        assert inner.alive(info) and lost == [] and old.leads()
        trail = [(e.action, e.result) for e in watcher.list_audit().items]
        assert trail == [("replica.start.unproven", "kept: the lead was proven after it")]
    finally:
        inner.gate.set()
        for info in inner.started:
            await inner.stop(info, 0.0)


class CutDuringKill(LocalBackend):
    """A real local backend whose ``kill``, run inside the hold, first has the hold's session
    ended and a standby take the lead (the signal itself is sent after)."""

    def __init__(self, instance: str, watcher: SqlStore, new: SqlStore) -> None:
        super().__init__(instance)
        self.watcher, self.new = watcher, new
        self.cut = 0

    def kill(self, info: ProcessInfo, signum: int) -> None:
        if signum == signal.SIGUSR1 and not self.cut:
            self.cut = cut_the_hold(self.watcher)
            self.new.lead("controller B", at=2.0, wait=10.0)
        super().kill(info, signum)


async def test_a_signal_whose_hold_is_cut_by_a_takeover_is_audited_as_unproven_and_raised(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    # on main: a warning in the log, nothing audited, the controller never told
    old, new, watcher = stores
    lost: list[str] = []
    inner = CutDuringKill(f"fence-{uuid.uuid4().hex[:8]}", watcher, new)
    hosts = FencedBackend(
        inner, store=old, hold=old.holding_lead, clock=lambda: 5.0, on_lost=lost.append
    )
    spec = ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"])
    info = await inner.start(spec)
    try:
        with pytest.raises(NotLeaderError, match="controller B"):
            hosts.kill(info, signal.SIGUSR1)
        assert inner.cut == 1
        assert len(lost) == 1 and "cut" in lost[0]
        trail = [(e.action, e.result) for e in watcher.list_audit().items]
        assert trail == [("replica.kill.unproven", "done, unproven: another controller leads")]
    finally:
        await inner.stop(info, 0.0)


async def test_a_start_whose_hold_is_cut_while_the_store_cannot_answer_is_undone_and_retried(
    stores: tuple[SqlStore, SqlStore, SqlStore],
) -> None:
    # the store out of reach after the cut is stood for by the check after it failing (the
    # server itself stays up for the other sessions); the cut is real
    old, _, watcher = stores
    lost: list[str] = []

    def hold(what: str) -> AbstractContextManager[object]:
        if what.startswith("proving the lead"):
            raise StoreError(f"{what} failed: connection refused")
        return old.holding_lead(what)

    inner = GatedStart(f"fence-{uuid.uuid4().hex[:8]}")
    hosts = FencedBackend(inner, store=old, hold=hold, clock=lambda: 5.0, on_lost=lost.append)
    spec = ProcessSpec(replica=ReplicaId("llm/0"), argv=["sleep", "60"])
    starting = asyncio.create_task(hosts.start(spec))
    try:
        await asyncio.wait_for(inner.at_gate.wait(), 30)
        assert await asyncio.to_thread(cut_the_hold, watcher) == 1
        inner.gate.set()
        with pytest.raises(StoreError, match="cannot prove it still leads") as caught:
            await asyncio.wait_for(starting, 60)
        assert not isinstance(caught.value, NotLeaderError)  # the runner retries, no stop
        assert not inner.alive(inner.started[0]) and lost == []
        trail = [(e.action, e.result) for e in watcher.list_audit().items]
        assert trail == [("replica.start.unproven", "undone: the store is out of reach")]
    finally:
        inner.gate.set()
        for info in inner.started:
            await inner.stop(info, 0.0)
