"""Rules on metrics: thresholds with for-durations and hysteresis, and anomaly rules."""

from __future__ import annotations

import math
import random

import pytest

from vigil.detectors import RuleEngine, RuleSpec
from vigil.errors import ConfigError
from vigil.settings import parse_rule_expr, parse_settings


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
    engine = RuleEngine([RuleSpec("odd", "host.cpu.used_pct", {}, ">", 0.9, anomaly=True)])
    rng = random.Random(1)
    fired = []
    for t in range(2000):
        fired += engine.observe("host.cpu.used_pct", {}, 60.0 * t, 20 + rng.gauss(0, 1))
    assert fired == []  # noise, however long, is no anomaly
    [spike] = engine.observe("host.cpu.used_pct", {}, 60.0 * 2000, 95.0)
    assert spike.firing and spike.score is not None and spike.score > 0.9
    # which view broke its range, and by how much
    assert "value beyond its range ever seen: evidence" in spike.explanation
    assert spike.explanation.startswith("anomaly(host.cpu.used_pct) score 0.9")
    assert engine.firing() == {"odd": 1} and engine.evaluations == {"odd": 2001}
    [cleared] = engine.observe("host.cpu.used_pct", {}, 60.0 * 2001, 20.0)
    assert not cleared.firing and "back within its range" in cleared.explanation


def test_an_anomaly_rule_with_a_duration_explains_the_strongest_score_not_the_last() -> None:
    spec = RuleSpec("odd", "m", {}, ">", 0.5, for_seconds=120, anomaly=True)
    engine = RuleEngine([spec])
    for t in range(300):  # with a lone spike, back in range at once: no breach of 120 s
        assert engine.observe("m", {}, 60.0 * t, 100.0 if t == 160 else 10.0 + (t % 3)) == []
    changes = []
    for t in range(300, 310):  # a level far outside the range, for ten minutes
        changes += engine.observe("m", {}, 60.0 * t, 500.0 + t)
    [fired] = changes
    assert fired.firing and fired.at == 60.0 * 302
    assert "echo" not in fired.explanation and "evidence" in fired.explanation


def test_the_number_of_states_is_bounded() -> None:
    engine = RuleEngine([RuleSpec("r", "m", {}, ">", 1)], max_states=10)
    for i in range(100):
        engine.observe("m", {"id": str(i)}, 0, 0)
    assert len(engine) == 10 and engine.evicted == 90


def test_detectors_are_bounded_apart_and_a_dropped_firing_state_clears() -> None:
    specs = [RuleSpec("hot", "m", {}, ">", 5), RuleSpec("odd", "m", {}, ">", 0.9, anomaly=True)]
    engine = RuleEngine(specs, max_states=1000, max_anomaly_states=3)
    [hot] = engine.observe("m", {"id": "0"}, 0, 9)
    assert hot.firing and engine.firing() == {"hot": 1, "odd": 0}
    for i in range(1, 10):
        engine.observe("m", {"id": str(i)}, 0, 0)
    assert len(engine) == 10 + 3  # every threshold, the three newest detectors
    assert len(engine._anomaly) == 3
    small = RuleEngine(specs[:1], max_states=2)
    assert small.observe("m", {"id": "0"}, 0, 9)[0].firing
    small.observe("m", {"id": "1"}, 1, 0)
    [cleared] = small.observe("m", {"id": "2"}, 2, 0)
    assert not cleared.firing and dict(cleared.labels) == {"id": "0"}
    assert "no longer judged" in cleared.explanation and small.firing() == {"hot": 0}


@pytest.mark.parametrize(
    "expr",
    ["m ~ 3", "m >", "anomaly(m) > 2", "m{node} > 1", "> 3"],
)
def test_a_malformed_rule_is_refused_with_the_fix(expr: str) -> None:
    with pytest.raises(ValueError, match=r"rule"):
        parse_rule_expr(expr)


def test_two_rules_with_one_name_are_refused() -> None:
    # they shared one state per series: the second was judged by the first's condition
    hot = RuleSpec("temp", "gpu.temperature_c", {}, ">", 85)
    cold = RuleSpec("temp", "gpu.temperature_c", {}, "<", 10)
    with pytest.raises(ValueError, match=r"rule names must be unique: \['temp'\]"):
        RuleEngine([hot, cold])


