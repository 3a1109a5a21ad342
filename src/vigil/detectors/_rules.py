"""Rules on metrics: ``host.disk.used_pct > 90 for 5m``, ``anomaly(host.cpu.used_pct) > 0.99``.

Pure: every observation carries its own time. One :class:`StaticThreshold` (pending, firing,
hysteresis) per rule and matching series; an ``anomaly(...)`` rule first turns the value into the
default detector's score (:class:`EnsembleDetector`), then thresholds the score. Called by the
controller for every stored sample; a :class:`RuleChange` (firing or cleared) becomes a finding or
a recovery there.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vigil.detectors._ensemble import EnsembleDetector
from vigil.detectors._threshold import StaticThreshold

MAX_STATES = 100_000
"""Rule x series states kept; the least recently updated go first (a vanished series)."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    name: str
    metric: str
    labels: Mapping[str, str]
    op: str  # > >= < <=
    value: float
    for_seconds: float = 0.0
    clear: float | None = None
    anomaly: bool = False
    severity: str = "warning"


@dataclass(frozen=True, slots=True)
class RuleChange:
    rule: str
    labels: tuple[tuple[str, str], ...]
    firing: bool
    at: float
    value: float
    explanation: str
    severity: str


class _State:
    __slots__ = ("detector", "threshold")

    def __init__(self, spec: RuleSpec) -> None:
        above = spec.op in (">", ">=")
        limit = spec.value
        if spec.op == ">=":  # StaticThreshold compares strictly: x > nextafter(v, -inf) is x >= v
            limit = math.nextafter(limit, -math.inf)
        elif spec.op == "<=":
            limit = math.nextafter(limit, math.inf)
        self.threshold = StaticThreshold(
            limit, clear=spec.clear, for_seconds=spec.for_seconds, above=above
        )
        self.detector = EnsembleDetector() if spec.anomaly else None


class RuleEngine:
    def __init__(self, specs: Sequence[RuleSpec], max_states: int = MAX_STATES) -> None:
        self._by_metric: dict[str, list[RuleSpec]] = {}
        for spec in specs:
            self._by_metric.setdefault(spec.metric, []).append(spec)
        self._states: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], _State] = OrderedDict()
        self._max = max_states

    def observe(
        self, metric: str, labels: Mapping[str, str], at: float, value: float
    ) -> list[RuleChange]:
        """Feed one sample; the rules that started firing or cleared because of it."""
        changes: list[RuleChange] = []
        for spec in self._by_metric.get(metric, ()):
            if any(labels.get(k) != v for k, v in spec.labels.items()):
                continue
            key = (spec.name, tuple(sorted(labels.items())))
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = _State(spec)
                if len(self._states) > self._max:
                    self._states.popitem(last=False)
            else:
                self._states.move_to_end(key)
            x = value
            if state.detector is not None:
                x = state.detector.update(at, value).value
            was = state.threshold.firing
            score = state.threshold.update(at, x)
            if state.threshold.firing != was:
                what = f"anomaly({metric})" if spec.anomaly else metric
                changes.append(
                    RuleChange(
                        rule=spec.name,
                        labels=key[1],
                        firing=state.threshold.firing,
                        at=at,
                        value=value,
                        explanation=f"{what}: {score.explanation}",
                        severity=spec.severity,
                    )
                )
        return changes
