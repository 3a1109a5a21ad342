"""How an incident's end decides what the log analyses keep of it (pure: plain incidents)."""

from __future__ import annotations

import dataclasses

from vigil.daemon._logs_learn import BLIP, IncidentLearner
from vigil.model import FindingKind, Incident, IncidentId, IncidentState, Severity


def incident(n: int, opened: float) -> Incident:
    return Incident(
        IncidentId(n),
        f"node:n{n}",
        FindingKind.NODE_SUSPECT,
        IncidentState.OPEN,
        "phi 9",
        Severity.WARNING,
        opened,
        opened,
        opened,
    )


def ended(inc: Incident, at: float, **changes: object) -> Incident:
    return dataclasses.replace(
        inc, state=IncidentState.RESOLVED, resolved_at=at, updated_at=at, **changes
    )


def test_each_end_is_named_and_only_a_blip_is_taken_back() -> None:
    learner = IncidentLearner()
    blip, slow, escalated, healed = (incident(n, 100.0 * n) for n in range(1, 5))

    def learn(inc: Incident) -> None:
        assert learner.see(inc, inc.opened_at + 1) == ("learn", inc.opened_at)
        assert learner.see(inc, inc.opened_at + 2) is None  # seen again: learned once
        assert not learner.settled(inc.opened_at + 2)

    learn(blip)
    assert learner.see(ended(blip, 100.0 + BLIP - 1), 170.0) == ("retract", 100.0)
    learn(slow)
    assert learner.see(ended(slow, 200.0 + BLIP), 270.0) is None
    learn(escalated)
    learner.see(dataclasses.replace(escalated, state=IncidentState.ESCALATED), 310.0)
    assert learner.see(ended(escalated, 320.0), 330.0) is None
    learn(healed)
    assert learner.see(ended(healed, 410.0, first_action_at=401.0), 420.0) is None
    assert learner.outcomes == {"blip": 1, "resolved": 1, "escalated": 1, "healed": 1}
    assert learner.settled(420.0)
    assert learner.see(ended(incident(9, 0.0), 5.0), 500.0) is None  # never learned here
