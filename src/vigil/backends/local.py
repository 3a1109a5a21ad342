"""The local process backend: replicas as real child processes on this machine.

:class:`LocalBackend` implements :class:`~vigil.backends.ProcessBackend`; the supervisor in
:mod:`vigil.remediation` is its only caller. Each replica runs in its own session and process group
so a stop reaches its whole tree, with stdout/stderr appended to its log file by the child itself
(it keeps logging if Vigil dies). ``VIGIL_INSTANCE``/``VIGIL_REPLICA`` in its environment let a
restarted Vigil :meth:`~LocalBackend.adopt` its replicas and :meth:`~LocalBackend.sweep` strays.

Exit is watched with a pidfd registered on the event loop (a polling fallback covers kernels
without ``pidfd_open``); own children are reaped as soon as they exit, so no zombie lingers and
the return code is kept for every waiter. Works with the default asyncio loop and with uvloop,
as long as nothing else in the process reaps *any* child (``waitpid(-1)``, as asyncio's deprecated
Fast/SafeChildWatcher do): the default ThreadedChildWatcher and uvloop only reap their own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from vigil.backends import _local_procs as procs
from vigil.backends._local_spawn import spawn
from vigil.backends._logrotate import rotate
from vigil.backends._protocol import ProcessInfo, ProcessSpec, Signaller, send_signals
from vigil.errors import BackendError
from vigil.model import ReplicaId

__all__ = ["LocalBackend"]

log = logging.getLogger(__name__)

# Only used where pidfd_open is missing (kernel < 5.3, seccomp): 50 ms keeps "exit noticed well
# under 100 ms" while costing one /proc read per watched process per tick.
POLL_INTERVAL = 0.05

# SIGKILL cannot be ignored, but a process in uninterruptible sleep (a hung GPU driver call, a
# dead NFS mount) only dies when the kernel call returns. Past this, stop() reports it, not hangs.
KILL_TIMEOUT = 10.0

# Return codes are remembered so a wait() arriving after the exit still gets the real code. Bounded
# because a crash-looping replica would otherwise grow the map for as long as Vigil runs.
REMEMBERED_EXITS = 1024

_Key = tuple[int, float]  # (pid, create_time): a pid alone may be reused


@dataclass(slots=True)
class _Child:
    info: ProcessInfo
    popen: subprocess.Popen[bytes]


@dataclass(slots=True)
class _Watch:
    future: asyncio.Future[int | None]
    loop: asyncio.AbstractEventLoop
    fd: int | None = None  # the pidfd, when watched through one
    poll: asyncio.TimerHandle | None = None  # else the next polling check


class LocalBackend:
    """Starts and supervises replicas as process groups on this machine, for Vigil ``instance``."""

    def __init__(self, instance: str, *, clock: Callable[[], float] = time.time) -> None:
        self.instance = instance
        self._clock = clock
        self._children: dict[int, _Child] = {}  # own children not reaped yet, by pid
        self._watches: dict[_Key, _Watch] = {}
        self._exits: OrderedDict[_Key, int | None] = OrderedDict()

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        popen = spawn(spec, self.instance)
        try:
            create_time = psutil.Process(popen.pid).create_time()
        except psutil.Error as exc:  # unexpected: even an unreaped zombie has a create time
            popen.kill()
            popen.wait()
            raise BackendError(f"replica {spec.replica}: cannot read pid {popen.pid}") from exc
        # start_new_session: the child called setsid() before exec, so it leads its own group.
        info = ProcessInfo(spec.replica, popen.pid, popen.pid, create_time)
        self._children[popen.pid] = _Child(info, popen)
        self._watch(info)
        log.info("started replica %s: pid %d, %s", spec.replica, popen.pid, spec.argv[0])
        return info

    async def wait(self, info: ProcessInfo) -> int | None:
        key = (info.pid, info.create_time)
        if key in self._exits:
            return self._exits[key]
        # shield: a cancelled waiter must not cancel the watch the other waiters share
        return await asyncio.shield(self._watch(info))

    async def stop(
        self, info: ProcessInfo, grace: float, *, send: Signaller | None = None
    ) -> int | None:
        started = self._clock()
        deadline = time.monotonic() + max(grace, 0.0)  # the whole group's, not just the leader's
        exited_before = (info.pid, info.create_time) in self._exits  # only its group is left
        # A SIGSTOPped process keeps the SIGTERM pending until continued; SIGKILL needs no help.
        await send_signals(self.kill, info, (signal.SIGTERM, signal.SIGCONT), send)
        exited = self._watch(info)
        escalated = False
        try:
            code = await asyncio.wait_for(asyncio.shield(exited), timeout=max(grace, 0.0))
        except TimeoutError:
            escalated = True
            await send_signals(self.kill, info, (signal.SIGKILL,), send)
            try:
                code = await asyncio.wait_for(asyncio.shield(exited), timeout=KILL_TIMEOUT)
            except TimeoutError:
                raise BackendError(
                    f"replica {info.replica}: pid {info.pid} still alive {KILL_TIMEOUT:g} s "
                    "after SIGKILL (stuck in uninterruptible sleep?)"
                ) from None
        await self._stop_leftovers(info, deadline, term=exited_before)
        if exited_before:
            log.debug("cleared what was left of replica %s (pid %d)", info.replica, info.pid)
            return code
        elapsed = self._clock() - started
        how = "SIGKILL after grace" if escalated else "SIGTERM"
        log.info(
            "stopped replica %s (pid %d) by %s in %.1f s", info.replica, info.pid, how, elapsed
        )
        return code

    def kill(self, info: ProcessInfo, signum: int) -> None:
        # An unreaped own child still pins its pid and group; anything else must prove its identity.
        key = (info.pid, info.create_time)
        if self._own(key) is not None or procs.is_present(info.pid, info.create_time):
            procs.signal_group(info.pgid, signum)

    def alive(self, info: ProcessInfo) -> bool:
        return procs.is_running(info.pid, info.create_time)

    def adopt(self, replica: ReplicaId, pid: int, create_time: float) -> ProcessInfo | None:
        child = self._children.get(pid)
        if child is not None:  # our own child: keep watching it as one, return code and all
            ok = child.info.replica == replica and procs.same_time(
                child.info.create_time, create_time
            )
            return child.info if ok else None
        try:
            proc = psutil.Process(pid)
            if not procs.same_time(proc.create_time(), create_time) or not procs.is_running(
                pid, create_time
            ):
                return None
        except psutil.Error:
            return None
        if procs.markers(proc) != (self.instance, replica):
            return None
        pgid = procs.pgid_of(pid)
        if pgid is None:
            return None
        log.info("adopted replica %s: pid %d", replica, pid)
        return ProcessInfo(replica, pid, pgid, create_time, adopted=True)

    def sweep(self, keep: Sequence[ProcessInfo]) -> list[int]:
        kept = {i.pid for i in keep if procs.is_present(i.pid, i.create_time)}
        kept_groups = {i.pgid for i in keep if i.pid in kept}
        for pid in list(kept):
            kept |= procs.descendants(pid)  # workers of a kept replica carry the marker too
        own_group = os.getpgrp()
        # Find them all before killing any: a process dying from its group's SIGKILL no longer
        # shows its environment, and would be missing from the answer.
        victims = [
            (proc.pid, pgid)
            for proc in procs.marked(self.instance)
            if proc.pid not in kept
            and (pgid := procs.pgid_of(proc.pid)) is not None
            and pgid not in kept_groups
        ]
        for pid, pgid in victims:
            # No SIGTERM grace: these are unrecorded duplicates nobody routes traffic to, and
            # sweep() is synchronous, so waiting here would stall the event loop.
            if pgid > 1 and pgid != own_group:
                procs.signal_group(pgid, signal.SIGKILL)
            procs.kill_pid(pid, signal.SIGKILL)
        killed = [pid for pid, _ in victims]
        if killed:
            log.warning("swept stray processes of instance %s: %s", self.instance, killed)
        return sorted(killed)

    def rotate_logs(self, spec: ProcessSpec) -> bool:
        if spec.log_path is None:
            return False
        try:
            return rotate(spec.log_path, spec.log_max_bytes, spec.log_keep)
        except OSError as exc:
            raise BackendError(
                f"replica {spec.replica}: cannot rotate {spec.log_path}: {exc}"
            ) from exc

    def close(self) -> None:
        """Stop watching: pending waits are cancelled, exited children reaped. Running children
        keep running on purpose; a later Vigil adopts them."""
        for key in list(self._watches):
            self._unwatch(key).future.cancel()
        for pid, child in list(self._children.items()):
            if child.popen.poll() is not None:
                del self._children[pid]

    # -- internals ------------------------------------------------------------------------------

    def _watch(self, info: ProcessInfo) -> asyncio.Future[int | None]:
        """The shared future resolved with the return code when ``info`` exits."""
        key = (info.pid, info.create_time)
        if key in self._watches:
            return self._watches[key].future
        loop = asyncio.get_running_loop()
        watch = _Watch(loop.create_future(), loop)
        if key in self._exits:
            watch.future.set_result(self._exits[key])
            return watch.future
        self._watches[key] = watch
        own = self._own(key) is not None
        try:
            watch.fd = os.pidfd_open(info.pid)
        except ProcessLookupError:
            self._finish(key)
            return watch.future
        except (AttributeError, OSError):  # no pidfd support: poll instead
            watch.poll = loop.call_later(POLL_INTERVAL, self._check, key)
            return watch.future
        # Not our child: the pid may have been reused before pidfd_open; once open, the pidfd pins
        # the process, so a matching create_time now proves it is the one we mean.
        if not own and not procs.is_present(info.pid, info.create_time):
            self._finish(key)
        else:
            loop.add_reader(watch.fd, self._check, key)
        return watch.future

    def _check(self, key: _Key) -> None:
        """pidfd readable (or poll tick): finish the watch if the process really exited."""
        pid, create_time = key
        child = self._own(key)
        if child is not None:
            exited = child.popen.poll() is not None  # reaps the zombie, keeps the return code
        else:
            exited = not procs.is_running(pid, create_time)
        watch = self._watches.get(key)
        if exited:
            self._finish(key)
        elif watch is not None:
            if watch.fd is not None:  # readable but not reapable (never seen): stop spinning, poll
                watch.loop.remove_reader(watch.fd)
                os.close(watch.fd)
                watch.fd = None
            watch.poll = watch.loop.call_later(POLL_INTERVAL, self._check, key)

    def _own(self, key: _Key) -> _Child | None:
        child = self._children.get(key[0])
        return child if child is not None and child.info.create_time == key[1] else None

    def _finish(self, key: _Key) -> None:
        child = self._own(key)
        code = None
        if child is not None:
            del self._children[key[0]]
            # Already reaped by _check, or reaps now; 0 if something else reaped it (ECHILD).
            code = child.popen.poll()
        self._exits[key] = code
        while len(self._exits) > REMEMBERED_EXITS:
            self._exits.popitem(last=False)
        if key in self._watches:
            future = self._unwatch(key).future
            if not future.done():
                future.set_result(code)

    def _unwatch(self, key: _Key) -> _Watch:
        watch = self._watches.pop(key)
        if watch.fd is not None:
            if not watch.loop.is_closed():
                watch.loop.remove_reader(watch.fd)
            os.close(watch.fd)
        if watch.poll is not None:
            watch.poll.cancel()
        return watch

    async def _stop_leftovers(self, info: ProcessInfo, deadline: float, *, term: bool) -> None:
        """What is left of the group once its leader is gone (workers it forked) has until
        ``deadline`` (the end of the stop's grace period) to exit, then gets SIGKILL. A leader
        that exits at once on SIGTERM no longer cuts its workers' shutdown short.

        They had the group's SIGTERM, unless the leader was gone before the stop began (``term``:
        it crashed), when each gets its own now (a second SIGTERM would make some servers quit
        without cleaning up). Members are recognised by group *and* marker, since the leader's pid
        is free; psutil's signalling refuses a pid reused meanwhile."""
        members = [p for p in procs.marked(self.instance) if procs.pgid_of(p.pid) == info.pgid]
        if term and time.monotonic() < deadline:
            for proc in members:
                procs.signal_proc(proc, signal.SIGTERM)
                procs.signal_proc(proc, signal.SIGCONT)
        while members and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(POLL_INTERVAL, left))
            members = [p for p in members if procs.proc_running(p)]
        for proc in members:
            procs.signal_proc(proc, signal.SIGKILL)
