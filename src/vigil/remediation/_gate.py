"""The guards' state and their audit trail: the adapter around the pure core
(:func:`vigil.remediation._policy.decide`).

:class:`HealingGate` is shared by every replica runner of a controller (built by
:class:`vigil.daemon.Controller`; a runner built alone makes one of its own): it knows each
service's effective guards, which replicas Vigil is restarting (a slot each, freed when the
replica is ready again, when Vigil gives up on it, when an operator takes over, or when it
expires) and when the recent actions were allowed, and it wakes the runners waiting for a slot.
:class:`Permits` is one runner's side of it: it asks, counts the restarts that did not make the
replica live, and records every decision that holds an action back as an audited action
(``restart.deferred``, ``restart.suppressed``, ``restart.dry_run``), once per change of verdict.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence

from vigil.errors import StoreError
from vigil.model import ActionRecord
from vigil.remediation._actions import ActionLog
from vigil.remediation._ledger import NeverLive, NeverLiveLedger
from vigil.remediation._plan import ReplicaPlan
from vigil.remediation._policy import Ask, Decision, ServiceLoad, Verdict, decide
from vigil.settings import (
    EffectiveRemediation,
    RemediationSettings,
    Service,
    effective_remediation,
)

log = logging.getLogger(__name__)

AdminLookup = Callable[[str], "str | None"]
"""A replica id to its balancer admin state (None when it has no balancer)."""


class HealingGate:
    def __init__(
        self,
        settings: RemediationSettings,
        services: Sequence[Service],
        *,
        clock: Callable[[], float],
        admin_state: AdminLookup | None = None,
        ledger: NeverLiveLedger | None = None,
    ) -> None:
        self._clock = clock
        self._ledger = ledger  # None: the never-live counts live in memory only
        self._never_live: dict[str, NeverLive] = {}
        self._admin_state = admin_state or (lambda _replica: None)
        self._guards = {s.name: effective_remediation(settings, s.remediation) for s in services}
        self._replicas = {s.name: s.replicas for s in services}
        self._slots: dict[str, dict[str, float]] = {s.name: {} for s in services}
        self._recent: dict[str, deque[float]] = {s.name: deque() for s in services}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {s.name: [] for s in services}

    def guards(self, service: str) -> EffectiveRemediation:
        return self._guards[service]

    def ask(self, replica: str, service: str, *, never_live: int, hold_for: float) -> Decision:
        """Decide on an automatic restart of ``replica``; an allowed one takes a slot of the
        service's blast radius for at most ``hold_for`` seconds and counts against its rate."""
        now = self._clock()
        guards = self._guards[service]
        recent = self._recent[service]
        while recent and recent[0] <= now - guards.rate_window:
            recent.popleft()
        ask = Ask(
            replica=replica,
            action="restart",
            replicas=self._replicas[service],
            never_live_restarts=never_live,
            admin_state=self._admin_state(replica),
        )
        decision = decide(ask, guards, ServiceLoad(dict(self._slots[service]), recent), now)
        if decision.allowed:
            self._slots[service][replica] = now + hold_for
            recent.append(now)
        return decision

    def release(self, service: str, replica: str) -> None:
        """``replica`` is no longer being restarted by Vigil: its slot goes to the next one."""
        if self._slots[service].pop(replica, None) is None:
            return
        waiters, self._waiters[service] = self._waiters[service], []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def changed(self, service: str) -> asyncio.Future[None]:
        """A future done at the next release of a slot of ``service``."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = [w for w in self._waiters[service] if not w.done()]  # drop cancelled ones
        waiters.append(waiter)
        self._waiters[service] = waiters
        return waiter

    def in_flight(self, service: str) -> list[str]:
        """The replicas of ``service`` Vigil is restarting now (for tests and status)."""
        return sorted(self.slots(service))

    def slots(self, service: str) -> dict[str, float]:
        """The blast-radius slots of ``service`` taken now: replica -> when the slot expires."""
        now = self._clock()
        return {r: until for r, until in self._slots[service].items() if until > now}

    def recent(self, service: str) -> list[float]:
        """When the automatic actions on ``service`` within its rate window were allowed."""
        now = self._clock()
        window = self._guards[service].rate_window
        return [t for t in self._recent[service] if now - window < t <= now]

    def services(self) -> list[str]:
        return list(self._guards)

    def never_live(self, replica: str) -> NeverLive:
        """The replica's restarts since it was last live (from the store at first)."""
        found = self._never_live.get(replica)
        if found is None:
            found = self._ledger.get(replica) if self._ledger is not None else NeverLive()
            self._never_live[replica] = found
        return found

    def set_never_live(self, replica: str, value: NeverLive) -> None:
        """Count ``value`` for the replica, in the store too when it changed."""
        if self.never_live(replica) == value:
            return
        self._never_live[replica] = value
        if self._ledger is not None:
            self._ledger.put(replica, value)

    def forget_never_live(self, replica: str) -> None:
        """The replica left the config: its count goes, in the store too."""
        self._never_live.pop(replica, None)
        if self._ledger is not None:
            self._ledger.forget(replica)


