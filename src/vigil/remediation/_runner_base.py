"""The state of one replica's supervision and the helpers that change it: the base of
:class:`vigil.remediation._supervisor.ReplicaRunner`, which adds the run loop and the reactions.

Here: construction (the restart budget, the guards' permits), the public surface the daemon
calls (:meth:`RunnerBase.command`, :meth:`RunnerBase.close`), and the small steps every reaction
uses: writing the replica's row, raising findings, stopping the process, giving up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from vigil.backends import ProcessBackend, ProcessInfo
from vigil.bus import EventBus
from vigil.errors import BackendError, StoreError
from vigil.model import (
    ActionRecord,
    Finding,
    FindingKind,
    Health,
    HealthChanged,
    ProbeKind,
    Replica,
    ReplicaState,
    Severity,
)
from vigil.remediation._actions import ActionLog
from vigil.remediation._gate import HealingGate, Permits, audit_detail
from vigil.remediation._guards import RestartBudget
from vigil.remediation._incidents import IncidentBook
from vigil.remediation._parts import Command, ProbeDriver, ProbeFactory, held_state
from vigil.remediation._plan import ReplicaPlan
from vigil.remediation._policy import Decision
from vigil.settings import RemediationSettings
from vigil.store import Store

log = logging.getLogger("vigil.remediation._supervisor")


class RunnerBase:
    """The state of one replica's supervision and the helpers that change it."""

    def __init__(
        self,
        plan: ReplicaPlan,
        *,
        backend: ProcessBackend,
        bus: EventBus,
        store: Store,
        incidents: IncidentBook,
        actions: ActionLog,
        probes: ProbeFactory,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        adopt: ProcessInfo | None = None,
        previous: Replica | None = None,
        on_change: Callable[[Replica], None] | None = None,
        gate: HealingGate | None = None,
    ) -> None:
        self.plan = plan
        self._backend = backend
        self._bus = bus
        self._store = store
        self._incidents = incidents
        self._actions = actions
        self._probe_factory = probes
        self._clock = clock
        self._sleep = sleep
        self._adopt = adopt
        self._budget = RestartBudget(plan.service.restart)
        # the guards on automatic restarts: shared by the service's runners (a runner alone
        # gets a gate of its own with the default guards)
        gate = gate or HealingGate(RemediationSettings(), [plan.service], clock=clock)
        self._permits = Permits(gate, plan, actions)
        self._held_back: tuple[HealthChanged, Decision] | None = None  # a restart not allowed yet
        self._allowed: Decision | None = None  # the guards' yes to the restart under way
        self._on_change = on_change
        held = previous is not None and previous.held
        self._want_running = not held
        self._commands: asyncio.Queue[tuple[Command, ActionRecord]] = asyncio.Queue()
        self._closing = False
        self._task: asyncio.Task[Any] | None = None
        self._info: ProcessInfo | None = None
        self._stopping: ProcessInfo | None = None  # a stop under way: close() finishes it
        self.subject = f"replica:{plan.id}"
        self.replica = Replica(
            id=plan.id,
            service=plan.service.name,
            index=plan.index,
            node=plan.node,
            port=plan.port,
            restarts=previous.restarts if previous else 0,
            log_path=plan.spec.log_path,
            held=held,
            state=held_state(previous, adopt) if previous and held else ReplicaState.PENDING,
        )

    # --- public -----------------------------------------------------------------------------

    @property
    def info(self) -> ProcessInfo | None:
        return self._info

    def command(self, cmd: Command, *, actor: str, reason: str) -> ActionRecord:
        """Queue an operator command; returns the action record (finished by the run loop)."""
        action = self._actions.begin(cmd, self.subject, actor=actor, reason=reason)
        self._commands.put_nowait((cmd, action))
        return action

    async def close(self, *, stop: bool) -> None:
        """End supervision; stop the process when ``stop`` (else leave it for adoption).

        Supervision ends first, so the stop is never mistaken for a crash and restarted."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._permits.release()  # once it can no longer act: the slot is no use to it now
        while not self._commands.empty():  # queued, never carried out: ended and audited as such
            _, action = self._commands.get_nowait()
            self._abandon(action, "not carried out: supervision ended")
        # a stop that supervision ending cut short (its grace wait cancelled) is finished too
        info = self._info or self._stopping
        if stop and info is not None:
            self._info = self._stopping = None
            await self._backend.stop(info, self.plan.service.stop_grace)
            self._set_gone(ReplicaState.STOPPED)

    def _hold_for(self) -> float:
        """The longest a restart can keep the replica unavailable (its blast-radius slot lasts
        that long unless the replica is ready sooner): the backoff, the stop and the start."""
        svc = self.plan.service
        return self._budget.next_delay() + svc.stop_grace + svc.start_timeout

    def _give_up(self, reason: str, decision: Decision | None = None) -> None:
        """Stop restarting until an operator command; escalate to a person (audited, with the
        guards' refusal when they refused)."""
        self._want_running = False
        self._set(held=True)
        self._permits.release()
        audit = audit_detail(decision) if decision is not None else None
        self._actions.escalate(self.subject, reason, audit=audit)

    def _start_deadline(self) -> float | None:
        """Seconds left for a starting process to become live; None once it has been live."""
        if self.plan.service.liveness is None or self.replica.live == Health.HEALTHY:
            return None
        started = self.replica.started_at or self._clock()
        return max(0.0, started + self.plan.service.start_timeout - self._clock())

    def _became_ready(self) -> None:
        self._set(ready=Health.HEALTHY)
        self._permits.ready()
        if self.plan.service.liveness is None:  # ready is all there is to know of it
            self._permits.live()
        self._incidents.recovered(self.subject, self._clock(), "ready again")

    # --- helpers -----------------------------------------------------------------------------

    async def _stop(self, info: ProcessInfo) -> int | None:
        """Stop ``info``'s process group. Cancelled meanwhile (supervision ended during the
        grace period), the stop stays recorded for :meth:`close` to finish."""
        self._stopping = info
        try:
            rc = await self._backend.stop(info, self.plan.service.stop_grace)
        except BackendError:
            self._stopping = None  # cannot be stopped: not tried again at close
            raise
        self._stopping = None
        return rc

    def _abandon(self, action: ActionRecord, detail: str) -> None:
        """End an action that supervision ending cut short: failed, with ``detail``, audited."""
        try:
            self._actions.end(action, ok=False, detail=detail)
        except StoreError as exc:
            log.error("%s: action %d not stored as ended: %s", self.subject, action.id, exc)

    def _start_probes(self) -> list[ProbeDriver]:
        drivers = []
        for kind, probe in (
            (ProbeKind.LIVENESS, self.plan.service.liveness),
            (ProbeKind.READINESS, self.plan.service.readiness),
        ):
            if probe is not None:
                driver = self._probe_factory(self.plan, kind, probe)
                driver.start()
                drivers.append(driver)
        return drivers

    def _finding(
        self,
        kind: FindingKind,
        summary: str,
        severity: Severity = Severity.WARNING,
        **evidence: object,
    ) -> Finding:
        return Finding(
            kind=kind,
            subject=self.subject,
            at=self._clock(),
            summary=summary,
            severity=severity,
            evidence={"replica": self.plan.id, **evidence},
        )

    def _set(self, **changes: object) -> None:
        self.replica = dataclasses.replace(self.replica, **changes)  # type: ignore[arg-type]
        if self._on_change is not None:
            self._on_change(self.replica)
        try:
            self._store.upsert_replica(self.replica)
        except StoreError as exc:  # the whole row is written again at the next change
            log.error("%s: state %s not stored: %s", self.plan.id, self.replica.state.value, exc)

    def _set_gone(self, state: ReplicaState, **changes: object) -> None:
        """The process is gone: the state it ended in; its pid and health are forgotten."""
        self._set(state=state, pid=None, live=Health.UNKNOWN, ready=Health.UNKNOWN, **changes)


def liveness_what(event: HealthChanged) -> str:
    return "hung (liveness probe timed out)" if event.timed_out else "liveness failing"
