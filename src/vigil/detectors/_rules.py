"""Rules on metrics: ``host.disk.used_pct > 90 for 5m``, ``anomaly(host.cpu.used_pct) > 0.99``.

Pure: every observation carries its own time. One :class:`StaticThreshold` (pending, firing,
hysteresis) per rule and matching series; an ``anomaly(...)`` rule first turns the value into the
default detector's score (:class:`RecordEnsemble`, the one behind ``vigil detect``), then
thresholds the score, and its explanation says which view of the series broke its range and by
how much (the detector's own words at the strongest score of the breach). That detector scores
an alarm once and its echoes (the series still beyond its range) near 0 but not 0: a breach
lasts while they do, so ``anomaly(m) > 0.9 for 5m`` fires on a series out of its range for five
minutes, never on a lone spike, and the rule clears once the series is back within its range.

Called by the controller for every stored sample; a :class:`RuleChange` (firing or cleared)
becomes a finding or a recovery there. Its counters (:attr:`RuleEngine.evaluations`,
:meth:`RuleEngine.firing`) are read by the controller's ``/metrics``.

Memory is bounded twice: at most ``max_states`` rule x series states in all (a threshold is a
few floats), and at most ``max_anomaly_states`` of them with a detector (~37 KiB each: its
day and week lag rings). The least recently updated state goes first; if it was firing, a
"cleared" change says so, so its incident does not stay open forever.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vigil.detectors._record_ensemble import RecordEnsemble
from vigil.detectors._threshold import StaticThreshold

MAX_STATES = 100_000
"""Rule x series states kept; the least recently updated go first (a vanished series)."""
MAX_ANOMALY_STATES = 2_000
"""Rule x series states of ``anomaly(...)`` rules: each holds a detector of ~37 KiB, so this is
~75 MiB at most (a fleet of 250 eight-GPU nodes under one GPU anomaly rule)."""

Key = tuple[str, tuple[tuple[str, str], ...]]
RESTORED = "firing before the controller restarted"
"""The explanation a state taken up by :meth:`RuleEngine.restore` starts with."""


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
    score: float | None = None
    """The anomaly score that crossed the threshold (``anomaly(...)`` rules only)."""


def _threshold(spec: RuleSpec) -> StaticThreshold:
    """The rule's threshold; ValueError when its ``clear`` is on the wrong side of its value.

    StaticThreshold compares strictly, so ``>= v`` is ``> nextafter(v, -inf)``; ``clear`` is
    nudged the same way (it stays firing while at or above it): ``>= 90`` with ``clear: 90``
    clears once back under 90. Nudged alone, the limit fell under a clear equal to the value
    and the threshold refused the pair on the rule's first sample, in the middle of a push."""
    if not math.isfinite(spec.value) or not math.isfinite(spec.clear or 0.0):
        # a NaN clear compares false: the rule fired and cleared at every sample beyond it
        raise ValueError(
            f"rule {spec.name}: value ({spec.value}) and clear ({spec.clear}) must be finite"
        )
    above = spec.op in (">", ">=")
    limit, clear = spec.value, spec.clear
    if spec.op in (">=", "<="):
        toward = -math.inf if above else math.inf
        limit = math.nextafter(limit, toward)
        clear = None if clear is None else math.nextafter(clear, toward)
    if clear is not None and ((clear > limit) if above else (clear < limit)):
        side = "at or below" if above else "at or above"
        raise ValueError(
            f"rule {spec.name}: clear ({spec.clear:g}) must be {side} its value "
            f"({spec.value:g}): it is where a firing rule stops firing"
        )
    return StaticThreshold(limit, clear=clear, for_seconds=spec.for_seconds, above=above)


class _State:
    __slots__ = ("best", "detector", "spec", "threshold", "why")

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.threshold = _threshold(spec)
        self.detector = RecordEnsemble() if spec.anomaly else None
        self.best = 0.0  # the strongest score of the current breach (anomaly rules)
        self.why = ""  # the detector's explanation of it


