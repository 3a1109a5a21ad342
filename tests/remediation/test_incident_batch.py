"""IncidentBook.batch: one transaction, the same outcome as one call each.

Two real SQLite files get the same history, one finding at a time and in a batch; their
incidents, the events published and the audit entries written alongside must be the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _recording_bus import Recording
from vigil.errors import StoreBusy
from vigil.model import Event, Finding, FindingKind, Incident, Severity
from vigil.remediation import IncidentBook
from vigil.store import SqlStore

from .conftest import FakeClock


def finding(subject: str, n: int, kind: FindingKind = FindingKind.LIVENESS_FAILING) -> Finding:
    severity = Severity.CRITICAL if n % 3 == 0 else Severity.WARNING
    return Finding(kind, subject, 1000.0 + n, f"{subject} #{n}", severity, {"n": n})


def history() -> list[Finding]:
    """Opens and joins in the same batch, a subject already open before it, an escalation."""
    return [
        finding("replica:a/0", 1),
        finding("replica:b/0", 2),  # opened, then joined twice in the same batch
        finding("replica:a/0", 3),  # a has an incident open before the batch
        finding("replica:b/0", 4),
        finding("replica:c/0", 5, FindingKind.CRASH_LOOP),
        finding("replica:b/0", 6),
        finding("replica:c/0", 7),
    ]


def book(tmp_path: Path, name: str) -> tuple[SqlStore, Recording, IncidentBook]:
    store = SqlStore(f"sqlite:///{tmp_path / name}.db")
    bus = Recording()
    return store, bus, IncidentBook(store, bus, FakeClock())


def shape(incident: Incident) -> tuple[object, ...]:
    return (
        incident.id,
        incident.subject,
        incident.state,
        incident.severity,
        incident.findings,
        incident.summary,
        incident.evidence,
    )


def described(events: list[Event]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for event in events:
        incident = getattr(event, "incident", None)
        detail = shape(incident) if incident is not None else getattr(event, "finding", None)
        out.append((event.kind, detail))
    return out


def in_batch(book: IncidentBook, findings: list[Finding]) -> list[Incident]:
    """``raise_finding`` for each, in order, in one batch (as the receivers do)."""
    with book.batch(f"raising {len(findings)} findings"):
        return [book.raise_finding(finding) for finding in findings]


def test_a_batch_writes_the_same_incidents_and_events_as_one_call_each(tmp_path: Path) -> None:
    one_store, one_bus, one = book(tmp_path, "one")
    many_store, many_bus, many = book(tmp_path, "many")
    first, *rest = history()
    # replica:a/0 has an incident open before the batch
    assert shape(one.raise_finding(first)) == shape(in_batch(many, [first])[0])

    singly = [one.raise_finding(f) for f in rest]
    batched = in_batch(many, rest)

    assert [shape(i) for i in batched] == [shape(i) for i in singly]
    b_opened, a_joined, b_joined, _, b_again, _ = batched  # b opened and joined in the batch
    assert b_opened.id == b_joined.id == b_again.id and b_again.findings == 3
    assert a_joined.id == 1 and a_joined.findings == 2  # a's incident, open before
    assert [shape(i) for i in many_store.list_incidents().items] == [
        shape(i) for i in one_store.list_incidents().items
    ]
    assert described(many_bus.events) == described(one_bus.events)
    assert len(many_bus.events) == 2 * len(history())


def test_audit_entries_written_in_a_batch_are_the_same_chain(tmp_path: Path) -> None:
    one_store, _, one = book(tmp_path, "one")
    many_store, _, many = book(tmp_path, "many")

    def audit(store: SqlStore, incident: Incident) -> None:
        store.append_audit(
            at=1.0,
            actor="t",
            action="alert.firing",
            target=incident.subject,
            reason="r",
            result=f"incident {incident.id}",
        )

    for f in history():
        audit(one_store, one.raise_finding(f))
    with many.batch("test"):
        for f in history():
            audit(many_store, many.raise_finding(f))

    assert [e.hash for e in many_store.list_audit().items] == [
        e.hash for e in one_store.list_audit().items
    ]
    assert many_store.verify_audit() is None


def test_a_batch_that_fails_writes_and_publishes_nothing(tmp_path: Path) -> None:
    store, bus, book_ = book(tmp_path, "fail")
    book_.raise_finding(finding("replica:a/0", 1))
    before = list(bus.events)

    with pytest.raises(StoreBusy), book_.batch("test"):
        book_.raise_finding(finding("replica:a/0", 2))
        book_.raise_finding(finding("replica:z/0", 3))
        store.append_audit(at=1.0, actor="t", action="x", target="y", reason="", result="")
        raise StoreBusy("database is locked")

    assert bus.events == before
    [only] = store.list_incidents().items
    assert only.subject == "replica:a/0" and only.findings == 1
    assert store.list_audit().items == []
    # and the book works as before afterwards, events straight to the bus
    assert book_.raise_finding(finding("replica:z/0", 4)).findings == 1
    assert len(bus.events) == len(before) + 2


def test_recovered_in_a_batch_resolves_like_one_call(tmp_path: Path) -> None:
    one_store, one_bus, one = book(tmp_path, "one")
    many_store, many_bus, many = book(tmp_path, "many")
    for b in (one, many):
        b.raise_finding(finding("replica:a/0", 1))
    one.raise_finding(finding("replica:a/0", 2))
    one.recovered("replica:a/0", 2000.0, "ok")
    one.raise_finding(finding("replica:a/0", 3))
    with many.batch():
        many.raise_finding(finding("replica:a/0", 2))
        many.recovered("replica:a/0", 2000.0, "ok")
        many.raise_finding(finding("replica:a/0", 3))  # a new incident after the recovery
    assert [shape(i) for i in many_store.list_incidents().items] == [
        shape(i) for i in one_store.list_incidents().items
    ]
    assert described(many_bus.events) == described(one_bus.events)
