"""The seed's rolling k-sigma rule and its EWMA and MAD variants."""

from __future__ import annotations

import random

import pytest

from vigil.detectors import EwmaZScore, MadZScore, RollingZScore, Score
from vigil.detectors._score import Detector


def gaussian(n: int, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [100 + rng.gauss(0, 1) for _ in range(n)]


@pytest.mark.parametrize("make", [RollingZScore, EwmaZScore, MadZScore])
def test_a_spike_crosses_the_k_sigma_boundary(make: type[Detector]) -> None:
    det = make()
    values = [*gaussian(300), 110.0]
    out = [det.update(float(i), v) for i, v in enumerate(values)]
    assert out[-1].value > 0.5
    assert "beyond" in out[-1].explanation
    assert sum(s.value >= 0.5 for s in out[:-1]) <= 3


@pytest.mark.parametrize("make", [RollingZScore, EwmaZScore, MadZScore])
def test_a_constant_series_scores_zero(make: type[Detector]) -> None:
    det = make()
    out = [det.update(float(i), 5.0) for i in range(200)]
    assert all(s.value == 0.0 for s in out)


def test_the_boundary_scores_exactly_one_half() -> None:
    det = RollingZScore(window=20, k=2.0)
    for i, v in enumerate([1.0, -1.0] * 10):
        det.update(float(i), v)
    assert det.update(20.0, 2.0).value == pytest.approx(0.5)


def test_one_spike_does_not_hide_the_next_from_the_mad_detector() -> None:
    det = MadZScore(window=50)
    values = gaussian(100)
    values[80] = 150.0
    out = [det.update(float(i), v) for i, v in enumerate([*values, 150.0])]
    assert out[-1].value > 0.9


def test_a_score_outside_zero_one_is_rejected() -> None:
    with pytest.raises(ValueError):
        Score(float("nan"))


@pytest.mark.parametrize("make", [RollingZScore, EwmaZScore, MadZScore])
@pytest.mark.parametrize("huge", [1e200, -1.7e308])
def test_one_huge_value_does_not_blind_the_detector_for_ever(
    make: type[Detector], huge: float
) -> None:
    # a finite value whose square overflows made the running sums or the EWMA variance inf
    # (and inf - inf = nan): every later score was 0, however far off
    rng = random.Random(3)
    det = make()
    for i in range(300):
        det.update(float(i), rng.gauss(10.0, 1.0))
    assert det.update(300.0, huge).value > 0.99  # judged far beyond
    for i in range(301, 600):  # long enough for the huge value to leave the rolling window
        assert det.update(float(i), rng.gauss(10.0, 1.0)).value < 0.9
    assert det.update(600.0, 1000.0).value > 0.9


@pytest.mark.parametrize("make", [RollingZScore, EwmaZScore, MadZScore])
def test_a_huge_first_value_does_not_blind_the_detector_for_ever(make: type[Detector]) -> None:
    rng = random.Random(4)
    det = make()
    det.update(0.0, 1e200)
    for i in range(1, 300):
        det.update(float(i), rng.gauss(10.0, 1.0))
    assert det.update(300.0, 1000.0).value > 0.9
