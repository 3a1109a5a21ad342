"""The contextual novelty view: new patterns are flagged without extreme values, known ones not."""

from __future__ import annotations

import math

from vigil.detectors import ContextNovelty, EnsembleDetector
from vigil.detectors._context import REST, WARM_UP

STEP = 300.0


def raw_shares(values: list[float]) -> list[float | None]:
    ctx = ContextNovelty()
    return [ctx.raw(v) for v in values]


def saw(n: int, period: int = 20) -> list[float]:
    """A repeating ramp 0..period-1: every pattern recurs each period, values stay in range."""
    return [float(i % period) for i in range(n)]


def test_a_repeated_pattern_stops_being_anomalous() -> None:
    shares = raw_shares(saw(WARM_UP + 400))
    assert all(s == 0.0 for s in shares[WARM_UP:])


def test_a_new_pattern_without_an_extreme_value_is_flagged() -> None:
    values = saw(1000)
    # Known values, inside the known range, in an order never seen: a low-high zigzag.
    values[800:820] = [2.0, 17.0] * 10
    shares = raw_shares(values)
    assert max(s for s in shares[WARM_UP:800] if s is not None) == 0.0
    assert max(s for s in shares[800:820] if s is not None) > 0.5
    assert min(values[800:820]) >= min(values[:800]) and max(values[800:820]) <= max(values[:800])


def test_the_ensemble_flags_the_new_pattern_too() -> None:
    values = saw(1000)
    values[800:820] = [2.0, 17.0] * 10
    det = EnsembleDetector()
    s = [det.update(i * STEP, v) for i, v in enumerate(values)]
    hit = max(range(800, 820), key=lambda i: s[i].value)
    assert s[hit].value > max(x.value for x in s[WARM_UP:800])
    assert s[hit].value >= 0.75
    assert "new pattern" in s[hit].explanation


def test_a_constant_input_gives_zero_and_no_nan() -> None:
    ctx = ContextNovelty()
    out = [ctx.update(i * STEP, 5.0).value for i in range(1000)]
    assert all(v == 0.0 and not math.isnan(v) for v in out)


def test_nan_and_huge_values_give_scores_in_range() -> None:
    ctx = ContextNovelty()
    values = [1.0, math.nan, 1e308, -1e308, 3.0, 2.0] * 200
    for i, v in enumerate(values):
        value = ctx.update(i * STEP, v).value
        assert 0.0 <= value <= 1.0


def test_an_alarm_is_followed_by_a_rest_period() -> None:
    ctx = ContextNovelty()
    values = saw(1000)
    values[800:820] = [2.0, 17.0] * 10
    out = [ctx.update(i * STEP, v).value for i, v in enumerate(values)]
    first = next(i for i in range(800, 820) if out[i] >= 0.75)
    assert all(v == 0.0 for v in out[first + 1 : first + 1 + REST])


def test_memory_stays_bounded_on_endless_novelty() -> None:
    from vigil.detectors._context import CAPACITY

    ctx = ContextNovelty()
    x = 0.1234
    for _ in range(40_000):  # a chaotic logistic map: new contexts all the time
        x = 3.99 * x * (1 - x)
        ctx.raw(x)
    assert len(ctx._new) < CAPACITY and len(ctx._old) <= CAPACITY
