"""LocalBackend after a controller restart: adopting its replicas and sweeping strays."""

from __future__ import annotations

import asyncio
import signal

import psutil

from vigil.backends import ProcessInfo, ProcessSpec
from vigil.backends.local import LocalBackend
from vigil.model import ReplicaId

from ._helpers import (
    PROMPTLY,
    SLEEPER,
    eventually,
    marked,
    running,
    settle,
    spec,
    stray,
    until_dead,
)

SVC0 = ReplicaId("svc/0")


async def start(backend: LocalBackend, s: ProcessSpec) -> ProcessInfo:
    """Start, then wait until other backends can recognise the process (see ``settle``)."""
    info = await backend.start(s)
    settle(info.pid)
    return info


async def test_a_restarted_controller_adopts_its_replica_and_sees_it_die(backend, tmp_path):
    info = await start(backend, spec("svc/0", SLEEPER, tmp_path))
    restarted = LocalBackend(backend.instance)  # a new Vigil with the same instance name
    adopted = restarted.adopt(SVC0, info.pid, info.create_time)
    assert adopted is not None
    assert adopted.adopted
    assert (adopted.pid, adopted.pgid, adopted.create_time) == (
        info.pid,
        info.pgid,
        info.create_time,
    )
    assert restarted.alive(adopted)
    waiter = asyncio.create_task(restarted.wait(adopted))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    restarted.kill(adopted, signal.SIGKILL)
    assert await asyncio.wait_for(waiter, PROMPTLY) is None  # not its child: code unknown


async def test_an_adopted_orphan_can_be_waited_for_and_stopped(instance):
    orphan = stray(instance, "svc/0")  # not started by this backend, as after a restart
    try:
        backend = LocalBackend(instance)
        adopted = backend.adopt(SVC0, orphan.pid, psutil.Process(orphan.pid).create_time())
        assert adopted is not None
        waiter = asyncio.create_task(backend.wait(adopted))
        assert await asyncio.wait_for(backend.stop(adopted, grace=PROMPTLY), PROMPTLY) is None
        assert await asyncio.wait_for(waiter, PROMPTLY) is None
        assert not backend.alive(adopted)
    finally:
        orphan.kill()
        orphan.wait()


async def test_adopting_its_own_child_keeps_the_return_code(backend, tmp_path):
    info = await start(backend, spec("svc/0", SLEEPER, tmp_path))
    assert backend.adopt(SVC0, info.pid, info.create_time) == info
    backend.kill(info, signal.SIGTERM)
    assert await asyncio.wait_for(backend.wait(info), PROMPTLY) == -signal.SIGTERM


async def test_adopt_refuses_a_pid_whose_create_time_differs(backend, tmp_path):
    info = await start(backend, spec("svc/0", SLEEPER, tmp_path))
    restarted = LocalBackend(backend.instance)
    assert restarted.adopt(SVC0, info.pid, info.create_time - 60) is None
    assert restarted.adopt(SVC0, info.pid, info.create_time + 60) is None


async def test_adopt_refuses_another_replica_another_instance_or_no_markers(backend, tmp_path):
    info = await start(backend, spec("svc/0", SLEEPER, tmp_path))
    assert (
        LocalBackend(backend.instance).adopt(ReplicaId("svc/1"), info.pid, info.create_time) is None
    )
    assert LocalBackend("someone-else").adopt(SVC0, info.pid, info.create_time) is None
    unmarked = stray(None)
    try:
        create_time = psutil.Process(unmarked.pid).create_time()
        assert LocalBackend(backend.instance).adopt(SVC0, unmarked.pid, create_time) is None
    finally:
        unmarked.kill()
        unmarked.wait()


async def test_adopt_refuses_a_process_that_exited(backend, tmp_path):
    info = await backend.start(spec("svc/0", "pass", tmp_path))
    await backend.wait(info)
    assert LocalBackend(backend.instance).adopt(SVC0, info.pid, info.create_time) is None


async def test_sweep_kills_our_unknown_processes_but_not_kept_ones_nor_another_instances(
    backend, tmp_path
):
    kept = await start(backend, spec("svc/0", SLEEPER, tmp_path))
    duplicate = await start(backend, spec("svc/0", SLEEPER, tmp_path))  # spawned, never recorded
    leftover = stray(backend.instance, "svc/1")  # left by a previous run
    foreign = stray("another-instance", "svc/0")
    try:
        swept = LocalBackend(backend.instance).sweep(keep=[kept])
        assert swept == sorted([duplicate.pid, leftover.pid])
        await until_dead(swept)
        assert await asyncio.wait_for(backend.wait(duplicate), PROMPTLY) == -signal.SIGKILL
        assert backend.alive(kept)
        assert running(foreign.pid)
    finally:
        for proc in (leftover, foreign):
            proc.kill()
            proc.wait()


async def test_sweep_spares_the_workers_of_a_kept_replica(backend, tmp_path):
    code = (
        "import subprocess, time; p = subprocess.Popen(['sleep', '60']); "
        "print('worker', p.pid, flush=True); time.sleep(60)"
    )
    s = spec("svc/0", code, tmp_path)
    kept = await backend.start(s)
    await _until_marked(backend.instance, 2)
    assert LocalBackend(backend.instance).sweep(keep=[kept]) == []
    assert len(marked(backend.instance)) == 2


async def test_sweep_with_nothing_to_do_returns_nothing(instance):
    assert LocalBackend(instance).sweep(keep=[]) == []


async def test_sweep_kills_the_whole_group_of_a_stray(backend, tmp_path):
    code = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    info = await start(backend, spec("svc/3", code, tmp_path))
    await _until_marked(backend.instance, 2)
    members = marked(backend.instance)
    swept = LocalBackend(backend.instance).sweep(keep=[])
    assert sorted(members) == swept
    assert info.pid in swept
    await until_dead(members)


async def _until_marked(instance: str, count: int) -> None:
    await eventually(lambda: len(marked(instance)) >= count)
