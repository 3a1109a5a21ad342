"""Frozen event classes that travel on :mod:`vigil.bus`.

Published by collectors, the supervisor, the heartbeat monitor and the engine; the store persists
every one of them (``kind`` and ``to_dict()`` give the row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from vigil.model._types import (
    ActionRecord,
    Finding,
    Incident,
    NodeStatus,
    ProbeKind,
    ReplicaId,
)


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every bus event. ``at`` is wall-clock seconds since the epoch."""

    kind: ClassVar[str] = "event"
    at: float

    @property
    def subject(self) -> str:
        return ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ReplicaStarted(Event):
    kind: ClassVar[str] = "replica.started"
    replica: ReplicaId
    pid: int
    adopted: bool = False

    @property
    def subject(self) -> str:
        return f"replica:{self.replica}"


@dataclass(frozen=True, slots=True)
class ReplicaExited(Event):
    kind: ClassVar[str] = "replica.exited"
    replica: ReplicaId
    pid: int
    returncode: int | None  # negative = killed by that signal
    expected: bool  # True when Vigil stopped it on purpose

    @property
    def subject(self) -> str:
        return f"replica:{self.replica}"


@dataclass(frozen=True, slots=True)
class ProbeResult(Event):
    kind: ClassVar[str] = "probe.result"
    replica: ReplicaId
    probe: ProbeKind
    ok: bool
    latency: float
    detail: str = ""

    @property
    def subject(self) -> str:
        return f"replica:{self.replica}"


@dataclass(frozen=True, slots=True)
class HealthChanged(Event):
    """A probe's verdict flipped after its success/failure threshold was reached."""

    kind: ClassVar[str] = "replica.health"
    replica: ReplicaId
    probe: ProbeKind
    healthy: bool
    detail: str = ""
    timed_out: bool = False

    @property
    def subject(self) -> str:
        return f"replica:{self.replica}"


@dataclass(frozen=True, slots=True)
class HeartbeatReceived(Event):
    kind: ClassVar[str] = "node.heartbeat"
    node: str
    seq: int = 0
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"node:{self.node}"


@dataclass(frozen=True, slots=True)
class NodeStatusChanged(Event):
    kind: ClassVar[str] = "node.status"
    node: str
    old: NodeStatus
    new: NodeStatus
    phi: float
    last_heartbeat: float | None

    @property
    def subject(self) -> str:
        return f"node:{self.node}"


@dataclass(frozen=True, slots=True)
class FindingRaised(Event):
    kind: ClassVar[str] = "finding.raised"
    finding: Finding

    @property
    def subject(self) -> str:
        return self.finding.subject


@dataclass(frozen=True, slots=True)
class SubjectRecovered(Event):
    """The subject is healthy again (replica ready, node up): resolves its open incidents."""

    kind: ClassVar[str] = "subject.recovered"
    target: str
    detail: str = ""

    @property
    def subject(self) -> str:
        return self.target


@dataclass(frozen=True, slots=True)
class IncidentChanged(Event):
    kind: ClassVar[str] = "incident.changed"
    incident: Incident

    @property
    def subject(self) -> str:
        return self.incident.subject


@dataclass(frozen=True, slots=True)
class ActionChanged(Event):
    kind: ClassVar[str] = "action"
    action: ActionRecord

    @property
    def subject(self) -> str:
        return self.action.subject
