"""Helpers for the backend tests: real python child processes and waiting on them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psutil

from vigil.backends import ProcessSpec
from vigil.backends import _local_procs as procs
from vigil.backends.local import LocalBackend
from vigil.model import ReplicaId

PROMPTLY = 5.0  # generous bound for "returns promptly": CI machines can be slow
SLEEPER = "import time; print('ready', flush=True); time.sleep(60)"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def spec(
    replica: str,
    code: str,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> ProcessSpec:
    """A replica running ``python -c code`` that logs to ``<tmp_path>/logs/<replica>.log``."""
    log_path = str(tmp_path / "logs" / f"{replica.replace('/', '-')}.log")
    return ProcessSpec(ReplicaId(replica), python(code), env=env or {}, cwd=cwd, log_path=log_path)


def read(path: str | None) -> str:
    assert path is not None
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return ""


async def eventually(predicate: Callable[[], bool]) -> None:
    """Wait (polling, at most PROMPTLY seconds) until ``predicate()`` is true."""
    async with asyncio.timeout(PROMPTLY):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)


async def wait_for_text(path: str | None, text: str) -> str:
    """Wait until the file contains ``text`` (a child says it is ready); return the content."""
    await eventually(lambda: text in read(path))
    return read(path)


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def until_dead(pids: list[int]) -> None:
    await eventually(lambda: not any(running(p) for p in pids))


def marked(instance: str) -> list[int]:
    return [p.pid for p in procs.marked(instance)]


def stray(instance: str | None, replica: str = "svc/9") -> subprocess.Popen[bytes]:
    """A sleeping process started behind the backend's back (a previous Vigil's leftover), with
    the markers of ``instance`` (none when None). The caller reaps it with ``.wait()``."""
    env: Mapping[str, str] = (
        {"VIGIL_INSTANCE": instance, "VIGIL_REPLICA": replica} if instance is not None else {}
    )
    proc = subprocess.Popen(
        python("import time; time.sleep(60)"),
        env={**os.environ, **env},
        start_new_session=True,
    )
    settle(proc.pid)
    return proc


def settle(pid: int) -> None:
    """Wait until a just-spawned process shows its environment.

    Popen (and so ``LocalBackend.start``) returns once exec is past its point of no return, a few
    microseconds before the kernel has set up the new environment, and /proc/<pid>/environ reads
    empty meanwhile. Real adopt/sweep calls come long after the spawn; tests doing them at once
    wait here first.
    """
    deadline = time.monotonic() + PROMPTLY
    while not psutil.Process(pid).environ():
        assert time.monotonic() < deadline, f"pid {pid} never showed its environment"
        time.sleep(0.001)


async def kill_everything_of(instance: str) -> None:
    """SIGKILL every process carrying the instance marker and wait until they are gone."""
    victims = marked(instance)
    LocalBackend(instance).sweep(keep=[])
    await until_dead(victims)
    await asyncio.sleep(0.05)  # let the backends' pidfd readers reap their children
