"""Seasonal baselines: a daily rhythm is learned per slot, a break of the rhythm is seen."""

from __future__ import annotations

import math
import random

from vigil.detectors import Lag, SeasonalZScore

DAY = 86400.0
STEP = 600.0


def day_shape(t: float) -> float:
    return 50 + 40 * math.sin(2 * math.pi * t / DAY)


def test_a_steady_daily_rhythm_is_not_flagged() -> None:
    rng = random.Random(2)
    det = SeasonalZScore()
    times = [i * STEP for i in range(int(10 * DAY / STEP))]
    out = [det.update(t, day_shape(t) + rng.gauss(0, 1)) for t in times]
    late = out[len(out) // 2 :]
    assert max(s.value for s in late) < 0.6


def test_a_normal_value_at_the_wrong_time_of_day_is_flagged() -> None:
    rng = random.Random(2)
    det = SeasonalZScore()
    times = [i * STEP for i in range(int(10 * DAY / STEP))]
    for t in times:
        det.update(t, day_shape(t) + rng.gauss(0, 1))
    noon_peak = day_shape(DAY / 4)  # the daily maximum, seen every day at 06:00
    midnight = times[-1] + STEP * (DAY / STEP - len(times) % (DAY / STEP))
    assert det.update(midnight + DAY * 0.75, noon_peak).value > 0.8  # 18:00 is the trough


def test_lag_returns_the_value_one_period_earlier() -> None:
    lag = Lag(DAY)
    seen = [lag.push(i * 3600.0, float(i)) for i in range(30)]
    assert seen[:24] == [None] * 24
    assert seen[24:] == [float(i) for i in range(6)]


def test_lag_treats_a_gap_as_unknown() -> None:
    lag = Lag(DAY, tolerance=3600.0)
    lag.push(0.0, 1.0)
    assert lag.push(3 * DAY, 2.0) is None
