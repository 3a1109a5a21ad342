"""Host actions fenced like store writes: a controller that no longer leads its store does not
start, stop, signal or sweep processes.

:class:`FencedBackend` wraps the :class:`~vigil.backends.ProcessBackend` the controller
(:class:`vigil.daemon.Controller`) hands to its replica runners and to
:func:`vigil.daemon._replica_setup.build_runners`. The store's fence
(:mod:`vigil.store._fence`) refuses a write of an old leader, but a host action is no write: a
restart whose action record was written while the controller still led, then slept its backoff,
started the process after a standby had taken over (two copies of a replica, one of them
unsupervised by the leader). So before each host action the wrapper asks whether the store's
leadership epoch is still this controller's (``leads``: :meth:`vigil.store.SqlStore.leads`, one
read; nothing to ask for a store that never led, such as SQLite). When it is not, the action is
refused: :class:`~vigil.errors.NotLeaderError` is raised (the runner logs it and waits, as for
a refused write), the refusal is written to the audit trail (the one write an old leader still
makes, unfenced: the new leader's trail shows what was held back), and ``on_lost`` tells the
controller, which stops and leaves the replicas to the new leader.

A store out of reach cannot say who leads: its :class:`~vigil.errors.StoreError` propagates and
the action is held back as a write would be (the runner retries; at shutdown with ``on_exit:
stop`` the replicas are left running). Acting anyway would undo the fence in the very case it is
for, a leader cut off from the database while a standby takes over.

What it does not close: a takeover that lands between the check and the action (a round trip
to the database) is not seen; the new leader adopts or sweeps what that action left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from vigil.backends import ProcessBackend, ProcessInfo, ProcessSpec
from vigil.errors import NotLeaderError, StoreError
from vigil.model import ReplicaId
from vigil.store import Store

log = logging.getLogger(__name__)

LEADER_META = "leader"
"""The store's ``meta`` row naming the leader (``vigil.store._fence.LEADER_KEY``): shown in
the refusal so the reader knows whom to ask."""


class FencedBackend:
    """A :class:`~vigil.backends.ProcessBackend` that acts on hosts only while ``leads()``."""

    def __init__(
        self,
        inner: ProcessBackend,
        *,
        store: Store,
        leads: Callable[[], bool],
        clock: Callable[[], float],
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self._store = store
        self._leads = leads
        self._clock = clock
        self._on_lost = on_lost

    def _refusal(self, action: str, target: str) -> str | None:
        """None while this controller leads its store; else why ``action`` is refused, written
        to the audit trail (a blocking read, and a write when refused)."""
        if self._leads():
            return None
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

    def _allowed(self, action: str, target: str) -> None:
        message = self._refusal(action, target)
        if message is not None:
            raise self._refuse(message)

    async def _check(self, action: str, target: str) -> None:
        message = await asyncio.to_thread(self._refusal, action, target)
        if message is not None:
            raise self._refuse(message)

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        await self._check("replica.start", f"replica:{spec.replica}")
        return await self.inner.start(spec)

    async def wait(self, info: ProcessInfo) -> int | None:
        return await self.inner.wait(info)

    async def stop(self, info: ProcessInfo, grace: float) -> int | None:
        await self._check("replica.stop", f"replica:{info.replica}")
        return await self.inner.stop(info, grace)

    def kill(self, info: ProcessInfo, signum: int) -> None:
        self._allowed("replica.kill", f"replica:{info.replica}")
        self.inner.kill(info, signum)

    def alive(self, info: ProcessInfo) -> bool:
        return self.inner.alive(info)

    def adopt(self, replica: ReplicaId, pid: int, create_time: float) -> ProcessInfo | None:
        return self.inner.adopt(replica, pid, create_time)

    def sweep(self, keep: Sequence[ProcessInfo]) -> list[int]:
        self._allowed("replica.sweep", "host")
        return self.inner.sweep(keep)

    def close(self) -> None:
        self.inner.close()

    def rotate_logs(self, spec: ProcessSpec) -> bool:
        return self.inner.rotate_logs(spec)
