"""What the API needs from the running controller: a narrow Protocol the daemon implements.

The API routers (:mod:`vigil.api`) read state from the :class:`~vigil.store.Store` and send
commands through this interface; :class:`vigil.daemon.Controller` implements it, and tests use a
small fake. Keeping it narrow keeps the API testable without processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from vigil.api._logs_service import LogService
from vigil.balancer import NoFit, Placement, TaskNeeds, UpstreamStatus
from vigil.collectors import Sample, SeriesStore
from vigil.model import ActionRecord, Finding, Incident, Node, Replica, ReplicaId

ReplicaCommand = Literal["start", "stop", "restart"]


@dataclass(frozen=True, slots=True)
class HeartbeatAck:
    """What the controller answers an agent: the interval it expects heartbeats at."""

    interval: float
    node_status: str


@dataclass(frozen=True, slots=True)
class BalancerStatus:
    """A service's load balancer: where clients connect, its policy, and each replica's row."""

    service: str
    address: str  # host:port
    policy: str
    upstreams: Sequence[UpstreamStatus]


@dataclass(frozen=True, slots=True)
class RiskView:
    """A node's failure risk from the Markov model of node states: P(it is ``down`` at least
    once within ``steps`` x ``step`` seconds), with the model it comes from."""

    node: str
    state: str
    probability: float
    steps: int
    step: float
    transitions: int  # transitions the model has counted, all nodes together
    matrix: Mapping[str, Mapping[str, float]]
    left: int = 0
    """Transitions counted out of ``state`` to another state, all nodes together. 0: the model
    never saw ``state`` left, so its ``probability`` (0, but 1 for ``down``) comes from counts it
    lacks, not from evidence."""


@dataclass(frozen=True, slots=True)
class SlotView:
    """A blast-radius slot: Vigil is restarting ``replica``; the slot lasts until ``until``
    (epoch seconds) unless the replica is ready sooner."""

    replica: str
    until: float


@dataclass(frozen=True, slots=True)
class NeverLiveView:
    """Restarts of ``replica`` since it was last live, none of which made it live."""

    replica: str
    restarts: int
    escalated: bool


@dataclass(frozen=True, slots=True)
class WindowView:
    """A maintenance window, and when it ends if it is open now (None: closed)."""

    window: str
    open_until: float | None


@dataclass(frozen=True, slots=True)
class GuardsView:
    """One service's healing guards in force and what they hold now."""

    service: str
    dry_run: bool
    max_unavailable: str
    unavailable_limit: int  # max_unavailable as a count of the service's replicas
    slots: Sequence[SlotView]
    rate_actions: int
    rate_window: float
    recent_actions: int  # automatic actions allowed within the last rate_window seconds
    escalate_after: int
    never_live: Sequence[NeverLiveView]  # the replicas with a count, or escalated
    windows: Sequence[WindowView]


class IncidentDesk(Protocol):
    """The controller's incident book as the alert receiver uses it
    (:class:`vigil.remediation.IncidentBook` implements it), on the receiver's writer thread:
    the events it publishes from there must reach the loop's bus safely."""

    def raise_finding(self, finding: Finding) -> Incident:
        """Open an incident for the finding's subject, or add it to the subject's active one."""
        ...

    def recovered(self, subject: str, at: float, detail: str = "") -> Incident | None:
        """Resolve the subject's active incident; None when it has none."""
        ...

    def active(self, subject: str) -> Incident | None:
        """The subject's active incident, or None."""
        ...

    def batch(self, what: str = "writing incidents") -> AbstractContextManager[None]:
        """One store transaction for everything written inside the block (this thread), the
        events published after its commit; rolled back whole on an error."""
        ...


class ControlPlane(Protocol):
    def services(self) -> Sequence[str]:
        """Names of configured services."""
        ...

    def replicas(self, service: str | None = None) -> Sequence[Replica]:
        """Live view of replicas (raises NotFoundError for an unknown service)."""
        ...

    def nodes(self) -> Sequence[Node]: ...

    async def replica_command(
        self, replica: ReplicaId, command: ReplicaCommand, *, actor: str, reason: str
    ) -> ActionRecord:
        """Start/stop/restart one replica; audited. Raises NotFoundError for an unknown replica."""
        ...

    def heartbeat(
        self,
        node: str,
        seq: int,
        info: Mapping[str, Any],
        *,
        peer: str | None = None,
        address: str | None = None,
    ) -> HeartbeatAck:
        """Record a heartbeat from an agent (raises NotFoundError for an unknown node); ``peer``
        is the address it came from, ``address`` the one the agent asks to be reached at (a
        node declared without an address learns it: ``address`` over ``peer``)."""
        ...

    def healthy_replicas(self, service: str) -> Sequence[Replica]:
        """Replicas that are running and ready (raises NotFoundError for an unknown service)."""
        ...

    def fault_detected(self) -> bool:
        """True while any incident is active: open, remediating or escalated."""
        ...

    async def auto_maintain(self, *, actor: str) -> bool:
        """One maintenance pass: rotate replica logs, verify the audit chain and give replicas
        that were given up on a fresh start (audited). True when the audit chain is intact."""
        ...

    def balancer_status(self, service: str) -> BalancerStatus | None:
        """The service's balancer (None: it has none; NotFoundError: no such service)."""
        ...

    def balancer_admin(
        self, replica: ReplicaId, *, state: str | None, weight: float | None
    ) -> UpstreamStatus:
        """Set a replica's admin state (ready / draining / maint) and/or weight in its balancer;
        applies to the next request. NotFoundError when it is not behind a balancer."""
        ...

    def place(self, needs: TaskNeeds, policy: str) -> Placement | NoFit:
        """Choose a node for a task from the nodes' live capacity, or say why none fits."""
        ...

    def ingest_samples(self, node: str, samples: Sequence[Sample]) -> list[str]:
        """Store a node's samples; the problems of those that could not be stored (one line
        each: cardinality limit, not a finite number, out of order, from the future)."""
        ...

    def series_store(self) -> SeriesStore:
        """The in-memory series (recent points and rollups) for queries."""
        ...

    def log_service(self) -> LogService:
        """The log pipeline: agents' batches, pushed lines, templates and findings."""
        ...

    def node_risk(self, node: str) -> RiskView:
        """The node's failure risk (raises NotFoundError for an unknown node)."""
        ...

    def healing_guards(self) -> Sequence[GuardsView]:
        """Every service's healing guards and their state: slots, rate, never-live counts."""
        ...

    def incident_desk(self) -> IncidentDesk:
        """The incident book findings from outside (Alertmanager's webhook) are raised in, from
        a worker thread (called on the loop)."""
        ...
