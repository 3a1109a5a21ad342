"""The default detector on synthetic series: spikes, shifts and a changed day stand out once."""

from __future__ import annotations

import math
import random

import pytest

from vigil.detectors import RecordEnsemble, Score

STEP = 300.0  # NAB's five-minute sampling
DAY_ROWS = 288


def scores(values: list[float]) -> list[float]:
    det = RecordEnsemble()
    return [det.update(i * STEP, v).value for i, v in enumerate(values)]


def noisy_sine(n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [10 + 5 * math.sin(2 * math.pi * i / DAY_ROWS) + rng.gauss(0, 0.3) for i in range(n)]


def test_a_spike_scores_higher_than_everything_before_it() -> None:
    values = noisy_sine(3000)
    values[2500] += 20
    s = scores(values)
    assert s[2500] > 0.9
    assert s[2500] > 3 * max(s[300:2500])


def test_a_steady_daily_sine_stops_alarming_once_learned() -> None:
    s = scores(noisy_sine(6000))
    late = s[3000:]
    assert max(late) < 0.5
    assert sum(v > 0.0 for v in late) < 30  # records of pure noise are rare


def test_a_spike_repeated_at_the_same_height_alarms_once() -> None:
    values = noisy_sine(4000)
    again = 2000 + 3 * DAY_ROWS
    values[2000] += 20
    values[again] = values[2000]
    s = scores(values)
    assert s[2000] > 0.9
    assert s[again] < 0.1


def test_a_day_without_its_daily_peak_is_an_alarm_with_every_value_in_range() -> None:
    def plateau_day(i: int, low: bool) -> float:
        rng = random.Random(i)
        high = 40.0 if low else 80.0
        return (high if 100 <= i % DAY_ROWS < 200 else 20.0) + rng.gauss(0, 1.0)

    values = [plateau_day(i, low=i // DAY_ROWS == 10) for i in range(12 * DAY_ROWS)]
    s = scores(values)
    changed = s[10 * DAY_ROWS + 100 : 10 * DAY_ROWS + 200]
    before = s[DAY_ROWS : 10 * DAY_ROWS]
    assert max(changed) > 0.8
    assert max(changed) > max(before)


def test_a_level_shift_inside_the_range_of_past_spikes_is_an_alarm() -> None:
    rng = random.Random(5)
    values = [10 + rng.gauss(0, 0.5) for _ in range(3000)]
    values[1000] = 60.0  # an old spike stretches the value range
    values += [25 + rng.gauss(0, 0.5) for _ in range(200)]
    s = scores(values)
    assert max(s[3000:3200]) > 0.3
    assert max(s[3000:3200]) > 3 * max(s[1200:3000])


def test_echoes_of_an_alarm_are_damped() -> None:
    values = noisy_sine(3000)
    for i in range(2500, 2504):
        values[i] += 20 + i - 2500  # each a little higher: still the same episode
    s = scores(values)
    assert s[2500] > 0.9
    assert max(s[2501:2504]) < 1e-3


def test_a_constant_series_scores_zero_and_a_step_away_is_an_alarm() -> None:
    s = scores([7.0] * 500 + [9.0] * 10)
    assert all(v == 0.0 for v in s[:500])
    assert s[500] > 0.9


def test_nan_and_huge_values_give_finite_scores_in_range() -> None:
    det = RecordEnsemble()
    values = [1.0, 2.0, math.nan, 1e308, -1e308, math.inf, 3.0] * 300
    for i, v in enumerate(values):
        score = det.update(i * STEP, v)
        assert isinstance(score, Score)
        assert 0.0 <= score.value <= 1.0


def test_an_alarm_explains_which_view_broke_its_range() -> None:
    det = RecordEnsemble()
    values = noisy_sine(1000)
    values[900] += 30
    out = [det.update(i * STEP, v) for i, v in enumerate(values)]
    assert out[900].explanation.startswith("value beyond its range")
    assert out[10].explanation == "learning"


def test_a_spike_is_not_alarmed_again_a_day_later_by_the_day_over_day_view() -> None:
    values = noisy_sine(8 * DAY_ROWS)
    values[6 * DAY_ROWS] += 20
    s = scores(values)
    assert s[6 * DAY_ROWS] > 0.9
    assert max(s[6 * DAY_ROWS + 150 : 8 * DAY_ROWS]) < 0.5


def test_a_weekday_that_looks_like_a_weekend_is_an_alarm_of_the_week_over_week_view() -> None:
    hour = 3600.0
    holiday = 7 * 24 * 6 + 3 * 24  # the Thursday of the seventh week

    def load(i: int) -> float:
        rng = random.Random(i)
        day, h = (i // 24) % 7, i % 24
        off = day >= 5 or holiday <= i < holiday + 24
        busy = 0.0 if off else 10.0 * math.sin(math.pi * (h - 6) / 12) if 6 <= h <= 18 else 0.0
        return 5.0 + busy + rng.gauss(0, 0.3)

    det = RecordEnsemble()
    out = [det.update(i * hour, load(i)) for i in range(9 * 7 * 24)]
    s = [o.value for o in out]
    peak = max(range(holiday, holiday + 24), key=lambda i: s[i])
    assert s[peak] > 0.8
    assert s[peak] > max(s[5 * 7 * 24 : holiday])
    assert out[peak].explanation.startswith("week-over-week change")


def test_memory_stays_the_same_however_long_and_fast_the_series() -> None:
    import tracemalloc

    def held(n: int) -> int:
        rng = random.Random(0)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        det = RecordEnsemble()
        for i in range(n):
            det.update(float(i), rng.gauss(0.0, 1.0))  # one row per second
        size = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        del det
        return size

    small, large = held(2_000), held(20_000)
    assert large <= small + 4096
    assert large < 200 * 1024


def test_a_burst_in_a_count_series_at_its_quiet_level_is_an_alarm_inside_the_range() -> None:
    # Events per 5 minutes: ~2 between batch jobs, ~200 during the job that runs every other
    # hour (Poisson), switching abruptly.
    rng = random.Random(11)

    def poisson(lam: float) -> int:
        if lam > 50:
            return max(0, round(rng.gauss(lam, lam**0.5)))
        k, p, limit = 0, 1.0, 2.718281828459045**-lam
        while True:
            p *= rng.random()
            if p < limit:
                return k
            k += 1

    values = [float(poisson(200.0 if (i // 12) % 2 else 2.0)) for i in range(3000)]
    burst = 2406  # between two jobs
    values[burst] = 40.0  # a fifth of the job's level: inside the range, 20x the quiet level
    det = RecordEnsemble()
    s = [det.update(i * STEP, v).value for i, v in enumerate(values)]
    assert s[burst] > 0.8
    assert s[burst] == max(s[300:])  # the strongest alarm of the series


def test_a_record_of_a_count_series_weighs_as_much_as_the_same_record_of_a_float_series() -> None:
    def evidence(values: list[float]) -> float:
        det = RecordEnsemble()
        out = [det.update(i * STEP, v) for i, v in enumerate(values)][2500]
        assert out.explanation.startswith("value beyond its range ever seen: evidence ")
        return float(out.explanation.rsplit(" ", 1)[1])

    rng = random.Random(4)
    counts = [float(rng.randint(20, 60)) for _ in range(3000)]
    counts[2500] = 120.0  # twice the highest count ever
    floats = [v + 0.5 for v in counts]  # the same shape, not whole numbers: not counts
    assert evidence(counts) == pytest.approx(evidence(floats), rel=0.01)
