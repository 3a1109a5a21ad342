"""Incident books on two threads, one store: still one active incident per subject.

The controller writes incidents from several threads, each with an :class:`IncidentBook` of its
own on the one store: the event loop (the supervisor), the heartbeat monitor's writer thread and
the Alertmanager receiver's writer thread (one transaction per chunk of alerts). An alert on
``node:gpu-07`` (or ``replica:llm/0``) and Vigil's own finding on it arrive together when the
node goes down. A book reads the subject's active incident, then writes: a read made while the
other thread's chunk was still uncommitted saw no incident and opened a second one (or, on an
incident both saw, the later write dropped the other's finding).

Real SQLite and PostgreSQL stores; the store is instrumented only to hold the receiver's chunk
open while the other book reads, which makes the interleaving certain.
"""

from __future__ import annotations

import threading

from vigil.bus import EventBus
from vigil.model import Finding, FindingKind, Incident, IncidentState, Severity
from vigil.remediation import IncidentBook
from vigil.store import SqlStore

from .conftest import FakeClock

SUBJECT = "node:gpu-07"
READ_WAIT = 3.0
"""Seconds the test lets the monitor's book reach its read while the chunk is open (with the
books serialized it cannot: it waits for the chunk, and the test goes on after this long)."""


class SignallingStore(SqlStore):
    """A real store that tells when the monitor's thread has read the active incident."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.monitor_read = threading.Event()

    def find_active_incident(self, subject: str) -> Incident | None:
        found = super().find_active_incident(subject)
        if threading.current_thread().name == "monitor":
            self.monitor_read.set()
        return found


def finding(kind: FindingKind, summary: str) -> Finding:
    return Finding(kind, SUBJECT, 1000.0, summary, Severity.CRITICAL, {})


def test_an_alert_chunk_and_a_node_finding_at_once_share_one_incident(db_url: str) -> None:
    store = SignallingStore(db_url)
    try:
        receiver = IncidentBook(store, EventBus(), FakeClock())
        monitor = IncidentBook(store, EventBus(), FakeClock())
        in_chunk, commit = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def receive() -> None:  # the receiver's writer thread: one chunk, one transaction
            try:
                with receiver.batch("receiving 1 alert"):
                    receiver.raise_finding(finding(FindingKind.EXTERNAL_ALERT, "alert NodeDown"))
                    in_chunk.set()
                    commit.wait(30)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def judge() -> None:  # the heartbeat monitor's writer thread
            try:
                monitor.raise_finding(finding(FindingKind.NODE_DOWN, "node gpu-07 down"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        chunk = threading.Thread(target=receive, name="receiver")
        chunk.start()
        assert in_chunk.wait(30)
        node = threading.Thread(target=judge, name="monitor")
        node.start()
        store.monitor_read.wait(READ_WAIT)
        commit.set()
        chunk.join(30)
        node.join(30)
        assert not errors, errors
        items = store.list_incidents(subject=SUBJECT).items
        active = [i for i in items if i.state != IncidentState.RESOLVED]
        assert len(active) == 1, [(i.id, i.summary) for i in active]
        assert active[0].findings == 2
        kinds = [f["kind"] for f in active[0].evidence["findings"]]
        assert sorted(kinds) == ["external_alert", "node_down"]
    finally:
        store.close()
