"""Prometheus metrics of the controller, in an explicit registry (never the global one).

:class:`ControllerMetrics` is fed by the daemon's event persister (every bus event passes through
it; the active incidents are seeded from the store at start); :class:`NodeCollector`,
:class:`ReplicaCollector` and :class:`PipelineCollector` (the log pipeline's counts, the
rules', the series store's refusals, the rollups whose sums saturated) read the controller's
live state at scrape time. All are registered by :class:`vigil.daemon.Controller` and served by
``GET /metrics`` in :mod:`vigil.api`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from vigil.daemon._logs_counts import LogCounts
from vigil.detectors import RuleEngine
from vigil.model import (
    ActionChanged,
    Event,
    Health,
    IncidentChanged,
    IncidentState,
    Node,
    NodeStatus,
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
        self._active: set[int] = set()

    def seed_active(self, ids: Iterable[int]) -> None:
        """Count the incidents a store already holds active (at start): counted only from
        this process's events, ``vigil_incidents_active`` read 0 after every restart while
        incidents were open, and an alert on it went quiet."""
        self._active.update(ids)
        self.incidents_active.set(len(self._active))

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


class NodeCollector:
    """``vigil_node_status`` of every configured node, read at scrape time from the node monitor.
    Set from status-change events, a node that never reported (still unknown, -1) was absent,
    and after a restart so was every node until its status changed again."""

    def __init__(self, nodes: Callable[[], Sequence[Node]]) -> None:
        self._nodes = nodes

    def collect(self) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "vigil_node_status", "-1 unknown, 0 up, 1 suspect, 2 down", labels=["node"]
        )
        for node in self._nodes():
            status.add_metric([node.name], _NODE_STATUS[node.status])
        yield status


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


class PipelineCollector:
    """The log pipeline's and the rules' counts, read at scrape time (never a template id as a
    label: node, source, kind, severity and rule names only)."""

    def __init__(
        self,
        logs: Callable[[], tuple[LogCounts, int] | None],
        rules: RuleEngine,
        refused: Callable[[], int],
        saturated: Callable[[], int],
        resent: Callable[[], int],
    ) -> None:
        self._logs = logs
        self._rules = rules
        self._refused = refused
        self._saturated = saturated
        self._resent = resent

    def collect(self) -> Iterator[Metric]:
        yield from self._rule_metrics()
        yield _counter(
            "vigil_series_refused",
            "Samples refused because a series limit (metrics.max_series, "
            "metrics.max_series_per_metric) was reached",
            self._refused(),
        )
        yield _counter(
            "vigil_samples_resent",
            "Samples sent again that the series store held already (same series, time and "
            "value: an agent's answer lost); not stored twice, not reported as errors",
            self._resent(),
        )
        yield _counter(
            "vigil_rollups_saturated",
            "Rollup buckets stored whose sum overflowed the doubles: saturated at the largest "
            "double, so their mean is approximate, off either way (min and max exact)",
            self._saturated(),
        )
        got = self._logs()
        if got is not None:
            yield from _log_metrics(*got)

    def _rule_metrics(self) -> Iterator[Metric]:
        rules = self._rules
        yield _family(
            CounterMetricFamily,
            "vigil_rule_evaluations",
            "Samples judged by each rule",
            ["rule"],
            [((name,), n) for name, n in rules.evaluations.items()],
        )
        yield _family(
            GaugeMetricFamily,
            "vigil_rules_firing",
            "Series on which each rule fires now",
            ["rule"],
            [((name,), n) for name, n in rules.firing().items()],
        )
        yield _family(
            GaugeMetricFamily,
            "vigil_rule_states",
            "Rule x series states kept",
            [],
            [((), len(rules))],
        )
        yield _family(
            CounterMetricFamily,
            "vigil_rule_states_dropped",
            "Rule x series states dropped to bound memory",
            [],
            [((), rules.evicted)],
        )


def _family(
    kind: Callable[..., CounterMetricFamily | GaugeMetricFamily],
    name: str,
    documentation: str,
    labels: list[str],
    values: Iterable[tuple[tuple[str, ...], float]],
) -> Metric:
    """One counter or gauge family with a sample per label tuple."""
    family = kind(name, documentation, labels=labels)
    for label_values, value in values:
        family.add_metric(list(label_values), value)
    return family


def _log_metrics(counts: LogCounts, templates: int) -> Iterator[Metric]:
    yield _family(
        CounterMetricFamily,
        "vigil_log_lines_received",
        "Log lines received",
        ["node", "source"],
        counts.lines.items(),
    )
    yield _family(
        CounterMetricFamily,
        "vigil_log_batches_received",
        "Log batches received: agent batches, pushes, reads of the controller's own files",
        ["node", "via"],
        counts.batches.items(),
    )
    yield _family(
        CounterMetricFamily,
        "vigil_log_batches_duplicate",
        "Agent batches ignored because they were already counted (sent again)",
        ["node"],
        [((node,), n) for node, n in counts.duplicates.items()],
    )
    yield _family(
        CounterMetricFamily,
        "vigil_log_input_problems",
        "Lines repaired (invalid_utf8, control_chars, truncated, crlf, empty) and lines an agent "
        "could not batch (overflow)",
        ["node", "source", "problem"],
        counts.problems.items(),
    )
    yield _family(
        GaugeMetricFamily,
        "vigil_log_templates",
        "Log templates known fleet-wide",
        [],
        [((), templates)],
    )
    yield _family(
        CounterMetricFamily,
        "vigil_log_findings",
        "Log findings raised",
        ["kind", "severity"],
        counts.findings.items(),
    )
    yield SummaryMetricFamily(
        "vigil_log_analysis_round_seconds",
        "Rounds of the log pipeline's loop (own files, incidents, quiet incidents, rules, save)",
        count_value=counts.rounds,
        sum_value=counts.round_seconds,
    )
    yield _family(
        CounterMetricFamily,
        "vigil_log_incidents_learned",
        "Incidents the log analyses learned from, by how they ended (a blip is taken back)",
        ["outcome"],
        [((outcome,), n) for outcome, n in counts.outcomes.items()],
    )


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    """One counter without labels, as the controller's collector yields it."""
    family = CounterMetricFamily(name, documentation)
    family.add_metric([], value)
    return family
