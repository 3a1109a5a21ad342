"""IncidentBook: one active incident per subject, its lifecycle, evidence and bus events."""

from __future__ import annotations

from vigil.bus import EventBus
from vigil.model import (
    Finding,
    FindingKind,
    FindingRaised,
    IncidentChanged,
    IncidentState,
    Severity,
)
from vigil.remediation import IncidentBook
from vigil.store import SqlStore

from .conftest import FakeClock

SUBJECT = "replica:llm/0"


def finding(
    clock: FakeClock,
    kind: FindingKind = FindingKind.PROCESS_EXITED,
    *,
    subject: str = SUBJECT,
    severity: Severity = Severity.WARNING,
    summary: str = "llm/0 exited with code 1",
    **evidence: object,
) -> Finding:
    return Finding(
        kind=kind,
        subject=subject,
        at=clock(),
        summary=summary,
        severity=severity,
        evidence=evidence,
    )


def test_the_first_finding_opens_an_incident_with_its_evidence(
    incidents: IncidentBook, store: SqlStore, clock: FakeClock
) -> None:
    opened = incidents.raise_finding(finding(clock, returncode=1))
    assert opened.state == IncidentState.OPEN
    assert opened.kind == FindingKind.PROCESS_EXITED
    assert opened.subject == SUBJECT
    assert opened.findings == 1
    assert opened.detected_at == opened.opened_at == clock.now
    assert opened.evidence["findings"] == [
        {
            "at": clock.now,
            "kind": "process_exited",
            "summary": "llm/0 exited with code 1",
            "returncode": 1,
        }
    ]
    assert store.get_incident(opened.id) == opened
    assert incidents.active(SUBJECT) == opened


def test_a_second_finding_on_the_subject_joins_its_active_incident(
    incidents: IncidentBook, store: SqlStore, clock: FakeClock
) -> None:
    first = incidents.raise_finding(finding(clock))
    clock.advance(5)
    second = incidents.raise_finding(
        finding(clock, FindingKind.HUNG, severity=Severity.CRITICAL, summary="llm/0 hung")
    )
    assert second.id == first.id
    assert second.findings == 2
    assert second.kind == FindingKind.PROCESS_EXITED  # the incident keeps its first kind
    assert second.severity == Severity.CRITICAL  # the worst severity seen
    assert second.updated_at == clock.now
    assert second.detected_at == first.detected_at
    assert [f["kind"] for f in second.evidence["findings"]] == ["process_exited", "hung"]
    assert store.list_incidents().total == 1
    assert store.get_incident(first.id).findings == 2


