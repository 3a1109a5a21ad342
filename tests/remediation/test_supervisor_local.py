"""ReplicaRunner over the real LocalBackend: replicas are real processes that crash, fork and hang.

The rig's store, bus, incident book and action log are real; the probes are the rig's fakes (the
cases here turn on processes, not on probe verdicts). Waits poll real time with a bound.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psutil
import pytest

from vigil.backends import _local_procs as procs
from vigil.backends.local import LocalBackend
from vigil.model import Replica, ReplicaState
from vigil.remediation import ReplicaRunner, plan_replica

from .conftest import Rig, service

PROMPTLY = 10.0
"""Bound on a wait for a real process to do something (generous: the machine is shared)."""


async def eventually(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(PROMPTLY):
            while True:
                if condition():
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"not within {PROMPTLY:g}s: {what}")


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
async def local(rig: Rig) -> AsyncIterator[Rig]:
    """The rig with a LocalBackend of a fresh instance; every process of it killed afterwards."""
    instance = f"test-{uuid.uuid4().hex[:12]}"
    backend = LocalBackend(instance)
    rig.backend = backend  # type: ignore[assignment]
    try:
        yield rig
    finally:
        await rig.stop_tasks()
        victims = [p.pid for p in procs.marked(instance)]
        backend.sweep(keep=[])
        await eventually(lambda: not any(running(p) for p in victims), "test processes killed")
        backend.close()


def python_replica(rig: Rig, code: str, **overrides: object) -> ReplicaRunner:
    svc = service(
        command=[sys.executable, "-c", code],
        liveness=None,
        readiness=None,
        **overrides,
    )
    return rig.runner(svc)


async def test_a_crashed_replica_s_worker_is_stopped_before_the_replacement_starts(
    local: Rig, tmp_path: Path
) -> None:
    # The first run forks a worker (same process group, as a model server's workers are) and
    # crashes; the worker must not outlive it beside the replacement, holding its port or GPU.
    workers = tmp_path / "workers"
    code = f"""
import os, sys, time
first = not os.path.exists({str(workers)!r})
pid = os.fork()
if pid == 0:
    time.sleep(60)
    os._exit(0)
with open({str(workers)!r}, "a") as out:
    out.write(str(pid) + "\\n")
if first:
    sys.exit(1)
time.sleep(60)
"""
    runner = python_replica(local, code)
    local.start(runner)
    await eventually(lambda: runner.replica.restarts == 1, "the crash restarted")
    await eventually(
        lambda: workers.exists() and len(workers.read_text().split()) == 2, "second run forked"
    )
    first_worker, second_worker = (int(w) for w in workers.read_text().split())
    await eventually(lambda: not running(first_worker), "the crashed run's worker stopped")
    assert running(second_worker)
    assert runner.replica.state == ReplicaState.RUNNING
    await runner.close(stop=True)
    await eventually(lambda: not running(second_worker), "the stop took the worker down")


async def test_a_crashed_replica_s_worker_that_ignores_sigterm_is_killed(
    local: Rig, tmp_path: Path
) -> None:
    worker_file = tmp_path / "worker"
    code = f"""
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)
    os._exit(0)
with open({str(worker_file)!r}, "w") as out:
    out.write(str(pid))
sys.exit(3)
"""
    runner = python_replica(local, code, restart={"policy": "never"})
    local.start(runner)
    await eventually(lambda: runner.replica.held, "the exit escalated (policy never)")
    worker = int(worker_file.read_text())
    await eventually(lambda: not running(worker), "the worker killed")


async def test_a_stop_cut_short_by_the_controller_exiting_is_finished_by_close(
    local: Rig, tmp_path: Path
) -> None:
    # on_exit: stop. The controller goes down while an operator's stop waits out the grace of a
    # replica that ignores SIGTERM: closing the runner must still stop it, not leave it running.
    pidfile = tmp_path / "pid"
    code = f"""
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open({str(pidfile)!r}, "w") as out:
    out.write(str(os.getpid()))
time.sleep(60)
"""
    runner = python_replica(local, code, stop_grace=3.0)
    local.start(runner)
    await eventually(lambda: pidfile.exists() and pidfile.read_text() != "", "the replica up")
    pid = int(pidfile.read_text())
    stop = runner.command("stop", actor="ops", reason="maintenance")
    await eventually(lambda: runner.info is None, "the stop under way (in its grace period)")
    await local.stop_tasks()  # the controller's shutdown cancels the runners first
    await runner.close(stop=True)
    assert not running(pid)
    assert runner.replica.state == ReplicaState.STOPPED
    [ended] = local.actions_of("replica:llm/0")
    assert (ended.id, ended.ok) == (stop.id, False)
    assert ended.detail == "cut short: supervision ended during the stop"
    local.assert_every_action_audited()


async def test_a_crashed_replica_leaves_rotation_before_its_leftovers_are_cleared(
    local: Rig, tmp_path: Path
) -> None:
    # The balancer hears of the exit through on_change; clearing a worker that ignores SIGTERM
    # takes the stop grace, and the replica must not stay in rotation for that long. The worker
    # notes the SIGTERM of the clearing; the exit must be seen before it.
    worker_file, termed = tmp_path / "worker", tmp_path / "termed"
    code = f"""
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGTERM, lambda *_: open({str(termed)!r}, "w").close())
    while True:
        time.sleep(60)
with open({str(worker_file)!r}, "w") as out:
    out.write(str(pid))
sys.exit(3)
"""
    seen: list[bool] = []
    svc = service(
        command=[sys.executable, "-c", code],
        liveness=None,
        readiness=None,
        stop_grace=1.0,
        restart={"policy": "never"},
    )

    def changed(replica: Replica) -> None:
        if replica.state == ReplicaState.EXITED:
            seen.append(termed.exists())

    runner = ReplicaRunner(
        plan_replica(svc, 0, log_dir=tmp_path),
        backend=local.backend,
        bus=local.bus,
        store=local.store,
        incidents=local.incidents,
        actions=local.actions,
        probes=local.probes,
        clock=local.clock,
        sleep=local.sleep,
        on_change=changed,
    )
    local.start(runner)
    await eventually(lambda: runner.replica.held, "the exit escalated (policy never)")
    assert seen[0] is False  # out of rotation before the clearing began
    assert termed.exists()  # the worker was asked to go
    await eventually(lambda: not running(int(worker_file.read_text())), "then killed")
