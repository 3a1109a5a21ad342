"""LocalBackend with real processes: start, wait, stop, kill, logs, errors."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
from pathlib import Path

import psutil
import pytest
import uvloop

from vigil.backends import ProcessSpec
from vigil.backends.local import LocalBackend
from vigil.errors import BackendError
from vigil.model import ReplicaId

from ._helpers import (
    PROMPTLY,
    SLEEPER,
    kill_everything_of,
    marked,
    read,
    running,
    spec,
    until_dead,
    wait_for_text,
)

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


async def test_a_process_that_exits_reports_its_exit_code(backend, tmp_path):
    info = await backend.start(spec("svc/0", "raise SystemExit(3)", tmp_path))
    assert await asyncio.wait_for(backend.wait(info), PROMPTLY) == 3
    assert not backend.alive(info)


async def test_a_process_killed_by_a_signal_reports_the_negative_signal_number(backend, tmp_path):
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    backend.kill(info, signal.SIGKILL)
    assert await asyncio.wait_for(backend.wait(info), PROMPTLY) == -signal.SIGKILL


async def test_start_reports_pid_group_and_the_os_create_time(backend, tmp_path):
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    assert info.pgid == info.pid == os.getpgid(info.pid)
    assert info.create_time == psutil.Process(info.pid).create_time()
    assert not info.adopted
    assert backend.alive(info)


async def test_output_and_errors_are_appended_to_the_log_file(backend, tmp_path):
    code = "import sys; print('to stdout'); print('to stderr', file=sys.stderr)"
    s = spec("svc/0", code, tmp_path)  # its directory does not exist yet
    for _ in range(2):
        assert await backend.wait(await backend.start(s)) == 0
    content = read(s.log_path)
    assert content.count("to stdout") == 2
    assert content.count("to stderr") == 2


async def test_env_and_cwd_are_applied_along_with_the_instance_markers(backend, tmp_path):
    code = (
        "import os; print(os.getcwd(), os.environ['GREETING'], "
        "os.environ['VIGIL_INSTANCE'], os.environ['VIGIL_REPLICA'])"
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    s = spec("svc/2", code, tmp_path, env={"GREETING": "hello"}, cwd=str(workdir))
    assert await backend.wait(await backend.start(s)) == 0
    assert read(s.log_path).split() == [str(workdir), "hello", backend.instance, "svc/2"]


async def test_a_missing_binary_raises_backend_error_and_leaves_no_process(backend, tmp_path):
    children = psutil.Process().children()
    missing = str(tmp_path / "no-such-binary")
    with pytest.raises(BackendError, match=r"svc/0.*no-such-binary"):
        await backend.start(ProcessSpec(ReplicaId("svc/0"), [missing]))
    assert psutil.Process().children() == children
    assert marked(backend.instance) == []


async def test_a_missing_working_directory_raises_backend_error_naming_it(backend, tmp_path):
    s = spec("svc/0", SLEEPER, tmp_path, cwd=str(tmp_path / "gone"))
    with pytest.raises(BackendError, match=r"svc/0.*working directory .*gone"):
        await backend.start(s)
    assert marked(backend.instance) == []


async def test_a_non_executable_file_raises_backend_error(backend, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(BackendError, match=r"script\.sh.*[Pp]ermission"):
        await backend.start(ProcessSpec(ReplicaId("svc/0"), [str(script)]))


async def test_an_empty_command_raises_backend_error(backend):
    with pytest.raises(BackendError, match="empty command"):
        await backend.start(ProcessSpec(ReplicaId("svc/0"), []))


async def test_stop_ends_a_process_with_sigterm_and_returns_its_code(backend, tmp_path):
    s = spec("svc/0", SLEEPER, tmp_path)
    info = await backend.start(s)
    await wait_for_text(s.log_path, "ready")
    assert await asyncio.wait_for(backend.stop(info, grace=30), PROMPTLY) == -signal.SIGTERM


async def test_stop_kills_the_whole_process_group_including_grandchildren(backend, tmp_path):
    code = (
        "import subprocess, time; p = subprocess.Popen(['sleep', '60']); "
        "print('grandchild', p.pid, flush=True); time.sleep(60)"
    )
    s = spec("svc/0", code, tmp_path)
    info = await backend.start(s)
    grandchild = int((await wait_for_text(s.log_path, "grandchild")).split()[1])
    assert running(grandchild)
    await backend.stop(info, grace=PROMPTLY)
    await until_dead([grandchild])


async def test_stop_kills_a_process_that_ignores_sigterm_after_the_grace_period(backend, tmp_path):
    s = spec("svc/0", IGNORES_SIGTERM, tmp_path)
    info = await backend.start(s)
    await wait_for_text(s.log_path, "ready")
    code = await asyncio.wait_for(backend.stop(info, grace=0.2), PROMPTLY)
    assert code == -signal.SIGKILL


async def test_stop_kills_a_group_member_that_outlives_its_leader(backend, tmp_path):
    code = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}]); "
        "print('worker', p.pid, flush=True); time.sleep(60)"
    )
    s = spec("svc/0", code, tmp_path)
    info = await backend.start(s)
    content = await wait_for_text(s.log_path, "ready")  # the worker ignores SIGTERM from now on
    worker = int(content.split()[1])
    assert await backend.stop(info, grace=PROMPTLY) == -signal.SIGTERM
    await until_dead([worker])


def slow_worker_replica(done: Path, *, crash: bool) -> str:
    """A leader that forks a worker (same group) which needs a moment after SIGTERM to finish
    cleanly (writes ``done``); the leader dies at once on SIGTERM, or exits by itself (crash)."""
    return (
        "import os, signal, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    def bye(*_):\n"
        "        time.sleep(0.5)\n"
        f"        open({str(done)!r}, 'w').write('clean')\n"
        "        os._exit(0)\n"
        "    signal.signal(signal.SIGTERM, bye)\n"
        "    print('worker', os.getpid(), flush=True)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        f"if {crash!r}: sys.exit(1)\n"
        "time.sleep(60)\n"
    )


async def started_with_worker(backend, tmp_path, *, crash):
    """A replica of :func:`slow_worker_replica` started: its info, its worker's pid, its file."""
    done = tmp_path / "done"
    s = spec("svc/0", slow_worker_replica(done, crash=crash), tmp_path)
    info = await backend.start(s)
    worker = int((await wait_for_text(s.log_path, "worker")).split()[1])
    return info, worker, done


