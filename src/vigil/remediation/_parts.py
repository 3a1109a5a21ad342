"""The supervisor's small parts: its command and probe-driver types, how an exit is described,
and what a held replica shows after a restart of the controller.

Used by :class:`vigil.remediation._supervisor.ReplicaRunner` (and re-exported by
:mod:`vigil.remediation` for the daemon and the API).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Literal, Protocol

from vigil.backends import ProcessInfo
from vigil.model import ProbeKind, Replica, ReplicaState
from vigil.remediation._plan import ReplicaPlan
from vigil.settings import Probe

Command = Literal["start", "stop", "restart"]
STORE_RETRY = 1.0
"""Seconds before supervision goes on after the store refused a write (it may still be busy)."""


class ProbeDriver(Protocol):
    def start(self) -> None: ...
    async def stop(self) -> None: ...


ProbeFactory = Callable[[ReplicaPlan, ProbeKind, Probe], ProbeDriver]


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "exited (code unknown: adopted process)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"


ALIVE = (ReplicaState.RUNNING, ReplicaState.STOPPING, ReplicaState.PENDING)


def held_state(previous: Replica, adopt: ProcessInfo | None) -> ReplicaState:
    """What a replica held down by an operator shows after a restart of the controller: its last
    state (``failed`` says why it is held), except that a state saying a process runs or is about
    to is not believed without a process to adopt — the last controller went down mid-stop."""
    if adopt is None and previous.state in ALIVE:
        return ReplicaState.STOPPED
    return previous.state
