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

A hold lives as long as its connection. A connection cut during the action (a network cut, the
server ending the session) frees the lock, so a takeover may land before the action returned;
the hold's commit then fails. The controller proves its lead again with a fresh check: still the
leader (nobody took over), the action stands, audited (``<action>.unproven``, result ``kept: the
lead was proven after it``). Otherwise a start is undone (its process, not yet recorded and
maybe started after the new leader's sweep, is killed) and a signal or a sweep is reported done
without proof; either is audited (``undone``/``done, unproven``: ``another controller leads``
or ``the store is out of reach``) and raised: :class:`~vigil.errors.NotLeaderError` (the
controller stops, as at a refusal) or :class:`~vigil.errors.StoreError` (the runner retries
through the fence once the store answers).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from vigil.backends import ProcessBackend, ProcessInfo, ProcessSpec, Signaller
from vigil.errors import NotLeaderError, StoreError
from vigil.model import ReplicaId
from vigil.store import Store

log = logging.getLogger(__name__)

LEADER_META = "leader"
"""The store's ``meta`` row naming the leader (``vigil.store._fence.LEADER_KEY``): shown in
the refusal so the reader knows whom to ask."""


@dataclass(frozen=True, slots=True)
class Unproven:
    """A host action whose hold's connection was cut before its commit, and whose controller
    could not prove it still leads after it."""

    cut: str
    """The failed commit."""
    leader: str | None
    """The ``leader`` row when another controller leads; None: the store is out of reach."""
    unreachable: str = ""
    """Why the store did not answer the check after the action (``leader`` None)."""


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

    def _leave(
        self, hold: AbstractContextManager[object], action: str, target: str
    ) -> Unproven | None:
        """End the hold (commit its empty transaction; blocking). None when it held to its end,
        or when its connection was cut meanwhile (the commit failed: the lock went with the
        session, a takeover may have landed) but a fresh check proves this controller still
        leads (audited); else what the caller undoes what it can of, then raises
        (:meth:`_unproven`)."""
        try:
            hold.__exit__(None, None, None)
        except StoreError as exc:
            cut = str(exc)
        else:
            return None
        assert self._hold is not None  # a nullcontext never fails to commit
        try:
            with self._hold(f"proving the lead after {action} of {target}"):
                pass
        except NotLeaderError:
            return Unproven(cut, self._leader())
        except StoreError as exc:
            return Unproven(cut, None, str(exc))
        log.warning(
            "the store's connection was cut while %s of %s held the fence (%s); this controller "
            "still leads (checked again after it): the action stands",
            action,
            target,
            cut,
        )
        self._audit(action, target, "kept: the lead was proven after it", {"cut": cut}, True)
        return None

    def _unproven(self, lost: Unproven, action: str, target: str, *, undone: bool) -> str:
        """Audit an action whose hold was cut and whose lead cannot be proven (blocking); the
        message of the error to raise (:meth:`_fail`)."""
        done = "undone" if undone else "done, unproven"
        if lost.leader is not None:
            result = f"{done}: another controller leads"
            message = (
                f"this controller is no longer the leader (the store is led by {lost.leader}): "
                f"the store's connection was cut while {action} of {target} held the fence, "
                f"and the action was {done}; the new leader acts on the fleet"
            )
        else:
            result = f"{done}: the store is out of reach"
            message = (
                f"the store's connection was cut while {action} of {target} held the fence, and "
                f"the store is out of reach, so this controller cannot prove it still leads: "
                f"the action was {done}; no host action runs until the store answers "
                f"({lost.unreachable})"
            )
        detail = {"cut": lost.cut, "leader": lost.leader or "unknown"}
        self._audit(action, target, result, detail, False)
        return message

    def _fail(self, lost: Unproven, message: str) -> StoreError:
        """Log the unproven action and, when another controller leads, tell the controller (on
        the caller's thread: the loop's); the error to raise."""
        if lost.leader is None:
            log.error("%s", message)
            return StoreError(message)
        return self._refuse(message)

    def _leader(self) -> str:
        try:
            return self._store.get_meta(LEADER_META) or "nobody"
        except StoreError:
            return "unknown (the store did not answer)"

    def _audit(
        self, action: str, target: str, result: str, detail: dict[str, str], fenced: bool
    ) -> None:
        reason = "the store's connection was cut while the action held the fence"
        what = f"{action} of {target} ({result})"
        self._append(f"{action}.unproven", target, reason, result, detail, fenced, what)

    def _append(
        self,
        action: str,
        target: str,
        reason: str,
        result: str,
        detail: dict[str, str],
        fenced: bool,
        what: str,
    ) -> None:
        """One entry of the audit trail; when the database is out of reach, a log line naming
        ``what`` stays instead."""
        try:
            self._store.append_audit(
                at=self._clock(),
                actor="vigil",
                action=action,
                target=target,
                reason=reason,
                result=result,
                detail=detail,
                fenced=fenced,
            )
        except StoreError as exc:
            log.error("%s is not in the audit trail: %s", what, exc)

    def _refusal(self, action: str, target: str) -> str:
        """Why ``action`` is refused, written to the audit trail."""
        leader = self._leader()
        message = (
            f"this controller is no longer the leader (the store is led by {leader}): "
            f"{action} of {target} refused; the new leader acts on the fleet"
        )
        self._append(
            f"{action}.refused",
            target,
            "this controller lost the lead of the store",
            "refused: not the leader",
            {"leader": leader},
            False,
            f"the refusal of {action} of {target}",
        )
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
            info = await self.inner.start(spec)
        except BaseException:
            await asyncio.to_thread(self._leave, hold, action, target)
            raise
        lost = await asyncio.to_thread(self._leave, hold, action, target)
        if lost is None:
            return info
        # unrecorded, and maybe started after the new leader's sweep: a second copy
        self.inner.kill(info, signal.SIGKILL)
        message = await asyncio.to_thread(self._unproven, lost, action, target, undone=True)
        raise self._fail(lost, message)

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
            except BaseException:
                await asyncio.to_thread(self._leave, hold, action, target)
                raise
            lost = await asyncio.to_thread(self._leave, hold, action, target)
            if lost is not None:
                message = await asyncio.to_thread(
                    self._unproven, lost, action, target, undone=False
                )
                raise self._fail(lost, message)

        return await self.inner.stop(info, grace, send=held)

    def kill(self, info: ProcessInfo, signum: int) -> None:
        action, target = "replica.kill", f"replica:{info.replica}"
        hold = self._held(action, target)
        try:
            self.inner.kill(info, signum)
        except BaseException:
            self._leave(hold, action, target)
            raise
        self._settle(self._leave(hold, action, target), action, target)

    def alive(self, info: ProcessInfo) -> bool:
        return self.inner.alive(info)

    def adopt(self, replica: ReplicaId, pid: int, create_time: float) -> ProcessInfo | None:
        return self.inner.adopt(replica, pid, create_time)

    def sweep(self, keep: Sequence[ProcessInfo]) -> list[int]:
        hold = self._held("replica.sweep", "host")
        try:
            swept = self.inner.sweep(keep)
        except BaseException:
            self._leave(hold, "replica.sweep", "host")
            raise
        self._settle(self._leave(hold, "replica.sweep", "host"), "replica.sweep", "host")
        return swept

    def _settle(self, lost: Unproven | None, action: str, target: str) -> None:
        """Raise once a signal's or a sweep's lead cannot be proven (done: nothing to undo)."""
        if lost is not None:
            raise self._fail(lost, self._unproven(lost, action, target, undone=False))

    def close(self) -> None:
        self.inner.close()

    def rotate_logs(self, spec: ProcessSpec) -> bool:
        return self.inner.rotate_logs(spec)
