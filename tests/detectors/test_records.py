"""The record cores: a value outside everything seen is evidence, echoes of an alarm are damped."""

from __future__ import annotations

import math
import random

import pytest

from vigil.detectors import RangeRecord, Refractory


def fed(values: list[float], warm_up: int = 10) -> list[float]:
    rec = RangeRecord(warm_up)
    return [rec.push(v) for v in values]


def test_values_inside_the_range_seen_are_no_evidence() -> None:
    rng = random.Random(3)
    values = [rng.uniform(0.0, 1.0) for _ in range(50)] + [0.0, 1.0] + [0.5] * 100
    out = fed(values)
    assert all(e == 0.0 for e in out[52:])


def test_a_record_scores_its_excess_in_units_of_the_range_times_log_history() -> None:
    values = [0.0, 10.0] * 50 + [15.0]
    out = fed(values)
    assert out[-1] == pytest.approx(math.log(1 + 101) * 5.0 / 10.0)


def test_the_same_record_twice_is_evidence_once() -> None:
    values = [0.0, 10.0] * 50 + [15.0, 15.0, 14.0]
    out = fed(values)
    assert out[-3] > 0.0
    assert out[-2] == 0.0 and out[-1] == 0.0


def test_a_low_record_counts_like_a_high_one() -> None:
    up = fed([0.0, 10.0] * 50 + [13.0])[-1]
    down = fed([0.0, 10.0] * 50 + [-3.0])[-1]
    assert up == pytest.approx(down) and up > 0.0


def test_records_during_the_warm_up_are_learned_not_judged() -> None:
    rec = RangeRecord(warm_up=20)
    out = [rec.push(float(i)) for i in range(20)]  # every value a record
    assert all(e == 0.0 for e in out)
    assert (rec.lo, rec.hi) == (0.0, 19.0)
    assert rec.push(25.0) > 0.0


def test_a_later_record_is_stronger_evidence_than_an_early_one_of_the_same_size() -> None:
    early = fed([0.0, 10.0] * 20 + [12.0])[-1]
    late = fed([0.0, 10.0] * 500 + [12.0])[-1]
    assert late > early > 0.0


def test_the_first_change_of_a_constant_signal_is_a_finite_strong_record() -> None:
    out = fed([5.0] * 100 + [5.5])
    assert all(e == 0.0 for e in out[:100])
    assert math.isfinite(out[-1]) and out[-1] > 1e6


def test_learn_widens_the_range_without_judging() -> None:
    rec = RangeRecord(warm_up=0)
    rec.learn(0.0)
    rec.learn(10.0)
    assert rec.n == 0
    assert rec.push(5.0) == 0.0
    assert rec.push(20.0) > 0.0


def test_echoes_within_the_rest_are_damped_and_ordered() -> None:
    rest = Refractory(rest=5, ratio=1.5, echo=1e-6)
    assert rest(0.5) == 0.5
    echoes = [rest(s) for s in (0.4, 0.6, 0.3)]
    assert echoes == pytest.approx([0.4e-6, 0.6e-6, 0.3e-6])
    assert echoes[1] > echoes[0] > echoes[2]


def test_a_much_stronger_event_alarms_during_the_rest() -> None:
    rest = Refractory(rest=100, ratio=1.5, echo=1e-6)
    rest(0.2)
    assert rest(0.25) < 1e-5
    assert rest(0.4) == 0.4  # > 1.5 x 0.25: a new alarm, which starts its own rest
    assert rest(0.5) < 1e-5


def test_an_event_that_grows_slowly_is_one_alarm() -> None:
    rest = Refractory(rest=100, ratio=1.5, echo=1e-6)
    assert rest(0.2) == 0.2
    growing = [0.25, 0.29, 0.35, 0.45, 0.6, 0.8]  # each < 1.5 x the largest before it
    assert all(rest(s) < 1e-5 for s in growing)


def test_the_rest_ends_after_its_rows() -> None:
    rest = Refractory(rest=3, ratio=1.5, echo=1e-6)
    rest(0.5)
    assert [rest(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rest(0.1) == 0.1


def test_bad_refractory_settings_are_refused_with_the_values() -> None:
    with pytest.raises(ValueError, match="ratio >= 1"):
        Refractory(rest=10, ratio=0.5, echo=0.0)


def test_a_smoothed_signal_counts_its_history_in_independent_samples() -> None:
    raw, smooth = RangeRecord(10), RangeRecord(10, rows_per_sample=63.0)
    for v in [0.0, 10.0] * 500:
        raw.push(v)
        smooth.push(v)
    assert smooth.push(15.0) == pytest.approx(math.log(1 + 1001 / 63.0) * 0.5)
    assert raw.push(15.0) == pytest.approx(math.log(1 + 1001) * 0.5)
