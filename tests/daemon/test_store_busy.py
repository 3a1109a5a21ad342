"""A store that refuses writes for a while (SQLite locked by another process past its busy
timeout) does not end the controller: its replicas go on being supervised and healed, and
the store catches up once it takes writes again; an API command refused by it is a 503 with
``Retry-After``, not a 500. Real controller, real processes, a real lock on the real database
file."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3

import httpx
import pytest

from vigil.model import ReplicaId, ReplicaState

from ._support import TAG_ENV, eventually, running
from .conftest import OPERATOR, StartController


async def test_a_locked_database_does_not_end_the_controller_and_the_replica_is_healed(
    start_controller: StartController, tag: str, caplog: pytest.LogCaptureFixture
) -> None:
    job = {
        "name": "job",
        "command": ["sleep", "600"],
        "env": {TAG_ENV: tag},
        "restart": {"backoff_base": 0.1},
    }
    controller = await start_controller({"services": [job]})
    run_task = next(task for c, task in start_controller.running.values() if c is controller)
    runner = controller.runners[ReplicaId("job/0")]
    await eventually(lambda: runner.replica.pid, 20, "job/0 running")
    first = runner.replica.pid
    assert first is not None
    caplog.set_level(logging.ERROR, "vigil.remediation")

    lock = sqlite3.connect(controller.data_dir / "vigil.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # every writer now waits out its busy timeout, then fails
    try:
        os.kill(first, signal.SIGKILL)

        def refused() -> bool:  # the runner's write failed, or the controller died of it
            return run_task.done() or "not stored" in caplog.text

        await eventually(refused, 60, "a refused write")
    finally:
        lock.rollback()
        lock.close()
    assert not run_task.done(), f"the controller ended: {run_task!r}"

    def healed() -> bool:
        pid = runner.replica.pid
        return pid is not None and pid != first and running(pid)

    await eventually(healed, 60, "job/0 restarted", lambda: runner.replica)
    # the row catches up with the next change of state
    stored = controller.store.get_replica(runner.replica.id)
    assert (stored.state, stored.pid) == (ReplicaState.RUNNING, runner.replica.pid)


async def test_a_command_while_the_database_is_locked_gets_503_with_retry_after(
    start_controller: StartController, tag: str
) -> None:
    job = {"name": "job", "command": ["sleep", "600"], "env": {TAG_ENV: tag}}
    controller = await start_controller({"services": [job]})
    runner = controller.runners[ReplicaId("job/0")]
    await eventually(lambda: runner.replica.pid, 20, "job/0 running")
    lock = sqlite3.connect(controller.data_dir / "vigil.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{controller.api_port}",
            headers={"Authorization": f"Bearer {OPERATOR}"},
            timeout=30,
        ) as http:
            response = await http.post("/api/v1/replicas/job/0/restart", json={"reason": "t"})
    finally:
        lock.rollback()
        lock.close()
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert "database is busy" in response.json()["detail"]
