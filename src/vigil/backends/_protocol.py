"""The process backend interface: start, watch, signal and stop one replica's process tree.

Implemented by :mod:`vigil.backends.local` (real child processes) and :mod:`vigil.backends.fake`
(in-memory, for unit tests of the engine). Called only by the supervisor in
:mod:`vigil.remediation`. Later backends (ssh, kubernetes) implement the same shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from vigil.model import ReplicaId


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """Everything needed to start one replica. ``argv`` is already substituted (no shell)."""

    replica: ReplicaId
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    log_path: str | None = None  # stdout+stderr appended here; None: /dev/null
    log_max_bytes: int = 10 * 1024 * 1024
    log_keep: int = 3


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """A running process we own: ``create_time`` (from the OS) tells it apart from a reused pid."""

    replica: ReplicaId
    pid: int
    pgid: int
    create_time: float
    adopted: bool = False


Signaller: TypeAlias = Callable[[ProcessInfo, Sequence[int]], Awaitable[None]]
"""How a stop sends its signals to the group, in order (``stop(send=...)``): the SIGTERM (with
the SIGCONT that wakes a stopped process) as one call, the SIGKILL after the grace as another.
Raising ends the stop with that error, the rest unsent (:class:`vigil.remediation.FencedBackend`
holds the store's fence through each call and refuses once another controller leads)."""


async def send_signals(
    kill: Callable[[ProcessInfo, int], None],
    info: ProcessInfo,
    signums: Sequence[int],
    send: Signaller | None,
) -> None:
    """Send ``signums`` to ``info``'s group through ``send``, or one by one through the backend's
    own ``kill`` when no signaller is given (the backends' ``stop`` calls this)."""
    if send is not None:
        await send(info, signums)
        return
    for signum in signums:
        kill(info, signum)


class ProcessBackend(Protocol):
    """Starts and supervises process trees. Every method is safe to call on a dead process."""

    async def start(self, spec: ProcessSpec) -> ProcessInfo:
        """Start the process in its own process group/session; raise BackendError if it can't."""
        ...

    async def wait(self, info: ProcessInfo) -> int | None:
        """Return when the process has exited: its return code (negative: killed by that signal),
        or None when the code is unknown (an adopted process is not our child)."""
        ...

    async def stop(
        self, info: ProcessInfo, grace: float, *, send: Signaller | None = None
    ) -> int | None:
        """SIGTERM the whole group, wait ``grace`` seconds, then SIGKILL it; return as ``wait``.
        ``send`` sends the group's signals (None: :meth:`kill`)."""
        ...

    def kill(self, info: ProcessInfo, signum: int) -> None:
        """Send ``signum`` to the whole process group (ignored if it is gone)."""
        ...

    def alive(self, info: ProcessInfo) -> bool: ...

    def adopt(self, replica: ReplicaId, pid: int, create_time: float) -> ProcessInfo | None:
        """Take over a process started by an earlier run of Vigil, if it still runs and is ours."""
        ...

    def sweep(self, keep: Sequence[ProcessInfo]) -> list[int]:
        """Kill processes this Vigil instance started that are not in ``keep`` (leftovers of a
        crash between spawn and record); return their pids."""
        ...

    def close(self) -> None:
        """Stop watching processes (they keep running, for a later Vigil to adopt)."""
        ...

    def rotate_logs(self, spec: ProcessSpec) -> bool:
        """Rotate the spec's log file if it is past its size limit; True when rotated."""
        ...
