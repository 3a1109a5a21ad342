"""Plain frozen value types shared by every layer: states, replicas, findings, incidents, actions.

Pure data, no I/O. Constructed by collectors, backends and the engine; stored by :mod:`vigil.store`;
rendered by :mod:`vigil.api` and :mod:`vigil.cli`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NewType

ReplicaId = NewType("ReplicaId", str)
"""``<service>/<index>``, e.g. ``llm/0``: stable across restarts of the replica and of Vigil."""

IncidentId = NewType("IncidentId", int)


def replica_id(service: str, index: int) -> ReplicaId:
    return ReplicaId(f"{service}/{index}")


class ReplicaState(StrEnum):
    """Lifecycle of one replica's process as the supervisor sees it."""

    PENDING = "pending"  # wanted, not started yet (or waiting for a restart backoff)
    RUNNING = "running"  # process alive
    STOPPING = "stopping"  # SIGTERM sent, waiting for the grace period
    STOPPED = "stopped"  # stopped on purpose (operator or shutdown)
    EXITED = "exited"  # exited on its own, a restart may follow
    FAILED = "failed"  # given up on: crash loop or start failure, needs a human


class Health(StrEnum):
    """Result of a replica's probes (liveness and readiness are judged separately)."""

    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


class NodeStatus(StrEnum):
    """A node's status as judged from its heartbeats by the phi-accrual detector."""

    UNKNOWN = "unknown"
    UP = "up"
    SUSPECT = "suspect"
    DOWN = "down"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class FindingKind(StrEnum):
    """What was found wrong with a subject. One open incident per (subject, kind family)."""

    PROCESS_EXITED = "process_exited"
    LIVENESS_FAILING = "liveness_failing"
    READINESS_FAILING = "readiness_failing"
    HUNG = "hung"
    START_FAILED = "start_failed"
    CRASH_LOOP = "crash_loop"
    NEVER_LIVE = "never_live"  # not live after remediation.escalate_after restarts
    NODE_SUSPECT = "node_suspect"
    NODE_DOWN = "node_down"
    METRIC_RULE = "metric_rule"
    LOG_NOVELTY = "log_novelty"
    LOG_BURST = "log_burst"
    LOG_ASSOCIATION = "log_association"
    EXTERNAL_ALERT = "external_alert"  # an alert from Prometheus' Alertmanager (webhook)
    REPLICAS_LEFT = "replicas_left"  # an old leader's replicas on another host: not adoptable


class IncidentState(StrEnum):
    OPEN = "open"
    REMEDIATING = "remediating"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


ACTIVE_INCIDENT_STATES = (IncidentState.OPEN, IncidentState.REMEDIATING, IncidentState.ESCALATED)
"""The states of an incident not yet resolved."""


class ProbeKind(StrEnum):
    LIVENESS = "liveness"
    READINESS = "readiness"


@dataclass(frozen=True, slots=True)
class Replica:
    """One replica of a service as known to the supervisor and the store."""

    id: ReplicaId
    service: str
    index: int
    node: str
    port: int
    state: ReplicaState = ReplicaState.PENDING
    pid: int | None = None
    started_at: float | None = None  # wall clock, seconds since epoch
    create_time: float | None = None  # the OS's process start time, to recognise our process
    restarts: int = 0
    exit_code: int | None = None
    live: Health = Health.UNKNOWN
    ready: Health = Health.UNKNOWN
    log_path: str | None = None
    held: bool = False
    """Kept down on purpose (an operator stopped it, or Vigil gave up on a crash loop): it stays
    down across controller restarts until an operator starts it again."""


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    address: str = ""
    """Where the node is; "" while not known (declared without one, no heartbeat yet)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    status: NodeStatus = NodeStatus.UNKNOWN
    last_heartbeat: float | None = None
    phi: float = 0.0
    info: Mapping[str, Any] = field(default_factory=dict)
    address_source: str = ""
    """Where ``address`` came from: ``config`` (nodes[].address), ``heartbeat`` (learned from
    the address its agent's heartbeats come from), "" while it is not known."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong with a subject (``replica:llm/0``, ``node:gpu-07``), with the evidence."""

    kind: FindingKind
    subject: str
    at: float
    summary: str
    severity: Severity = Severity.WARNING
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Incident:
    """A problem with one subject, from detection to recovery or escalation."""

    id: IncidentId
    subject: str
    kind: FindingKind
    state: IncidentState
    summary: str
    severity: Severity
    opened_at: float  # when the incident record was opened
    detected_at: float  # when the first finding was observed (may precede opened_at)
    updated_at: float
    first_action_at: float | None = None
    resolved_at: float | None = None
    findings: int = 1
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def time_to_recover(self) -> float | None:
        return None if self.resolved_at is None else self.resolved_at - self.detected_at


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One remediation or operator action, with who asked, why, and how it went."""

    id: int
    kind: str  # "restart", "start", "stop", "escalate"...
    subject: str
    actor: str  # "vigil" for the autopilot, else the API token's name
    reason: str
    started_at: float
    incident_id: IncidentId | None = None
    finished_at: float | None = None
    ok: bool | None = None
    detail: str = ""
