"""Rules on metrics: thresholds with for-durations and hysteresis, and anomaly rules."""

from __future__ import annotations

import random

import pytest

from vigil.detectors import RuleEngine, RuleSpec
from vigil.settings import parse_rule_expr


def test_a_rule_fires_after_its_for_duration_and_clears_past_its_hysteresis() -> None:
    engine = RuleEngine([RuleSpec("hot", "gpu.temperature_c", {}, ">", 85, 60, clear=80)])
    labels = {"node": "n1", "gpu": "0"}
    assert engine.observe("gpu.temperature_c", labels, 0, 90) == []  # pending
    assert engine.observe("gpu.temperature_c", labels, 30, 91) == []
    [fired] = engine.observe("gpu.temperature_c", labels, 61, 92)
    assert fired.firing and fired.rule == "hot" and dict(fired.labels) == labels
    assert engine.observe("gpu.temperature_c", labels, 70, 82) == []  # between clear and limit
    [cleared] = engine.observe("gpu.temperature_c", labels, 80, 79)
    assert not cleared.firing


def test_each_series_has_its_own_state_and_label_filters_apply() -> None:
    engine = RuleEngine([RuleSpec("full", "host.disk.used_pct", {"mount": "/"}, ">=", 90)])
    assert engine.observe("host.disk.used_pct", {"mount": "/data"}, 0, 99) == []
    [fired] = engine.observe("host.disk.used_pct", {"mount": "/", "node": "a"}, 0, 90)
    assert fired.firing
    assert engine.observe("host.disk.used_pct", {"mount": "/", "node": "b"}, 0, 89.9) == []


def test_a_below_rule_fires_when_the_value_drops() -> None:
    engine = RuleEngine([RuleSpec("idle", "gpu.util_pct", {}, "<", 5)])
    assert engine.observe("gpu.util_pct", {}, 0, 50) == []
    assert engine.observe("gpu.util_pct", {}, 1, 1)[0].firing


def test_an_anomaly_rule_fires_on_a_spike_in_an_otherwise_steady_series() -> None:
    engine = RuleEngine([RuleSpec("odd", "host.cpu.used_pct", {}, ">", 0.99, anomaly=True)])
    rng = random.Random(1)
    fired = []
    for t in range(2000):
        fired += engine.observe("host.cpu.used_pct", {}, float(t), 20 + rng.gauss(0, 1))
    assert not any(c.firing for c in fired[:1])  # no alarm from noise at the start
    spike = engine.observe("host.cpu.used_pct", {}, 2000.0, 95.0)
    assert spike and spike[0].firing


def test_the_number_of_states_is_bounded() -> None:
    engine = RuleEngine([RuleSpec("r", "m", {}, ">", 1)], max_states=10)
    for i in range(100):
        engine.observe("m", {"id": str(i)}, 0, 0)
    assert len(engine._states) == 10


@pytest.mark.parametrize(
    "expr",
    ["m ~ 3", "m >", "anomaly(m) > 2", "m{node} > 1", "> 3"],
)
def test_a_malformed_rule_is_refused_with_the_fix(expr: str) -> None:
    with pytest.raises(ValueError, match=r"rule"):
        parse_rule_expr(expr)