class RuleEngine:
    def __init__(
        self,
        specs: Sequence[RuleSpec],
        max_states: int = MAX_STATES,
        max_anomaly_states: int = MAX_ANOMALY_STATES,
    ) -> None:
        names = [spec.name for spec in specs]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:  # their states and incidents are keyed by name: they would share them
            raise ValueError(f"rule names must be unique: {twice} given more than once")
        self._by_metric: dict[str, list[RuleSpec]] = {}
        for spec in specs:
            _threshold(spec)  # a bad clear is refused here, not on the rule's first sample
            self._by_metric.setdefault(spec.metric, []).append(spec)
        self._states: OrderedDict[Key, _State] = OrderedDict()
        self._anomaly: OrderedDict[Key, None] = OrderedDict()  # the states with a detector
        self._max = max_states
        self._max_anomaly = max_anomaly_states
        self.evaluations: dict[str, int] = {spec.name: 0 for spec in specs}
        """Samples judged, per rule."""
        self._firing: dict[str, int] = {spec.name: 0 for spec in specs}
        self.evicted = 0
        """States dropped to keep memory bounded (a series seen again starts learning afresh)."""

    @property
    def metrics(self) -> frozenset[str]:
        """The metric names some rule watches (samples of others need not be shown to it)."""
        return frozenset(self._by_metric)

    def __len__(self) -> int:
        """How many rule x series states are kept."""
        return len(self._states)

    def firing(self) -> dict[str, int]:
        """Series firing now, per rule."""
        return dict(self._firing)

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
                state = self._new_state(key, spec)
                self._make_room(at, changes)
            else:
                self._states.move_to_end(key)
                if spec.anomaly:
                    self._anomaly.move_to_end(key)
            self.evaluations[spec.name] += 1
            change = self._judge(state, key, at, value)
            if change is not None:
                changes.append(change)
        return changes

    def restore(self, rule: str, labels: Mapping[str, str]) -> bool:
        """Take up a breach that was firing before a restart (its incident is still open): the
        rule x series state starts firing, so the series' next value back within bounds clears
        it (a fresh state would stay quiet and the incident open for ever). False when no rule
        of that name matches these labels any more (the caller resolves the incident)."""
        specs = (spec for specs in self._by_metric.values() for spec in specs)
        spec = next((s for s in specs if s.name == rule), None)
        if spec is None or any(labels.get(k) != v for k, v in spec.labels.items()):
            return False
        key = (spec.name, tuple(sorted(labels.items())))
        state = self._states.get(key)
        if state is None:
            state = self._new_state(key, spec)
        if not state.threshold.firing:
            state.threshold.firing = True
            state.why = RESTORED
            self._firing[spec.name] += 1
        return True  # the bounds are kept by the next observe() that adds a state

    def _new_state(self, key: Key, spec: RuleSpec) -> _State:
        """A quiet rule x series state for ``key`` (an anomaly rule's also joins the LRU)."""
        state = self._states[key] = _State(spec)
        if spec.anomaly:
            self._anomaly[key] = None
        return state

    def _judge(self, state: _State, key: Key, at: float, value: float) -> RuleChange | None:
        spec = state.spec
        x = value
        if state.detector is not None:
            score = state.detector.update(at, value)
            x = score.value
            above = spec.op in (">", ">=")
            breached = (x > spec.value) if above else (x < spec.value)
            if breached:  # remember why, at the strongest score of the breach
                if not state.why or x >= state.best:
                    state.best, state.why = x, score.explanation
            elif above and state.why and x > 0.0 and state.detector.beyond_range:
                # An echo: the series is still beyond its range, the detector only damps the
                # repeats of its alarm. The breach goes on, so ``for 5m`` means "out of its
                # range for five minutes" and a lone spike (back in range at once) never fires.
                # (The echo of a transition never made is not "beyond its range": it ends it.)
                x = state.best
            elif not state.threshold.firing:
                state.best, state.why = 0.0, ""
        was = state.threshold.firing
        verdict = state.threshold.update(at, x)
        if state.threshold.firing == was:
            return None
        self._firing[spec.name] += 1 if state.threshold.firing else -1
        if state.detector is None:
            explanation = f"{spec.metric}: {verdict.explanation}"
            score_of = None
        elif state.threshold.firing:
            explanation = (
                f"anomaly({spec.metric}) score {state.best:.3f} {spec.op} {spec.value:g} "
                f"at value {value:.6g}: {state.why}"
            )
            score_of = state.best
        elif state.why == RESTORED:
            explanation = (
                f"anomaly({spec.metric}): judged afresh since the controller restarted (its "
                f"range is learned anew; score {x:.3g}, value {value:.6g})"
            )
            score_of = x
            state.best, state.why = 0.0, ""
        else:
            explanation = (
                f"anomaly({spec.metric}): back within its range (score {x:.3g}, value {value:.6g})"
            )
            score_of = x
            state.best, state.why = 0.0, ""
        return RuleChange(
            rule=spec.name,
            labels=key[1],
            firing=state.threshold.firing,
            at=at,
            value=value,
            explanation=explanation,
            severity=spec.severity,
            score=score_of,
        )

    def _make_room(self, at: float, changes: list[RuleChange]) -> None:
        """Drop the least recently updated states beyond the bounds (a firing one clears)."""
        while len(self._anomaly) > self._max_anomaly:
            key, _ = self._anomaly.popitem(last=False)
            self._drop(key, self._states.pop(key), at, changes)
        while len(self._states) > self._max:
            key, state = self._states.popitem(last=False)
            if state.detector is not None:
                del self._anomaly[key]
            self._drop(key, state, at, changes)

    def _drop(self, key: Key, state: _State, at: float, changes: list[RuleChange]) -> None:
        self.evicted += 1
        if not state.threshold.firing:
            return
        spec = state.spec
        self._firing[spec.name] -= 1
        changes.append(
            RuleChange(
                rule=spec.name,
                labels=key[1],
                firing=False,
                at=at,
                value=math.nan,
                explanation=(
                    f"{spec.metric}: the least recently updated of the rule x series states "
                    f"(limits {self._max} in all, {self._max_anomaly} with a detector): dropped, "
                    "no longer judged until it reports again"
                ),
                severity=spec.severity,
            )
        )
