"""Static thresholds: a for-duration before firing and hysteresis before clearing."""

from __future__ import annotations

import pytest

from vigil.detectors import StaticThreshold


def test_a_breach_fires_only_after_its_for_duration() -> None:
    rule = StaticThreshold(85.0, for_seconds=60.0)
    assert rule.update(0.0, 90.0).value == 0.0  # pending, just started
    assert 0.0 < rule.update(30.0, 90.0).value < 1.0
    assert rule.update(60.0, 90.0).value == 1.0
    assert rule.firing


def test_a_dip_below_the_limit_restarts_the_clock() -> None:
    rule = StaticThreshold(85.0, for_seconds=60.0)
    rule.update(0.0, 90.0)
    rule.update(50.0, 80.0)
    assert rule.update(70.0, 90.0).value == 0.0
    assert rule.update(129.0, 90.0).value < 1.0
    assert rule.update(130.0, 90.0).value == 1.0


def test_hysteresis_keeps_firing_until_the_clear_level() -> None:
    rule = StaticThreshold(85.0, clear=80.0)
    assert rule.update(0.0, 86.0).value == 1.0
    assert rule.update(1.0, 82.0).value == 1.0  # between clear and limit: still firing
    assert rule.update(2.0, 79.0).value == 0.0
    assert not rule.firing


def test_a_lower_bound_fires_below_it() -> None:
    rule = StaticThreshold(10.0, above=False)
    assert rule.update(0.0, 11.0).value == 0.0
    assert rule.update(1.0, 9.0).value == 1.0


def test_a_clear_level_on_the_wrong_side_is_rejected() -> None:
    with pytest.raises(ValueError, match="clear"):
        StaticThreshold(85.0, clear=90.0)
