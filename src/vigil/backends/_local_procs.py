"""psutil helpers of :mod:`vigil.backends.local`: recognise and signal Vigil's own processes.

A process belongs to a Vigil instance when its environment carries ``VIGIL_INSTANCE=<instance>``
(and ``VIGIL_REPLICA=<replica id>``); the local backend sets both at spawn and every descendant
inherits them. A pid alone never identifies a process: pids are reused, so every check also
compares the OS's process start time (``create_time``) with the one recorded at spawn.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import psutil

from vigil.errors import BackendError

INSTANCE_ENV = "VIGIL_INSTANCE"
REPLICA_ENV = "VIGIL_REPLICA"

# psutil derives create_time from the boot time in /proc/stat, which the kernel recomputes from
# the wall clock: an NTP step moves every create_time by the step. A later Vigil comparing with a
# stored value must tolerate that, or it would refuse (and sweep-kill) its own healthy replicas.
# One second is far below what a pid reuse needs (the pid space to wrap around in that second),
# and adopt() additionally checks the environment markers.
CREATE_TIME_TOLERANCE = 1.0

_GONE = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def same_time(a: float, b: float) -> bool:
    return abs(a - b) <= CREATE_TIME_TOLERANCE


def is_present(pid: int, create_time: float) -> bool:
    """True while ``pid`` is the process started at ``create_time``, zombie included."""
    try:
        return same_time(psutil.Process(pid).create_time(), create_time)
    except psutil.Error:
        return False


def is_running(pid: int, create_time: float) -> bool:
    """True while ``pid`` is the process started at ``create_time`` and has not exited."""
    try:
        proc = psutil.Process(pid)
        return same_time(proc.create_time(), create_time) and proc.status() not in _GONE
    except psutil.Error:
        return False


def markers(proc: psutil.Process) -> tuple[str | None, str | None]:
    """``(instance, replica)`` from the process environment; ``(None, None)`` if unreadable."""
    try:
        env = proc.environ()
    except (psutil.Error, OSError):  # AccessDenied, NoSuchProcess, ZombieProcess, kernel threads
        return None, None
    return env.get(INSTANCE_ENV), env.get(REPLICA_ENV)


def marked(instance: str) -> Iterator[psutil.Process]:
    """Every live process whose environment says it belongs to ``instance``.

    Vigil itself and its ancestors are skipped even if they carry the marker (a Vigil started from
    a shell that still has ``VIGIL_INSTANCE`` set must not find itself).
    """
    me = psutil.Process()
    skip = {me.pid, *(p.pid for p in _parents(me))}
    for proc in psutil.process_iter():
        if proc.pid not in skip and markers(proc)[0] == instance:
            yield proc


def _parents(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.parents()
    except psutil.Error:
        return []


def descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def signal_group(pgid: int, signum: int) -> None:
    """``killpg`` that ignores a vanished group and never hits Vigil's own group or init."""
    if pgid <= 1 or pgid == os.getpgrp():
        raise BackendError(f"refusing to signal process group {pgid}: it is Vigil's own or init's")
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise BackendError(
            f"not allowed to send {signal_name(signum)} to process group {pgid}"
        ) from exc


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def proc_running(proc: psutil.Process) -> bool:
    """True while ``proc`` (its pid not reused since) has not exited."""
    try:
        return proc.is_running() and proc.status() not in _GONE
    except psutil.Error:
        return False


def signal_proc(proc: psutil.Process, signum: int) -> None:
    """Signal ``proc``, ignoring one that is gone (psutil refuses a pid reused since)."""
    with contextlib.suppress(psutil.Error):
        proc.send_signal(signum)


def kill_pid(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)
