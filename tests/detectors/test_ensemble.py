"""The default ensemble detector on synthetic series: spikes stand out, steady rhythms do not."""

from __future__ import annotations

import math
import random

from vigil.detectors import EnsembleDetector, Score

STEP = 300.0  # NAB's five-minute sampling


def scores(values: list[float]) -> list[float]:
    det = EnsembleDetector()
    return [det.update(i * STEP, v).value for i, v in enumerate(values)]


def noisy_sine(n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [10 + 5 * math.sin(2 * math.pi * i / 288) + rng.gauss(0, 0.3) for i in range(n)]


def test_a_spike_scores_higher_than_everything_before_it() -> None:
    values = noisy_sine(2000)
    values[1500] += 20
    s = scores(values)
    assert s[1500] > 0.9
    assert s[1500] > max(s[300:1500])


def test_a_steady_daily_sine_is_not_flagged() -> None:
    s = scores(noisy_sine(3000))
    assert max(s[600:]) < 0.9


def test_a_constant_series_scores_zero_and_never_nan() -> None:
    s = scores([7.0] * 1000)
    assert all(v == 0.0 for v in s)


def test_a_step_away_from_a_constant_series_is_an_alarm() -> None:
    s = scores([7.0] * 500 + [9.0] * 10)
    assert s[500] > 0.9


def test_nan_and_huge_values_give_finite_scores_in_range() -> None:
    det = EnsembleDetector()
    values = [1.0, 2.0, math.nan, 1e308, -1e308, 3.0] * 100
    for i, v in enumerate(values):
        score = det.update(i * STEP, v)
        assert isinstance(score, Score)
        assert 0.0 <= score.value <= 1.0


def test_echoes_of_an_alarm_are_damped() -> None:
    values = noisy_sine(2000)
    for i in range(1500, 1505):
        values[i] += 20
    s = scores(values)
    assert s[1500] > 0.9
    assert max(s[1501:1505]) < s[1500]


def test_an_alarm_explains_which_feature_was_surprising() -> None:
    det = EnsembleDetector()
    values = noisy_sine(1000)
    values[900] += 30
    out = [det.update(i * STEP, v) for i, v in enumerate(values)]
    assert "surprising" in out[900].explanation
