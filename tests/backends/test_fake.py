"""FakeBackend: the in-memory process backend the engine's unit tests run against."""

from __future__ import annotations

import asyncio
import signal

import pytest

from vigil.backends import ProcessBackend, ProcessSpec
from vigil.backends.fake import FakeBackend
from vigil.errors import BackendError
from vigil.model import ReplicaId

SVC0 = ReplicaId("svc/0")
SVC1 = ReplicaId("svc/1")


def _spec(replica: ReplicaId = SVC0) -> ProcessSpec:
    return ProcessSpec(replica, ["model-server", "--port", "8000"])


def test_it_implements_the_process_backend_protocol():
    backend: ProcessBackend = FakeBackend()
    assert backend is not None


async def test_start_records_the_spec_and_hands_out_distinct_pids():
    backend = FakeBackend()
    a = await backend.start(_spec(SVC0))
    b = await backend.start(_spec(SVC1))
    assert backend.started == [_spec(SVC0), _spec(SVC1)]
    assert a.pid != b.pid
    assert a.pgid == a.pid
    assert backend.alive(a)
    assert backend.running() == [a, b]


async def test_crash_releases_every_waiter_with_the_return_code():
    backend = FakeBackend()
    info = await backend.start(_spec())
    waiters = [asyncio.create_task(backend.wait(info)) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    backend.crash(SVC0, 137)
    assert await asyncio.gather(*waiters) == [137, 137]
    assert not backend.alive(info)
    assert await backend.wait(info) == 137  # already dead: at once


async def test_crash_by_pid_targets_that_process():
    backend = FakeBackend()
    old = await backend.start(_spec())
    new = await backend.start(_spec())
    backend.crash(old.pid, 1)
    assert not backend.alive(old)
    assert backend.alive(new)
    backend.crash(SVC0)  # by replica: the newest one
    assert not backend.alive(new)


async def test_stop_ends_the_process_with_sigterm():
    backend = FakeBackend()
    info = await backend.start(_spec())
    assert await backend.stop(info, grace=10) == -signal.SIGTERM
    assert backend.stops == [(info, 10)]
    assert (info.pid, signal.SIGTERM) in backend.kills
    assert (info.pid, signal.SIGKILL) not in backend.kills


async def test_stop_of_a_hung_process_escalates_to_sigkill_without_sleeping():
    backend = FakeBackend()
    info = await backend.start(_spec())
    backend.hang(SVC0)
    backend.kill(info, signal.SIGTERM)
    assert backend.alive(info)  # a hung process ignores SIGTERM
    assert await asyncio.wait_for(backend.stop(info, grace=3600), 1) == -signal.SIGKILL
    assert backend.kills[-1] == (info.pid, signal.SIGKILL)


async def test_signals_other_than_terminating_ones_are_only_recorded():
    backend = FakeBackend()
    info = await backend.start(_spec())
    backend.kill(info, signal.SIGUSR1)
    assert backend.alive(info)
    assert backend.process(info.pid).signals == [signal.SIGUSR1]


async def test_a_failed_start_raises_the_configured_error_once():
    backend = FakeBackend()
    backend.fail_next_start()
    backend.fail_next_start(OSError("boom"))
    with pytest.raises(BackendError):
        await backend.start(_spec())
    with pytest.raises(OSError, match="boom"):
        await backend.start(_spec())
    info = await backend.start(_spec())
    assert backend.alive(info)
    assert len(backend.started) == 3
    assert backend.running() == [info]


async def test_adopt_takes_over_an_orphan_of_this_instance_only():
    backend = FakeBackend("prod")
    ours = backend.add_orphan(SVC0)
    theirs = backend.add_orphan(SVC1, instance="staging")
    adopted = backend.adopt(SVC0, ours.pid, ours.create_time)
    assert adopted is not None
    assert adopted.adopted
    assert backend.adopt(SVC0, ours.pid, ours.create_time + 1) is None
    assert backend.adopt(SVC1, ours.pid, ours.create_time) is None
    assert backend.adopt(SVC1, theirs.pid, theirs.create_time) is None
    waiter = asyncio.create_task(backend.wait(adopted))
    await asyncio.sleep(0)
    backend.crash(ours.pid, 3)
    assert await waiter is None  # adopted: not our child, the code is unknown


async def test_sweep_kills_what_is_not_kept_and_belongs_to_this_instance():
    backend = FakeBackend("prod")
    kept = await backend.start(_spec(SVC0))
    duplicate = await backend.start(_spec(SVC0))
    orphan = backend.add_orphan(SVC1)
    foreign = backend.add_orphan(SVC1, instance="staging")
    assert backend.sweep([kept]) == [duplicate.pid, orphan.pid]
    assert backend.sweeps == [[duplicate.pid, orphan.pid]]
    assert backend.alive(kept)
    assert backend.alive(foreign)
    assert await backend.wait(duplicate) == -signal.SIGKILL


async def test_rotate_logs_is_recorded_and_answers_as_configured():
    backend = FakeBackend()
    assert not backend.rotate_logs(_spec())
    backend.rotate_result = True
    assert backend.rotate_logs(_spec())
    assert backend.rotations == [_spec(), _spec()]


async def test_unknown_processes_are_dead_and_safe_to_signal():
    backend = FakeBackend()
    info = await backend.start(_spec())
    stale = info.__class__(info.replica, info.pid, info.pgid, info.create_time + 5)
    backend.kill(stale, signal.SIGKILL)
    assert backend.alive(info)
    assert not backend.alive(stale)
    assert await backend.wait(stale) is None
    with pytest.raises(KeyError):
        backend.crash(ReplicaId("nope/0"))


async def test_create_times_follow_the_injected_clock():
    backend = FakeBackend(clock=lambda: 1000.0)
    info = await backend.start(_spec())
    assert 1000.0 <= info.create_time < 1001.0 + info.pid