class Permits:
    """One replica's side of the gate (see the module docstring)."""

    def __init__(self, gate: HealingGate, plan: ReplicaPlan, actions: ActionLog) -> None:
        self._gate = gate
        self._plan = plan
        self._actions = actions
        self._service = plan.service.name
        self.subject = f"replica:{plan.id}"
        self._noted: tuple[Verdict, str] | None = None

    @property
    def unhelpful(self) -> int:
        """Restarts since the replica was last live (none of which made it live); kept by the
        gate, in the store when it has one, so a restart of the controller does not reset it."""
        return self._gate.never_live(self._plan.id).restarts

    def _count(self, restarts: int, *, escalated: bool = False) -> None:
        self._gate.set_never_live(self._plan.id, NeverLive(restarts, escalated))

    @property
    def guards(self) -> EffectiveRemediation:
        return self._gate.guards(self._service)

    def ask(self, hold_for: float) -> Decision:
        return self._gate.ask(
            self._plan.id, self._service, never_live=self.unhelpful, hold_for=hold_for
        )

    def note(self, decision: Decision, what: str) -> ActionRecord | None:
        """Record a decision that holds the action back, unless it was recorded already (the
        same verdict by the same guard since the last change)."""
        key = (decision.verdict, decision.guard)
        if key == self._noted:
            return None
        log.info("%s: restart %s: %s", self._plan.id, decision.verdict.value, decision.reason)
        try:
            recorded = self._actions.decided(
                f"restart.{decision.verdict.value}",
                self.subject,
                reason=f"{what}; {decision.reason}",
                audit=audit_detail(decision),
            )
        except StoreError as exc:
            # the guard holds all the same (the supervisor's store-error path would restart
            # the replica unguarded); the record is tried again at the next question
            log.error("%s: decision %s not stored: %s", self._plan.id, decision.verdict, exc)
            return None
        self._noted = key
        return recorded

    def restarted(self) -> None:
        self._count(self.unhelpful + 1)
        self._noted = None

    def live(self) -> None:
        """The replica is live again: its restarts helped."""
        self._count(0)
        self._noted = None

    def escalated(self) -> None:
        """The guards refused: kept with the count, so a change of the guards alone can
        release the replica at the next start of the controller."""
        self._count(self.unhelpful, escalated=True)

    def ready(self) -> None:
        """The replica is ready again: no longer unavailable because of Vigil's restart (ready
        is not live: a replica whose liveness fails may pass its readiness probe)."""
        self._gate.release(self._service, self._plan.id)

    def release(self) -> None:
        """Vigil stops acting on the replica (gave up, an operator took over, closed)."""
        self._noted = None
        self._gate.release(self._service, self._plan.id)

    def operator_acted(self) -> None:
        self._count(0)
        self.release()

    def changed(self) -> asyncio.Future[None]:
        return self._gate.changed(self._service)


def audit_detail(decision: Decision) -> dict[str, object]:
    """What the audit entry of a decision carries besides who, what and why."""
    return {
        "decision": decision.verdict.value,
        "guard": decision.guard,
        "guard_reason": decision.reason,
        "dry_run": decision.verdict == Verdict.DRY_RUN,
        "until": decision.until,
    }
