"""Host actions fenced like store writes: a controller that no longer leads its store does not
start, stop, signal or sweep processes.

:class:`FencedBackend` wraps the :class:`~vigil.backends.ProcessBackend` the controller
(:class:`vigil.daemon.Controller`) hands to its replica runners and to
:func:`vigil.daemon._replica_setup.build_runners`. The store's fence
(:mod:`vigil.store._fence`) refuses a write of an old leader, but a host action is no write: a
restart whose action record was written while the controller still led, then slept its backoff,
started the process after a standby had taken over (two copies of a replica, one of them
unsupervised by the leader). So each start, signal or sweep runs inside the store's
:meth:`~vigil.store.SqlStore.holding_lead` block (``hold``): the fence's check, ``FENCE_LOCK``
taken shared and the epoch read, in a transaction left open until the action returned. A new
leader's takeover takes that lock exclusive, so it waits for the action in flight (and retries
after its wait) as for a write in flight: an action either runs wholly before a takeover
commits, or is refused. One round trip before the action and a commit after it (figures in
docs/benchmarks.md, "Fencing host actions"); nothing to hold for a store that never led, such
as SQLite. When the store is led by another controller the action is refused:
:class:`~vigil.errors.NotLeaderError` is raised (the runner logs it and waits, as for a refused
write), the refusal is written to the audit trail (the one write an old leader still makes,
unfenced: the new leader's trail shows what was held back), and ``on_lost`` tells the
controller, which stops and leaves the replicas to the new leader.

A store out of reach cannot say who leads: its :class:`~vigil.errors.StoreError` propagates and
the action is held back as a write would be (the runner retries; at shutdown with ``on_exit:
stop`` the replicas are left running). Acting anyway would undo the fence in the very case it is
for, a leader cut off from the database while a standby takes over.

A stop is held through each of its signals, not through the grace between them: the SIGTERM
(with the SIGCONT that wakes a stopped process) in one hold, and, should the grace run out, the
SIGKILL in another, checked afresh (``stop(send=...)``, :data:`vigil.backends.Signaller`). At
shutdown every replica stops at once, so holding through the grace would take a pooled
connection per replica for seconds and starve the store's pool; a takeover during the grace is
not held back, and the old leader's SIGKILL is then refused (the new leader has adopted the
replica, which is shutting down). What the local backend signals after the group's leader is
gone (its leftover workers, one by one) is not held.

What it does not close: the lock lives as long as its connection. A connection cut during the
action (a network cut, the server ending the session) lets a takeover in before the action
returned; the commit then fails, which is logged, and the new leader adopts or sweeps what the
action left.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

from vigil.backends import ProcessBackend, ProcessInfo, ProcessSpec, Signaller
from vigil.errors import NotLeaderError, StoreError
from vigil.model import ReplicaId
from vigil.store import Store

log = logging.getLogger(__name__)

LEADER_META = "leader"
"""The store's ``meta`` row naming the leader (``vigil.store._fence.LEADER_KEY``): shown in
the refusal so the reader knows whom to ask."""


class FencedBackend:
    """A :class:`~vigil.backends.ProcessBackend` that acts on hosts only inside ``hold``.

    ``hold(what)`` is :meth:`vigil.store.SqlStore.holding_lead` (None: nothing is held, every
    action runs, as for a store that never led).
    """

    def __init__(
        self,
        inner: ProcessBackend,
        *,
        store: Store,
        hold: Callable[[str], AbstractContextManager[object]] | None,
        clock: Callable[[], float],
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self._store = store
        self._hold = hold
        self._clock = clock
        self._on_lost = on_lost

    def _enter(self, action: str, target: str) -> AbstractContextManager[object] | str:
        """The entered hold while this controller leads its store; else why ``action`` is
        refused, written to the audit trail (blocking: a round trip, and a write if refused)."""
        if self._hold is None:
            return nullcontext()
        hold = self._hold(f"{action} of {target}")
        try:
            hold.__enter__()
        except NotLeaderError:
            return self._refusal(action, target)
        return hold

    @staticmethod
    def _leave(hold: AbstractContextManager[object], action: str, target: str) -> None:
        """End the hold (commit its empty transaction; blocking). The action is done whatever
        the commit says: a failed commit is logged, not raised."""
        try:
            hold.__exit__(None, None, None)
        except StoreError as exc:
            log.warning(
                "%s of %s was done, but the store's fence was not held to its end (a "
                "takeover may have landed meanwhile; the new leader adopts or sweeps it): %s",
                action,
                target,
                exc,
            )

    def _refusal(self, action: str, target: str) -> str:
        """Why ``action`` is refused, written to the audit trail."""
        leader = self._store.get_meta(LEADER_META) or "nobody"
        message = (
            f"this controller is no longer the leader (the store is led by {leader}): "
            f"{action} of {target} refused; the new leader acts on the fleet"
        )
        try:
            self._store.append_audit(
                at=self._clock(),
                actor="vigil",
                action=f"{action}.refused",
                target=target,
                reason="this controller lost the lead of the store",
                result="refused: not the leader",
                detail={"leader": leader},
                fenced=False,
            )
        except StoreError as exc:  # the database is out of reach: the log line stays
            log.error("the refusal of %s of %s is not in the audit trail: %s", action, target, exc)
        return message

    def _refuse(self, message: str) -> NotLeaderError:
        """Log the refusal and tell the controller (on the caller's thread: the loop's)."""
        log.error("%s", message)
        if self._on_lost is not None:
            self._on_lost(message)
        return NotLeaderError(message)

    def _held(self, action: str, target: str) -> AbstractContextManager[object]:
        hold = self._enter(action, target)
        if isinstance(hold, str):
            raise self._refuse(hold)
        return hold

    async def _aheld(self, action: str, target: str) -> AbstractContextManager[object]:
        hold = await asyncio.to_thread(self._enter, action, target)
        if isinstance(hold, str):
            raise self._refuse(hold)
        return hold

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        action, target = "replica.start", f"replica:{spec.replica}"
        hold = await self._aheld(action, target)
        try:
            return await self.inner.start(spec)
        finally:
            await asyncio.to_thread(self._leave, hold, action, target)

    async def wait(self, info: ProcessInfo) -> int | None:
        return await self.inner.wait(info)

    async def stop(
        self, info: ProcessInfo, grace: float, *, send: Signaller | None = None
    ) -> int | None:
        # held through each signal, not through the grace between them: at shutdown every
        # replica stops at once, and a pooled connection held per stop would starve the pool
        target = f"replica:{info.replica}"

        async def held(proc: ProcessInfo, signums: Sequence[int]) -> None:
            action = "replica.stop" if signal.SIGKILL not in signums else "replica.stop.kill"
            hold = await self._aheld(action, target)
            try:
                if send is not None:
                    await send(proc, signums)
                else:
                    for signum in signums:
                        self.inner.kill(proc, signum)
            finally:
                await asyncio.to_thread(self._leave, hold, action, target)

        return await self.inner.stop(info, grace, send=held)

    def kill(self, info: ProcessInfo, signum: int) -> None:
        action, target = "replica.kill", f"replica:{info.replica}"
        hold = self._held(action, target)
        try:
            self.inner.kill(info, signum)
        finally:
            self._leave(hold, action, target)

    def alive(self, info: ProcessInfo) -> bool:
        return self.inner.alive(info)

    def adopt(self, replica: ReplicaId, pid: int, create_time: float) -> ProcessInfo | None:
        return self.inner.adopt(replica, pid, create_time)

    def sweep(self, keep: Sequence[ProcessInfo]) -> list[int]:
        hold = self._held("replica.sweep", "host")
        try:
            return self.inner.sweep(keep)
        finally:
            self._leave(hold, "replica.sweep", "host")

    def close(self) -> None:
        self.inner.close()

    def rotate_logs(self, spec: ProcessSpec) -> bool:
        return self.inner.rotate_logs(spec)