def test_a_breach_taken_up_after_a_restart_clears_at_the_next_value_within_bounds() -> None:
    static = RuleSpec("hot", "cpu", {}, ">", 90.0)
    anomaly = RuleSpec("odd", "cpu", {"node": "a"}, ">", 0.9, anomaly=True)
    engine = RuleEngine([static, anomaly])
    assert engine.restore("hot", {"node": "a"}) and engine.restore("odd", {"node": "a"})
    assert not engine.restore("gone", {"node": "a"})  # no such rule any more
    assert not engine.restore("odd", {"node": "b"})  # the rule no longer matches this series
    assert engine.firing() == {"hot": 1, "odd": 1}
    # hot: still beyond; odd: its detector starts afresh, it cannot call the series out of a
    # range it has not learned yet, so it clears and says why
    [odd] = engine.observe("cpu", {"node": "a"}, 10.0, 95.0)
    assert (odd.rule, odd.firing) == ("odd", False)
    assert "judged afresh since the controller restarted" in odd.explanation
    changes = engine.observe("cpu", {"node": "a"}, 20.0, 50.0)
    assert [(c.rule, c.firing) for c in changes] == [("hot", False)]
    assert engine.firing() == {"hot": 0, "odd": 0}


def test_a_clear_on_the_wrong_side_of_the_value_is_refused_before_any_sample() -> None:
    # it was taken, then refused by the threshold on the rule's first sample, in a push
    with pytest.raises(ValueError, match=r"rule hot: clear \(95\) must be at or below its value"):
        RuleEngine([RuleSpec("hot", "cpu", {}, ">", 90.0, clear=95.0)])
    with pytest.raises(ValueError, match=r"rule cold: clear \(5\) must be at or above its value"):
        RuleEngine([RuleSpec("cold", "cpu", {}, "<=", 10.0, clear=5.0)])


@pytest.mark.parametrize("op", [">=", "<="])
def test_an_inclusive_rule_with_clear_at_its_value_clears_once_past_it(op: str) -> None:
    sign = 1.0 if op == ">=" else -1.0
    engine = RuleEngine([RuleSpec("edge", "m", {}, op, 90.0 * sign, clear=90.0 * sign)])
    [fired] = engine.observe("m", {}, 1.0, 90.0 * sign)
    assert fired.firing
    assert engine.observe("m", {}, 2.0, 90.0 * sign) == []  # still at the value: still firing
    [cleared] = engine.observe("m", {}, 3.0, 89.0 * sign)
    assert not cleared.firing


def test_the_settings_refuse_a_clear_on_the_wrong_side_at_its_line() -> None:
    text = "rules:\n  - name: hot\n    expr: 'gpu.t > 85'\n    clear: 90\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "vigil.yaml")
    [problem] = caught.value.problems
    assert problem.startswith("vigil.yaml:4: rules[0].clear: must be at or below the value of")
    assert parse_settings(text.replace("90", "80"), "vigil.yaml").rules[0].clear == 80


@pytest.mark.parametrize("matcher", ['gpu!="0"', 'gpu=~"0|1"', 'gpu!~"0"'])
def test_a_label_matcher_other_than_equality_is_refused_naming_it(matcher: str) -> None:
    # read as a label named 'gpu!' (or the value '~"0|1'), the rule matched no series, silently
    with pytest.raises(ValueError, match=r"label matcher gpu(!=|=~|!~) is not supported"):
        parse_rule_expr(f"gpu.temperature_c{{{matcher}}} > 85")


def test_a_quoted_label_value_may_hold_a_comma() -> None:
    rule = parse_rule_expr('http.errors{path="/a,b", code=500} > 5')
    assert rule.labels == {"path": "/a,b", "code": "500"}


def test_a_clear_that_is_not_a_finite_number_is_refused() -> None:
    # clear: .nan compared false both ways: a value staying beyond the limit fired and
    # cleared the rule at every other sample, an incident opened and resolved each time
    with pytest.raises(ValueError, match=r"rule hot: value \(90.0\) and clear \(nan\) must be"):
        RuleEngine([RuleSpec("hot", "m", {}, ">", 90.0, clear=math.nan)])
    for clear in (".nan", ".inf", "-.inf"):
        text = f"rules:\n  - name: hot\n    expr: 'm > 90'\n    clear: {clear}\n"
        with pytest.raises(ConfigError) as caught:
            parse_settings(text, "vigil.yaml")
        [problem] = caught.value.problems
        assert problem.startswith("vigil.yaml:4: rules[0].clear: must be a finite number")
