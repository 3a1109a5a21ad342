"""End to end: a real `vigil agent` whose state dir is restored from an old backup, shipping to
an in-process controller (SQLite). Its new batches are those of a new agent instance and are
taken, while a batch sent again by the same instance is still ignored as a duplicate.

A test waits (no timing assertion) until a sentinel line written last has arrived."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _log_pipeline import Clock, pipeline
from vigil.daemon import _logs
from vigil.store import SqlStore

from .conftest import StartController
from .test_logs_e2e import (
    REQUEST,
    SENTINEL,
    LogAgent,
    agent,
    append,
    counts,
    reach,
    requests,
    start_both,
)

__all__ = ["agent"]  # the fixture, used by name


async def test_an_agent_restored_from_an_old_backup_has_its_new_batches_taken(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    # The controller remembered the agent's last batch number: after a restore the agent
    # numbered its batches from the backup's, and every one up to the old mark was answered
    # 'duplicate' and dropped (the sentinel below never arrived).
    log, state = tmp_path / "app.log", tmp_path / "agent-state"
    append(log, requests(0, 100))
    controller, client = await start_both(start_controller, agent, tmp_path)
    url = f"http://127.0.0.1:{controller.api_port}"
    async with client:
        await reach(client, REQUEST, 100, agent)
        agent.kill()
        shutil.copytree(state, tmp_path / "backup")  # the backup: batches up to here
        agent.start(url, tmp_path / "agent.yaml")
        for n in range(200, 500, 100):  # three more rounds, three batches at least
            append(log, requests(n - 100, n))
            await reach(client, REQUEST, n, agent)
        agent.kill()
        shutil.rmtree(state)
        shutil.copytree(tmp_path / "backup", state)  # restored: the old offsets and numbers
        agent.start(url, tmp_path / "agent.yaml")
        append(log, [SENTINEL])
        await reach(client, SENTINEL, 1, agent)
        # the 300 lines after the backup's offsets are read again: what a restore costs
        assert (await counts(client))[REQUEST] == 700


def test_a_batch_sent_again_by_the_same_instance_is_a_duplicate_and_a_new_one_is_not(
    tmp_path: Path,
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        logs = pipeline(tmp_path, store, Clock(), {})
        item = {"source": "app", "template": "disk full", "count": 2, "first_at": 0.0}
        item |= {"last_at": 0.0, "samples": []}

        def batch(seq: int, boot: str | None) -> dict:
            sent = {"agent_id": "a1", "seq": seq, "sent_at": 0.0, "templates": [item]}
            return sent | ({"boot": boot} if boot else {})

        for seq in range(1, 6):
            assert not logs.ingest_batch("n1", batch(seq, "boot-1")).duplicate
        assert logs.ingest_batch("n1", batch(5, "boot-1")).duplicate  # sent again
        assert not logs.ingest_batch("n1", batch(3, "boot-2")).duplicate  # a restored state
        assert logs.ingest_batch("n1", batch(3, "boot-2")).duplicate
        assert logs.ingest_batch("n1", batch(4, "boot-1")).duplicate  # the old instance's
        # an agent that sends no boot (older) is judged by its sequence alone, as before
        assert not logs.ingest_batch("n1", batch(1, None)).duplicate
        assert logs.ingest_batch("n1", batch(1, None)).duplicate
    finally:
        store.close()


def test_the_instances_remembered_stay_bounded_over_endless_agent_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every start of an agent is a new (agent_id, boot) key: the last batch numbers are kept
    # for MAX_AGENTS of them, but the note of whose incidents were written (read from the
    # store once per key) kept one entry per key ever seen, growing with every restart
    monkeypatch.setattr(_logs, "MAX_AGENTS", 20)
    store = SqlStore(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        logs = pipeline(tmp_path, store, Clock(), {})
        item = {"source": "app", "template": "disk full", "count": 1, "first_at": 0.0}
        item |= {"last_at": 0.0, "samples": []}
        for boot in range(200):
            sent = {"agent_id": "a1", "boot": f"b{boot}", "seq": 1, "sent_at": 0.0}
            assert not logs.ingest_batch("n1", sent | {"templates": [item]}).duplicate
        assert len(logs.batches) == 20
        assert len(logs.writes._notes) <= 20
    finally:
        store.close()