def test_a_milder_later_finding_does_not_lower_the_severity(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    incidents.raise_finding(finding(clock, severity=Severity.CRITICAL))
    joined = incidents.raise_finding(finding(clock, severity=Severity.INFO))
    assert joined.severity == Severity.CRITICAL


def test_findings_on_different_subjects_open_separate_incidents(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    a = incidents.raise_finding(finding(clock, subject="replica:llm/0"))
    b = incidents.raise_finding(finding(clock, subject="replica:llm/1"))
    assert a.id != b.id
    assert incidents.active("replica:llm/0") == a
    assert incidents.active("replica:llm/1") == b


def test_the_evidence_list_keeps_only_the_latest_twenty_findings_but_counts_all(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    for i in range(30):
        clock.advance(1)
        incident = incidents.raise_finding(finding(clock, summary=f"crash {i}"))
    assert incident.findings == 30
    kept = incident.evidence["findings"]
    assert len(kept) == 20
    assert [f["summary"] for f in kept] == [f"crash {i}" for i in range(10, 30)]
    assert incidents.active(SUBJECT) is not None
    assert len(incidents.active(SUBJECT).evidence["findings"]) == 20  # type: ignore[union-attr]


def test_the_first_action_moves_open_to_remediating_and_sets_first_action_at_once(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    opened = incidents.raise_finding(finding(clock))
    clock.advance(2)
    first = incidents.action_started(SUBJECT, clock.now)
    assert first is not None
    assert first.id == opened.id
    assert first.state == IncidentState.REMEDIATING
    assert first.first_action_at == opened.opened_at + 2
    clock.advance(3)
    again = incidents.action_started(SUBJECT, clock.now)
    assert again is not None
    assert again.state == IncidentState.REMEDIATING
    assert again.first_action_at == opened.opened_at + 2
    assert again.updated_at == clock.now


def test_an_action_on_a_subject_without_an_incident_links_to_nothing(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    assert incidents.action_started(SUBJECT, clock.now) is None
    assert incidents.escalate(SUBJECT, "why", clock.now) is None
    assert incidents.recovered(SUBJECT, clock.now) is None


def test_recovery_resolves_the_incident_and_measures_time_to_recover(
    incidents: IncidentBook, store: SqlStore, clock: FakeClock
) -> None:
    opened = incidents.raise_finding(finding(clock))
    incidents.action_started(SUBJECT, clock.now + 1)
    clock.advance(12.5)
    resolved = incidents.recovered(SUBJECT, clock.now, "ready again")
    assert resolved is not None
    assert resolved.state == IncidentState.RESOLVED
    assert resolved.resolved_at == clock.now
    assert resolved.time_to_recover == 12.5
    assert resolved.evidence["resolution"] == "ready again"
    assert incidents.active(SUBJECT) is None
    assert store.get_incident(opened.id).state == IncidentState.RESOLVED


def test_a_finding_after_recovery_opens_a_new_incident(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    first = incidents.raise_finding(finding(clock))
    incidents.recovered(SUBJECT, clock.now)
    second = incidents.raise_finding(finding(clock))
    assert second.id != first.id
    assert second.findings == 1
    assert second.state == IncidentState.OPEN


def test_a_crash_loop_finding_escalates_the_incident_it_joins(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    opened = incidents.raise_finding(finding(clock))
    incidents.action_started(SUBJECT, clock.now)
    looped = incidents.raise_finding(
        finding(clock, FindingKind.CRASH_LOOP, summary="llm/0 crash loop: 3 restarts in 60s")
    )
    assert looped.id == opened.id
    assert looped.state == IncidentState.ESCALATED
    assert looped.summary == "llm/0 crash loop: 3 restarts in 60s"


def test_a_start_failure_opens_an_incident_already_escalated(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    opened = incidents.raise_finding(finding(clock, FindingKind.START_FAILED))
    assert opened.state == IncidentState.ESCALATED


def test_an_escalated_incident_stays_active_collects_findings_and_resolves_on_recovery(
    incidents: IncidentBook, clock: FakeClock
) -> None:
    opened = incidents.raise_finding(finding(clock))
    escalated = incidents.escalate(SUBJECT, "needs a person", clock.now)
    assert escalated is not None
    assert escalated.state == IncidentState.ESCALATED
    assert escalated.severity == Severity.CRITICAL
    assert escalated.summary == "needs a person"
    active = incidents.active(SUBJECT)
    assert active is not None and active.id == opened.id
    joined = incidents.raise_finding(finding(clock))
    assert joined.id == opened.id
    assert joined.state == IncidentState.ESCALATED  # a new finding does not de-escalate it
    acted = incidents.action_started(SUBJECT, clock.now)
    assert acted is not None and acted.state == IncidentState.ESCALATED
    clock.advance(30)
    resolved = incidents.recovered(SUBJECT, clock.now)
    assert resolved is not None
    assert resolved.id == opened.id
    assert resolved.state == IncidentState.RESOLVED
    assert resolved.time_to_recover == 30
    assert incidents.active(SUBJECT) is None


def test_findings_and_incident_changes_are_published_on_the_bus(
    incidents: IncidentBook, bus: EventBus, clock: FakeClock
) -> None:
    sub = bus.subscribe("test")
    raised = finding(clock)
    opened = incidents.raise_finding(raised)
    clock.advance(1)
    incidents.action_started(SUBJECT, clock.now)
    clock.advance(1)
    incidents.recovered(SUBJECT, clock.now)
    events = []
    while (event := sub.get_nowait()) is not None:
        events.append(event)
    assert [type(e) for e in events] == [
        FindingRaised,
        IncidentChanged,
        IncidentChanged,
        IncidentChanged,
    ]
    assert isinstance(events[0], FindingRaised)
    assert events[0].finding == raised
    changes = [e.incident for e in events[1:] if isinstance(e, IncidentChanged)]
    assert {i.id for i in changes} == {opened.id}
    assert [i.state for i in changes] == [
        IncidentState.OPEN,
        IncidentState.REMEDIATING,
        IncidentState.RESOLVED,
    ]
    assert [e.at for e in events[1:]] == [clock.now - 2, clock.now - 1, clock.now]