async def test_stop_gives_a_worker_the_grace_period_even_when_its_leader_exits_at_once(
    backend, tmp_path
):
    info, worker, done = await started_with_worker(backend, tmp_path, crash=False)
    assert await backend.stop(info, grace=PROMPTLY) == -signal.SIGTERM
    await until_dead([worker])
    assert done.read_text() == "clean"  # not SIGKILLed the moment the leader was gone


async def test_stopping_a_crashed_replica_sends_its_surviving_worker_sigterm_first(
    backend, tmp_path
):
    info, worker, done = await started_with_worker(backend, tmp_path, crash=True)
    assert await asyncio.wait_for(backend.wait(info), PROMPTLY) == 1
    assert running(worker)
    await backend.stop(info, grace=PROMPTLY)
    await until_dead([worker])
    assert done.read_text() == "clean"


async def test_stop_ends_a_sigstopped_process(backend, tmp_path):
    s = spec("svc/0", SLEEPER, tmp_path)
    info = await backend.start(s)
    await wait_for_text(s.log_path, "ready")
    backend.kill(info, signal.SIGSTOP)
    await asyncio.sleep(0.1)
    assert await asyncio.wait_for(backend.stop(info, grace=PROMPTLY), PROMPTLY) == -signal.SIGTERM


async def test_stop_of_a_process_that_already_exited_returns_its_code(backend, tmp_path):
    info = await backend.start(spec("svc/0", "raise SystemExit(4)", tmp_path))
    await backend.wait(info)
    assert await asyncio.wait_for(backend.stop(info, grace=30), PROMPTLY) == 4


async def test_waiting_on_an_already_dead_process_returns_at_once(backend, tmp_path):
    info = await backend.start(spec("svc/0", "pass", tmp_path))
    assert await backend.wait(info) == 0
    assert await asyncio.wait_for(backend.wait(info), 0.5) == 0
    assert await asyncio.wait_for(LocalBackend(backend.instance).wait(info), 0.5) is None


async def test_wait_returns_promptly_after_the_process_is_killed(backend, tmp_path):
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    waiter = asyncio.create_task(backend.wait(info))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    os.kill(info.pid, signal.SIGKILL)
    assert await asyncio.wait_for(waiter, PROMPTLY) == -signal.SIGKILL


async def test_several_waiters_are_all_released_and_a_cancelled_one_does_not_matter(
    backend, tmp_path
):
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    waiters = [asyncio.create_task(backend.wait(info)) for _ in range(3)]
    await asyncio.sleep(0.05)
    waiters[0].cancel()
    backend.kill(info, signal.SIGTERM)
    results = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), PROMPTLY)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [-signal.SIGTERM, -signal.SIGTERM]


async def test_kill_and_alive_are_safe_on_a_process_that_is_gone(backend, tmp_path):
    info = await backend.start(spec("svc/0", "pass", tmp_path))
    await backend.wait(info)
    backend.kill(info, signal.SIGTERM)
    assert not backend.alive(info)


async def test_a_reused_pid_is_never_signalled(backend, tmp_path):
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    impostor = info.__class__(info.replica, info.pid, info.pgid, info.create_time - 100)
    backend.kill(impostor, signal.SIGKILL)
    assert not backend.alive(impostor)
    assert backend.alive(info)


async def test_wait_falls_back_to_polling_without_pidfd(backend, tmp_path, monkeypatch):
    def no_pidfd(pid: int, flags: int = 0) -> int:
        raise OSError(errno.ENOSYS, "pidfd_open not supported")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    assert backend.alive(info)
    backend.kill(info, signal.SIGKILL)
    assert await asyncio.wait_for(backend.wait(info), PROMPTLY) == -signal.SIGKILL


def test_start_wait_and_stop_work_under_uvloop(instance, tmp_path):
    async def scenario() -> tuple[int | None, int | None]:
        backend = LocalBackend(instance)
        try:
            done = await backend.start(spec("svc/0", "raise SystemExit(5)", tmp_path))
            s = spec("svc/1", IGNORES_SIGTERM, tmp_path)
            hung = await backend.start(s)
            await wait_for_text(s.log_path, "ready")
            return await backend.wait(done), await backend.stop(hung, grace=0.2)
        finally:
            await kill_everything_of(instance)
            backend.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(scenario()) == (5, -signal.SIGKILL)


async def test_close_leaves_running_children_running(backend, tmp_path):
    info = await backend.start(spec("svc/0", SLEEPER, tmp_path))
    waiter = asyncio.create_task(backend.wait(info))
    await asyncio.sleep(0.05)
    backend.close()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert backend.alive(info)
