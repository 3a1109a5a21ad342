"""The notes of agent batches whose findings were written (meta ``logs.batch:...``) stay
bounded: one row per agent, overwritten by each start of it, deleted with the agent when the
pipeline forgets it; and they still keep a batch sent again after a lost state from writing its
findings twice. A real SQLite store, read back with plain SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from _log_pipeline import Clock, pipeline
from vigil.bus import EventBus
from vigil.daemon import LogPipeline
from vigil.daemon import _logs as logs_module
from vigil.store import SqlStore


def word(n: int) -> str:
    """A word of letters only (digits would be masked into one template): 0 -> aaa."""
    return "".join(chr(97 + (n // 26**k) % 26) for k in range(3))


def severe(agent: str, boot: str, seq: int, n: int) -> dict[str, Any]:
    """A batch whose one ERROR template is new: a critical finding, written to an incident."""
    item = {"source": "app", "count": 3, "first_at": 0.0, "last_at": 0.0, "level": "ERROR"}
    template = f"ERROR disk {word(n)} lost"
    return {
        "agent_id": agent,
        "boot": boot,
        "seq": seq,
        "sent_at": 0.0,
        "templates": [{**item, "template": template, "samples": []}],
        "stats": {},
    }


def notes(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "v.db") as db:
        rows = db.execute("SELECT key, value FROM meta WHERE key LIKE 'logs.batch:%'").fetchall()
    return dict(rows)


def make(tmp_path: Path, store: SqlStore, bus: EventBus | None = None) -> LogPipeline:
    analysis = {"warmup_lines": 0, "warmup_seconds": 0}
    return pipeline(tmp_path, store, Clock(), {"analysis": analysis}, bus, store=store)


def test_many_starts_of_an_agent_keep_one_note(tmp_path: Path, store: SqlStore) -> None:
    logs = make(tmp_path, store)
    n = 0
    for boot in range(40):  # 40 starts of the agent, two batches each, each raising a finding
        for seq in (1, 2):
            n += 1
            result = logs.ingest_batch("n1", severe("a1", f"boot{boot}", seq, n))
            assert result.findings == 1
    assert notes(tmp_path) == {"logs.batch:n1/a1": "2 boot39"}
    logs.save_now()
    # a restart of the controller (many boots of it too) reads the note, adds none
    for seq in range(3, 8):
        logs = make(tmp_path, store)
        n += 1
        assert logs.ingest_batch("n1", severe("a1", "boot39", seq, n)).findings == 1
        logs.save_now()
    assert notes(tmp_path) == {"logs.batch:n1/a1": "7 boot39"}


def test_the_note_of_an_agent_the_pipeline_forgets_is_deleted(
    tmp_path: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs_module, "MAX_AGENTS", 5)
    logs = make(tmp_path, store)
    for n in range(30):  # 30 agents (a lost state dir draws a new agent id), one batch each
        assert logs.ingest_batch("n1", severe(f"agent{n}", "b", 1, n)).findings == 1
    assert sorted(notes(tmp_path)) == [f"logs.batch:n1/agent{n}" for n in range(25, 30)]
    # an agent still remembered through another of its starts keeps its note
    logs.ingest_batch("n1", severe("agent29", "b2", 1, 40))
    for n in range(41, 45):
        logs.ingest_batch("n1", severe(f"other{n}", "b", 1, n))
    assert "logs.batch:n1/agent29" in notes(tmp_path)
    assert len(notes(tmp_path)) <= 5


def test_a_batch_of_a_new_start_is_written_and_one_sent_again_is_not(
    tmp_path: Path, store: SqlStore
) -> None:
    bus = EventBus()
    logs = make(tmp_path, store, bus)
    first = severe("a1", "boot1", 1, 1)
    assert logs.ingest_batch("n1", first).findings == 1
    (incident,) = store.list_incidents(subject="logs:n1/app").items
    assert incident.findings == 1
    # kill -9 before any save: the state is lost, the note is not
    logs = make(tmp_path, store, bus)
    assert logs.ingest_batch("n1", first).findings == 1  # its counts were lost: taken again
    assert store.get_incident(incident.id).findings == 1  # its finding is not written again
    # the agent restarted from an old backup: seq 1 again, but a new start: written
    assert logs.ingest_batch("n1", severe("a1", "boot2", 1, 2)).findings == 1
    assert store.get_incident(incident.id).findings == 2
    assert notes(tmp_path) == {"logs.batch:n1/a1": "1 boot2"}
