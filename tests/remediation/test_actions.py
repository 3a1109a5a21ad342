"""ActionLog: every action is stored, linked to its incident, audited and published."""

from __future__ import annotations

from vigil.bus import EventBus, Subscription
from vigil.model import ActionChanged, Event, Finding, FindingKind, IncidentId, IncidentState
from vigil.remediation import AUTOPILOT, ActionLog, IncidentBook
from vigil.store import SqlStore

from .conftest import FakeClock

SUBJECT = "replica:llm/0"


def open_incident(incidents: IncidentBook, clock: FakeClock) -> IncidentId:
    finding = Finding(FindingKind.PROCESS_EXITED, SUBJECT, clock(), "llm/0 exited with code 1")
    return incidents.raise_finding(finding).id


def drain(sub: Subscription) -> list[Event]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append(event)
    return out


def test_begin_links_the_action_to_the_active_incident_and_publishes_it(
    actions: ActionLog,
    incidents: IncidentBook,
    store: SqlStore,
    bus: EventBus,
    clock: FakeClock,
) -> None:
    incident_id = open_incident(incidents, clock)
    sub = bus.subscribe("test", accept=lambda e: isinstance(e, ActionChanged))
    clock.advance(1)
    action = actions.begin("restart", SUBJECT, reason="exited with code 1")
    assert action.actor == AUTOPILOT == "vigil"
    assert action.kind == "restart"
    assert action.incident_id == incident_id
    assert action.started_at == clock.now
    assert action.finished_at is None and action.ok is None
    assert store.list_actions(incident_id=incident_id).items == [action]
    incident = store.get_incident(incident_id)
    assert incident.state == IncidentState.REMEDIATING
    assert incident.first_action_at == clock.now
    assert [e.action for e in drain(sub) if isinstance(e, ActionChanged)] == [action]


def test_an_action_without_an_incident_is_recorded_unlinked(
    actions: ActionLog, store: SqlStore, clock: FakeClock
) -> None:
    action = actions.begin("stop", SUBJECT, actor="alice", reason="maintenance")
    assert action.incident_id is None
    assert action.actor == "alice"
    assert store.list_incidents().total == 0


def test_end_finishes_the_action_and_writes_a_verifiable_audit_entry(
    actions: ActionLog,
    incidents: IncidentBook,
    store: SqlStore,
    bus: EventBus,
    clock: FakeClock,
) -> None:
    incident_id = open_incident(incidents, clock)
    action = actions.begin("restart", SUBJECT, actor="alice", reason="stuck")
    sub = bus.subscribe("test", accept=lambda e: isinstance(e, ActionChanged))
    clock.advance(4)
    done = actions.end(action, ok=True, detail="started pid 1001")
    assert (done.id, done.ok, done.detail, done.finished_at) == (
        action.id,
        True,
        "started pid 1001",
        clock.now,
    )
    assert store.list_actions().items == [done]
    [entry] = store.list_audit().items
    assert (entry.actor, entry.action, entry.target, entry.reason, entry.result) == (
        "alice",
        "restart",
        SUBJECT,
        "stuck",
        "ok",
    )
    assert entry.at == clock.now
    assert entry.detail == {
        "action_id": action.id,
        "started_at": clock.now - 4,
        "finished_at": clock.now,
        "incident_id": incident_id,
        "detail": "started pid 1001",
    }
    assert store.verify_audit() is None
    assert [e.action for e in drain(sub) if isinstance(e, ActionChanged)] == [done]


def test_a_failed_action_is_audited_with_the_failure(
    actions: ActionLog, store: SqlStore, clock: FakeClock
) -> None:
    first = actions.begin("start", SUBJECT, reason="wanted running")
    actions.end(first, ok=False, detail="no such file: serve")
    second = actions.begin("start", SUBJECT, reason="retry")
    actions.end(second, ok=True)
    newest, oldest = store.list_audit().items
    assert oldest.result == "failed: no such file: serve"
    assert newest.result == "ok"
    assert newest.prev_hash == oldest.hash
    assert store.verify_audit() is None
    assert [a.ok for a in store.list_actions().items] == [True, False]


def test_escalate_records_an_escalate_action_and_escalates_the_incident(
    actions: ActionLog, incidents: IncidentBook, store: SqlStore, clock: FakeClock
) -> None:
    incident_id = open_incident(incidents, clock)
    clock.advance(2)
    action = actions.escalate(SUBJECT, "crash loop: needs a person")
    assert action.kind == "escalate"
    assert action.actor == AUTOPILOT
    assert action.ok is True
    assert action.incident_id == incident_id
    assert action.reason == "crash loop: needs a person"
    incident = store.get_incident(incident_id)
    assert incident.state == IncidentState.ESCALATED
    assert incident.summary == "crash loop: needs a person"
    assert incident.first_action_at == clock.now
    [entry] = store.list_audit().items
    assert (entry.action, entry.actor, entry.target, entry.result) == (
        "escalate",
        AUTOPILOT,
        SUBJECT,
        "ok",
    )
    assert store.verify_audit() is None


def test_escalate_by_an_operator_is_audited_under_their_name(
    actions: ActionLog, incidents: IncidentBook, store: SqlStore, clock: FakeClock
) -> None:
    open_incident(incidents, clock)
    actions.escalate(SUBJECT, "paging the owner", actor="bob")
    [entry] = store.list_audit().items
    assert entry.actor == "bob"
    assert incidents.active(SUBJECT).state == IncidentState.ESCALATED  # type: ignore[union-attr]
