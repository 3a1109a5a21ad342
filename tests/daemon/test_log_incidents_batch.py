"""LogIncidents coalesces the writes queued on its writer thread: one transaction per job-run.

A real SQLite file store; the writer thread is held inside the first write while the rest are
queued, so the second job-run finds them all. ``done`` still gets each finding's incident id,
in order, and a write that fails alone does not take the others of its transaction with it.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import AbstractContextManager
from pathlib import Path

from _recording_bus import Recording
from vigil.daemon._logs_incidents import LogIncidents
from vigil.errors import StoreBusy
from vigil.model import Finding, FindingKind, Incident, Severity
from vigil.remediation import IncidentBook
from vigil.store import SqlStore


class HeldStore(SqlStore):
    """Counts transactions; the first incident write waits for ``release``; fails on ``bad``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.bad = ""

    def batch(self, what: str) -> AbstractContextManager[None]:
        self.batches += 1
        return super().batch(what)

    def update_incident(self, incident: Incident) -> None:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(timeout=30)
        if incident.subject == self.bad:
            raise StoreBusy("database is locked")
        super().update_incident(incident)


def finding(i: int) -> Finding:
    return Finding(
        FindingKind.LOG_NOVELTY,
        f"logs:n1/app{i % 7}",
        1000.0 + i,
        f"template {i}",
        Severity.CRITICAL,
        {"i": i},
    )


async def write(store: HeldStore, n: int) -> tuple[list[int | None], Recording]:
    bus = Recording()
    writes = LogIncidents(
        IncidentBook(store, bus, lambda: 5.0), store=store, bus=bus, clock=lambda: 5.0
    )
    writes.start()
    got: list[int | None] = []
    writes.raise_finding(finding(0), got.append)
    await asyncio.to_thread(store.entered.wait, 30)  # the writer thread holds finding 0
    for i in range(1, n):
        writes.raise_finding(finding(i), got.append)
    writes.batch_written("n1/a1", "b1", 1)
    store.release.set()
    await writes.drain()
    await writes.close()
    return got, bus


async def test_the_writes_queued_meanwhile_are_one_transaction_and_done_in_order(
    tmp_path: Path,
) -> None:
    store = HeldStore(f"sqlite:///{tmp_path / 'v.db'}")
    got, bus = await write(store, 50)
    assert store.batches == 2  # finding 0 alone, then the 49 others and the note together
    incidents = {i.subject: i for i in store.list_incidents().items}
    assert got == [incidents[f"logs:n1/app{i % 7}"].id for i in range(50)]
    assert sum(i.findings for i in incidents.values()) == 50
    assert store.get_meta("logs.batch:n1/a1") == "1 b1"
    raised = [e.finding.evidence["i"] for e in bus.events if e.kind == "finding.raised"]
    assert raised == list(range(50))


async def test_a_failed_write_is_retried_alone_and_only_it_loses_its_incident(
    tmp_path: Path,
) -> None:
    store = HeldStore(f"sqlite:///{tmp_path / 'v.db'}")
    store.bad = "logs:n1/app3"
    got, _ = await write(store, 20)
    incidents = {i.subject: i for i in store.list_incidents().items}
    assert "logs:n1/app3" not in incidents  # each of its writes rolled back alone
    expected = [None if i % 7 == 3 else incidents[f"logs:n1/app{i % 7}"].id for i in range(20)]
    assert got == expected
    assert store.get_meta("logs.batch:n1/a1") == "1 b1"
