"""Prometheus metrics of the controller, in an explicit registry (never the global one).

:class:`ControllerMetrics` is fed by the daemon's event persister (every bus event passes through
it) and read by ``GET /metrics`` in :mod:`vigil.api`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric

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


class ReplicaCollector:
    """Replica gauges read at scrape time from the live view, so they are never stale."""

    def __init__(self, replicas: Callable[[], Sequence[Replica]]) -> None:
        self._replicas = replicas

    def collect(self) -> Iterator[Metric]:
        labels = ["service", "replica"]
        up = GaugeMetricFamily(
            "vigil_replica_up", "1 when the replica's process runs", labels=labels
        )
        ready = GaugeMetricFamily(
            "vigil_replica_ready", "1 when the replica is ready", labels=labels
        )
        restarts = GaugeMetricFamily(
            "vigil_replica_restarts", "Restarts of the replica", labels=labels
        )
        for r in self._replicas():
            key = [r.service, r.id]
            up.add_metric(key, 1 if r.pid else 0)
            ready.add_metric(key, 1 if r.ready == Health.HEALTHY else 0)
            restarts.add_metric(key, r.restarts)
        yield from (up, ready, restarts)
