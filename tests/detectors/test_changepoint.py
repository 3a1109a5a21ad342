"""CUSUM finds level shifts soon after they happen and stays quiet on a stable series."""

from __future__ import annotations

import random

from vigil.detectors import Cusum


def test_a_level_shift_is_found_within_a_few_rows() -> None:
    rng = random.Random(5)
    values = [rng.gauss(10, 1) for _ in range(200)] + [rng.gauss(13, 1) for _ in range(50)]
    det = Cusum()
    out = [det.update(float(i), v) for i, v in enumerate(values)]
    alarms = [i for i, s in enumerate(out) if s.value >= 0.5]
    found = [i for i in alarms if 200 <= i <= 210]
    assert found, alarms
    assert "level shift up" in out[found[0]].explanation
    assert len(alarms) - len(found) <= 2  # false alarms are rare (ARL ~470 rows)


def test_a_downward_shift_is_named_as_such() -> None:
    det = Cusum()
    out = [det.update(float(i), 10.0 + (i % 2) * 0.5) for i in range(100)]
    out += [det.update(float(100 + i), 5.0) for i in range(5)]
    assert any("level shift down" in s.explanation for s in out)


def test_a_constant_series_scores_zero() -> None:
    det = Cusum()
    assert all(det.update(float(i), 3.0).value == 0.0 for i in range(300))


def test_a_huge_value_while_learning_does_not_blind_the_detector_for_ever() -> None:
    # Welford's spread went inf: z was 0 for every later value, so no alarm and no reset
    rng = random.Random(5)
    det = Cusum()
    det.update(0.0, 1e200)
    for i in range(1, 100):
        det.update(float(i), rng.gauss(10.0, 1.0))
    scores = [det.update(float(i), 20.0).value for i in range(100, 110)]
    assert max(scores) >= 0.5  # a ten-sigma shift alarms within a few rows
