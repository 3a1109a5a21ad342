"""Two controllers on a real PostgreSQL: the old leader, after losing the lease, tries a restart
and is refused before it touches the host (and the refusal is in the audit trail).

Controller A leads; its replica crashes and A begins a restart (its action record written while
it still leads), then waits out the restart's backoff. Meanwhile A's claim session is cut and
controller B, a ``store.standby``, takes over and leads. When A's backoff ends, A must not start
the process: the store's fence refused only writes, and a restart's start is no write, so on
main A started a second copy of the replica beside the new leader's. The claim check is set to
an hour, so A's watch cannot be what stops it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from _postgres import PgServer
from vigil.backends import ProcessInfo, ProcessSpec
from vigil.backends.local import LocalBackend
from vigil.daemon import _lock
from vigil.store import SqlStore

from ._support import eventually, replica_states, service, settled
from .conftest import StartController
from .test_pg_fence import cut_claim

BACKOFF = 6.0
"""A's wait before its restart: long enough for B to take over (a second or two) meanwhile."""


@pytest.mark.slow
async def test_an_old_leader_is_refused_a_restart_after_a_standby_took_over(
    pg_server: PgServer,
    pg_url: str,
    tag: str,
    tmp_path: Path,
    start_controller: StartController,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(_lock, "CHECK_EVERY", 3600.0)  # A's watch sleeps through the test
    starts: list[tuple[int, str]] = []  # (id of the backend, replica) of every process started
    real_start = LocalBackend.start

    async def recorded(self: LocalBackend, spec: ProcessSpec) -> ProcessInfo:
        starts.append((id(self), spec.replica))
        return await real_start(self, spec)

    monkeypatch.setattr(LocalBackend, "start", recorded)
    svc = service(tag, replicas=1, restart={"backoff_initial": BACKOFF})
    a = await start_controller({"store": {"url": pg_url}, "services": [svc]})
    await eventually(lambda: settled(a), 30, "A's replica ready", lambda: replica_states(a))
    _, a_task = start_controller.running[id(a)]
    assert starts == [(id(a.backend), "llm/0")]
    info = a.runners["llm/0"].info  # type: ignore[index]
    assert info is not None

    os.kill(info.pid, signal.SIGKILL)  # the replica crashes: A begins its restart, backs off
    watcher = SqlStore(pg_url)
    try:
        await eventually(
            lambda: any(x.kind == "restart" for x in watcher.list_actions().items),
            20,
            "A's restart begun",
        )
        b_config = {
            "data_dir": str(tmp_path / "data-b"),
            "store": {"url": pg_url, "standby": True},
            "services": [svc],
        }
        b_started = asyncio.create_task(start_controller(b_config))
        await asyncio.sleep(0.5)  # B stands by on the claim
        cut_claim(pg_server, a)
        b = await asyncio.wait_for(b_started, 30)
        assert watcher.get_meta("leader") is not None
        assert '"epoch": 2' in (watcher.get_meta("leader") or ""), watcher.get_meta("leader")
        assert not a_task.done(), "A stopped before its backoff ended: nothing was shown"

        await asyncio.wait_for(asyncio.shield(a_task), 60)  # A stops, refused
        # on main: A started the replica after its backoff, beside B's own
        assert [s for s in starts if s[0] == id(a.backend)] == [(id(a.backend), "llm/0")]
        refused = [e for e in watcher.list_audit().items if e.action == "replica.start.refused"]
        assert len(refused) == 1, [(e.action, e.result) for e in watcher.list_audit().items]
        assert refused[0].target == "replica:llm/0"
        assert refused[0].result == "refused: not the leader"
        assert "no longer the leader" in caplog.text
        assert watcher.verify_audit() is None  # the chain is whole with both appenders
        # the new leader runs the fleet: it started the replica A left dead
        await eventually(lambda: settled(b), 30, "B's replica ready", lambda: replica_states(b))
    finally:
        watcher.close()
