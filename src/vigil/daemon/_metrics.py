"""Prometheus metrics of the controller, in an explicit registry (never the global one).

:class:`ControllerMetrics` is fed by the daemon's event persister (every bus event passes through
it) and read by ``GET /metrics`` in :mod:`vigil.api`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from vigil.model import (
    ActionChanged,
    Event,
    Health,
    IncidentChanged,
    IncidentState,
    NodeStatus,
    NodeStatusChanged,
    Replica,
)

_NODE_STATUS = {NodeStatus.UNKNOWN: -1, NodeStatus.UP: 0, NodeStatus.SUSPECT: 1, NodeStatus.DOWN: 2}


class ControllerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter("vigil_events", "Bus events by kind", ["kind"], registry=registry)
        self.actions = Counter(
            "vigil_actions",
            "Finished actions by kind and result",
            ["kind", "result"],
            registry=registry,
        )
        self.incidents_active = Gauge(
            "vigil_incidents_active", "Incidents open, remediating or escalated", registry=registry
        )
        self.replica_up = Gauge(
            "vigil_replica_up",
            "1 when the replica's process runs",
            ["service", "replica"],
            registry=registry,
        )
        self.replica_ready = Gauge(
            "vigil_replica_ready",
            "1 when the replica is ready",
            ["service", "replica"],
            registry=registry,
        )
        self.replica_restarts = Gauge(
            "vigil_replica_restarts",
            "Restarts of the replica",
            ["service", "replica"],
            registry=registry,
        )
        self.node_status = Gauge(
            "vigil_node_status", "-1 unknown, 0 up, 1 suspect, 2 down", ["node"], registry=registry
        )
        self._active: set[int] = set()

    def observe(self, event: Event) -> None:
        self.events.labels(event.kind).inc()
        if isinstance(event, IncidentChanged):
            inc = event.incident
            if inc.state == IncidentState.RESOLVED:
                self._active.discard(inc.id)
            else:
                self._active.add(inc.id)
            self.incidents_active.set(len(self._active))
        elif isinstance(event, ActionChanged) and event.action.ok is not None:
            self.actions.labels(event.action.kind, "ok" if event.action.ok else "failed").inc()
        elif isinstance(event, NodeStatusChanged):
            self.node_status.labels(event.node).set(_NODE_STATUS[event.new])

    def replicas(self, replicas: list[Replica]) -> None:
        for r in replicas:
            labels = (r.service, r.id)
            self.replica_up.labels(*labels).set(1 if r.pid else 0)
            self.replica_ready.labels(*labels).set(1 if r.ready == Health.HEALTHY else 0)
            self.replica_restarts.labels(*labels).set(r.restarts)
