"""An in-memory :class:`~vigil.backends.ProcessBackend` for unit tests of the engine.

:class:`FakeBackend` starts no process and never sleeps: "processes" are records with fake pids,
tests make them exit with :meth:`~FakeBackend.crash` or stop answering SIGTERM with
:meth:`~FakeBackend.hang`, and every call is recorded (``started``, ``stops``, ``kills``...) for
assertions. Used by the tests of the supervisor in :mod:`vigil.remediation`; never in production.

Signals follow the default dispositions: SIGKILL always ends a process, SIGTERM/SIGINT/SIGHUP/
SIGQUIT end it unless it hangs, anything else is only recorded. :meth:`~FakeBackend.stop` of a hung
process escalates to SIGKILL at once instead of sleeping through the grace period, so tests stay
deterministic; the escalation shows in ``kills``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vigil.backends._protocol import ProcessInfo, ProcessSpec, Signaller, send_signals
from vigil.errors import BackendError
from vigil.model import ReplicaId

__all__ = ["FakeBackend", "FakeProcess"]

FIRST_PID = 1000  # far from 0/1 so a fake pid is never mistaken for "no pid" or init

_TERMINATING = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT})


@dataclass(slots=True)
class FakeProcess:
    """One fake process; ``returncode`` is set once it exited."""

    info: ProcessInfo
    spec: ProcessSpec | None  # None for an orphan made by ``add_orphan``
    instance: str  # the Vigil instance whose marker it carries
    hung: bool = False
    exited: bool = False
    returncode: int | None = None
    signals: list[int] = field(default_factory=list)
    waiters: list[asyncio.Future[int | None]] = field(default_factory=list)

    def exit(self, returncode: int | None) -> None:
        if self.exited:
            return
        self.exited, self.returncode = True, returncode
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(returncode)
        self.waiters.clear()


class FakeBackend:
    """Deterministic in-memory process backend; see the module docstring."""

    def __init__(self, instance: str = "fake", *, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.instance = instance
        self._clock = clock
        self._next_pid = FIRST_PID
        self.processes: dict[int, FakeProcess] = {}
        self.started: list[ProcessSpec] = []
        self.stops: list[tuple[ProcessInfo, float]] = []
        self.kills: list[tuple[int, int]] = []  # (pid, signum), including stop()'s own signals
        self.sweeps: list[list[int]] = []  # pids killed by each sweep() call
        self.rotations: list[ProcessSpec] = []
        self.rotate_result = False  # what rotate_logs() answers
        self.closed = False  # set by close()
        self._start_failures: list[BaseException] = []
        self._stop_failures: list[BaseException] = []

    # -- test controls ---------------------------------------------------------------------------

    def fail_next_start(self, exc: BaseException | None = None) -> None:
        """Make the next ``start()`` raise ``exc`` (default: a BackendError). Calls queue up."""
        self._start_failures.append(exc or BackendError("fake start failure"))

    def fail_next_stop(self, exc: BaseException | None = None) -> None:
        """Make the next ``stop()`` raise ``exc`` (default: a BackendError, as LocalBackend's
        for a process still alive after SIGKILL); the process keeps running. Calls queue up."""
        self._stop_failures.append(exc or BackendError("fake process survives SIGKILL"))

    def crash(self, target: ReplicaId | str | int, returncode: int | None = 1) -> ProcessInfo:
        """Make the process exit with ``returncode`` (negative: killed by that signal)."""
        proc = self.process(target)
        proc.exit(returncode)
        return proc.info

    def hang(self, target: ReplicaId | str | int, hung: bool = True) -> ProcessInfo:
        """Make the process stop responding: it ignores SIGTERM, only SIGKILL ends it."""
        proc = self.process(target)
        proc.hung = hung
        return proc.info

    def add_orphan(self, replica: ReplicaId, instance: str | None = None) -> ProcessInfo:
        """A running process left by an earlier Vigil run (for adopt and sweep tests)."""
        info = self._new_info(replica)
        self.processes[info.pid] = FakeProcess(info, None, instance or self.instance)
        return info

    def process(self, target: ReplicaId | str | int) -> FakeProcess:
        """The process with that pid, or the newest process of that replica."""
        if isinstance(target, int):
            if target in self.processes:
                return self.processes[target]
        else:
            for proc in reversed(self.processes.values()):
                if proc.info.replica == target:
                    return proc
        raise KeyError(f"no fake process {target!r}")

    def running(self) -> list[ProcessInfo]:
        return [p.info for p in self.processes.values() if not p.exited]

    # -- ProcessBackend ---------------------------------------------------------------------------

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        self.started.append(spec)
        if self._start_failures:
            raise self._start_failures.pop(0)
        info = self._new_info(spec.replica)
        self.processes[info.pid] = FakeProcess(info, spec, self.instance)
        return info

    async def wait(self, info: ProcessInfo) -> int | None:
        proc = self._find(info)
        if proc is None:
            return None
        if not proc.exited:
            waiter = asyncio.get_running_loop().create_future()
            proc.waiters.append(waiter)
            await asyncio.shield(waiter)
        return None if info.adopted else proc.returncode  # not our child: code unknown

    async def stop(
        self, info: ProcessInfo, grace: float, *, send: Signaller | None = None
    ) -> int | None:
        self.stops.append((info, grace))
        if self._stop_failures:
            raise self._stop_failures.pop(0)
        await send_signals(self.kill, info, (signal.SIGTERM, signal.SIGCONT), send)
        proc = self._find(info)
        if proc is not None and not proc.exited:
            # hung: the grace period ran out
            await send_signals(self.kill, info, (signal.SIGKILL,), send)
        return await self.wait(info)

    def kill(self, info: ProcessInfo, signum: int) -> None:
        self.kills.append((info.pid, signum))
        proc = self._find(info)
        if proc is None or proc.exited:
            return
        proc.signals.append(signum)
        if signum == signal.SIGKILL or (signum in _TERMINATING and not proc.hung):
            proc.exit(-signum)

    def alive(self, info: ProcessInfo) -> bool:
        proc = self._find(info)
        return proc is not None and not proc.exited

    def adopt(self, replica: ReplicaId, pid: int, create_time: float) -> ProcessInfo | None:
        proc = self.processes.get(pid)
        if (
            proc is None
            or proc.exited
            or proc.info.replica != replica
            or proc.info.create_time != create_time
            or proc.instance != self.instance
        ):
            return None
        adopted = ProcessInfo(replica, pid, proc.info.pgid, create_time, adopted=True)
        return adopted

    def sweep(self, keep: Sequence[ProcessInfo]) -> list[int]:
        kept = {i.pid for i in keep}
        killed = [
            pid
            for pid, proc in self.processes.items()
            if not proc.exited and pid not in kept and proc.instance == self.instance
        ]
        for pid in killed:
            self.kill(self.processes[pid].info, signal.SIGKILL)
        self.sweeps.append(killed)
        return killed

    def rotate_logs(self, spec: ProcessSpec) -> bool:
        self.rotations.append(spec)
        return self.rotate_result

    def close(self) -> None:
        self.closed = True

    # -- internals -------------------------------------------------------------------------------

    def _new_info(self, replica: ReplicaId) -> ProcessInfo:
        pid = self._next_pid
        self._next_pid += 1
        return ProcessInfo(replica, pid, pid, self._clock() + pid * 1e-3)

    def _find(self, info: ProcessInfo) -> FakeProcess | None:
        proc = self.processes.get(info.pid)
        return proc if proc is not None and proc.info.create_time == info.create_time else None
