"""What the log analyses learn from incidents of other kinds: openings teach, endings correct.

Used by :meth:`vigil.daemon._logs.LogPipeline.learn_incidents`, which feeds it every
``IncidentChanged`` seen on the bus and applies its verdicts to the association rules and to
Bayes. An incident teaches as soon as it opens (a precursor is worth knowing before the incident
ends). How it ends then says whether it was a fault:

- **healed**: an action was taken on it (a restart, a kill): a fault, kept;
- **escalated**: Vigil gave up on it or a node went Down: a fault, kept;
- **resolved by itself** after :data:`BLIP` seconds or more: kept (it lasted; something was
  wrong even if nothing had to be done);
- **a blip**: resolved by itself, without an action or an escalation, within :data:`BLIP`
  seconds (a readiness check that failed twice, a node suspected for a few missed heartbeats, a
  metric rule that cleared at once): taken back, so the templates around it gain no fault.

There is no "closed as noise by an operator" outcome: Vigil's incidents resolve only when their
subject is healthy again (there is no operator resolve or acknowledge), so the end an operator
could give is not in the model; a blip is the noise the model can see.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from vigil.model import Incident, IncidentState

BLIP = 60.0
"""An incident resolved by itself within a minute, without an action or an escalation, is no
fault: a minute is a few probe periods, a handful of missed heartbeats."""
SETTLE = 2 * BLIP
"""How long the analyses keep an incident retractable: a blip's end is seen on the bus a poll
after it happens, well within twice the blip's length."""
MAX_SEEN = 10_000
"""Incidents remembered as learned, so one seen again (a state change) teaches once."""


class IncidentLearner:
    """Turns ``IncidentChanged`` events into ``("learn" | "retract", at)`` verdicts."""

    def __init__(self, outcomes: dict[str, int] | None = None) -> None:
        self.seen: deque[int] = deque(maxlen=MAX_SEEN)
        # Learned incidents whose end is not known yet: id -> (time taught at, confirmed).
        self._open: OrderedDict[int, tuple[float, bool]] = OrderedDict()
        self.outcomes: dict[str, int] = {} if outcomes is None else outcomes
        """Incidents learned, by how they ended: healed, escalated, resolved, blip."""

    def see(self, incident: Incident, now: float) -> tuple[str, float] | None:
        """The verdict on one change of ``incident`` seen at ``now`` (None: nothing to do)."""
        iid = int(incident.id)
        while self._open and next(iter(self._open.values()))[0] < now - SETTLE - BLIP:
            self._open.popitem(last=False)  # too old to take back: its end no longer matters
        confirmed = incident.first_action_at is not None or (
            incident.state == IncidentState.ESCALATED
        )
        if incident.state == IncidentState.RESOLVED:
            return self._ended(incident, confirmed)
        if iid in self._open:
            at, was = self._open[iid]
            self._open[iid] = (at, was or confirmed)
            return None
        if iid in self.seen:
            return None
        self.seen.append(iid)
        at = min(now, incident.opened_at)
        self._open[iid] = (at, confirmed)
        return ("learn", at)

    def settled(self, now: float) -> bool:
        """Whether no incident learned may still turn out a blip (each has ended, was acted
        on or escalated, or has lasted :data:`BLIP` seconds)."""
        return all(confirmed or now - at >= BLIP for at, confirmed in self._open.values())

    def _ended(self, incident: Incident, confirmed: bool) -> tuple[str, float] | None:
        learned = self._open.pop(int(incident.id), None)
        if learned is None:
            return None  # never learned here (opened before a restart), or long ago
        at, was = learned
        if incident.first_action_at is not None:
            outcome = "healed"
        elif was or confirmed:
            outcome = "escalated"
        elif (incident.resolved_at or incident.updated_at) - incident.opened_at < BLIP:
            outcome = "blip"
        else:
            outcome = "resolved"
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        return ("retract", at) if outcome == "blip" else None
