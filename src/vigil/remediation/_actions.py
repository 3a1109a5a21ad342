"""Recording of actions: every action is stored, linked to its incident, audited and published.

:class:`ActionLog` is called by the supervisor (autopilot restarts, escalations) and by the
controller for operator commands from the API or CLI. One place, so nothing acts unaudited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vigil.bus import EventBus
from vigil.model import ActionChanged, ActionRecord, Incident
from vigil.remediation._incidents import IncidentBook
from vigil.store import Store

AUTOPILOT = "vigil"
"""The actor recorded for actions Vigil takes on its own."""


class ActionLog:
    def __init__(
        self, store: Store, bus: EventBus, incidents: IncidentBook, clock: Callable[[], float]
    ) -> None:
        self._store = store
        self._bus = bus
        self._incidents = incidents
        self._clock = clock
        self._audit: dict[int, Mapping[str, object]] = {}  # action id -> extra audit detail

    def begin(
        self,
        kind: str,
        subject: str,
        *,
        actor: str = AUTOPILOT,
        reason: str,
        audit: Mapping[str, object] | None = None,
    ) -> ActionRecord:
        """Record the start of an action on ``subject``; links it to the active incident.
        ``audit`` (the guards' decision) goes into the action's audit entry when it ends."""
        now = self._clock()
        incident = self._incidents.action_started(subject, now)
        action = self._started(kind, subject, actor, reason, now, incident)
        if audit:
            self._audit[action.id] = audit
        return action

    def decided(
        self, kind: str, subject: str, *, reason: str, audit: Mapping[str, object]
    ) -> ActionRecord:
        """Record a guard's decision not to act now (deferred, suppressed, dry-run) as an action
        that ends at once: linked to the active incident, which it leaves as it is (nothing
        was done to remediate it), and audited with the decision."""
        now = self._clock()
        action = self._started(
            kind, subject, AUTOPILOT, reason, now, self._incidents.active(subject)
        )
        self._audit[action.id] = audit
        return self.end(action, ok=True, detail=f"not done: {audit.get('decision')}")

    def _started(
        self,
        kind: str,
        subject: str,
        actor: str,
        reason: str,
        now: float,
        incident: Incident | None,
    ) -> ActionRecord:
        """The action stored as started at ``now``, linked to ``incident``, and published."""
        action = self._store.start_action(
            kind=kind,
            subject=subject,
            actor=actor,
            reason=reason,
            at=now,
            incident_id=incident.id if incident else None,
        )
        self._bus.publish(ActionChanged(at=now, action=action))
        return action

    def end(self, action: ActionRecord, *, ok: bool, detail: str = "") -> ActionRecord:
        """Record how the action went and write its audit entry (who, what, why, when, result)."""
        now = self._clock()
        done = self._store.finish_action(action.id, ok=ok, detail=detail, at=now)
        self._store.append_audit(
            at=now,
            actor=action.actor,
            action=action.kind,
            target=action.subject,
            reason=action.reason,
            result="ok" if ok else f"failed: {detail}",
            detail={
                "action_id": action.id,
                "started_at": action.started_at,
                "finished_at": now,
                "incident_id": action.incident_id,
                "detail": detail,
                **self._audit.pop(action.id, {}),
            },
        )
        self._bus.publish(ActionChanged(at=now, action=done))
        return done

    def escalate(
        self,
        subject: str,
        reason: str,
        *,
        actor: str = AUTOPILOT,
        audit: Mapping[str, object] | None = None,
    ) -> ActionRecord:
        """Hand the subject to a person: the incident becomes escalated, and the hand-over is an
        audited action like any other."""
        action = self.begin("escalate", subject, actor=actor, reason=reason, audit=audit)
        self._incidents.escalate(subject, reason, self._clock())
        return self.end(action, ok=True, detail="escalated: automatic remediation stopped")
