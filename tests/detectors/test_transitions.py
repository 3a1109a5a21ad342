"""Transition novelty: a jump between levels of the range never made before is evidence once."""

from __future__ import annotations

import random

import pytest

from vigil.detectors import RecordEnsemble
from vigil.detectors._transitions import TransitionNovelty

LO, HI = 0.0, 10.0  # levels of 2 wide with the default 5 levels


def walk(novelty: TransitionNovelty, values: list[float]) -> list[float]:
    return [novelty.push(v, LO, HI) for v in values]


def flapping(n: int, seed: int = 3) -> list[float]:
    """Values at the bottom level that now and then spike to the top level and come back."""
    rng = random.Random(seed)
    return [9.5 if i % 37 == 0 else rng.uniform(0.0, 1.5) for i in range(n)]


def test_a_jump_to_a_level_never_reached_that_way_is_evidence_once() -> None:
    novelty = TransitionNovelty()
    assert max(walk(novelty, flapping(2000))) == 0.0  # all transitions seen in the warm-up
    first = walk(novelty, [5.0, 0.5])  # bottom -> middle and middle -> bottom: both new
    assert first[0] > 0.5 and first[1] > 0.5
    again = walk(novelty, [0.5, 5.0, 0.5])
    assert again == [0.0, 0.0, 0.0]


def test_a_new_transition_is_stronger_evidence_after_a_longer_history() -> None:
    short, long = TransitionNovelty(), TransitionNovelty()
    walk(short, flapping(300))
    walk(long, flapping(20000))
    assert long.push(5.0, LO, HI) > short.push(5.0, LO, HI) > 0.0


def test_many_recent_new_transitions_make_each_new_one_weaker() -> None:
    rare, busy = TransitionNovelty(levels=10), TransitionNovelty(levels=10)
    walk(rare, flapping(1000))
    walk(busy, flapping(1000))
    # ``busy`` has just walked several new paths once each (Good-Turing's N1 is larger).
    walk(busy, [3.5, 0.5, 5.5, 0.5, 7.5, 0.5])
    assert 0.0 < busy.push(2.5, LO, HI) < rare.push(2.5, LO, HI)


def test_nothing_is_judged_while_warming_up_or_while_the_range_is_a_point() -> None:
    novelty = TransitionNovelty(warm_up=150)
    assert max(walk(novelty, [0.5, 9.5, 5.0, 3.0, 7.0] * 20)) == 0.0
    assert novelty.push(5.0, 4.0, 4.0) == 0.0


def test_fewer_than_two_levels_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="at least 2 levels"):
        TransitionNovelty(levels=1)


def test_the_default_detector_alarms_on_a_new_jump_with_every_value_inside_the_range() -> None:
    values = flapping(3000)  # a quiet series whose only excursions go straight to the top
    values[2500] = 5.0  # half-way up: inside the range, never reached from the bottom
    det = RecordEnsemble()
    out = [det.update(i * 300.0, v) for i, v in enumerate(values)]
    assert out[2500].value > 0.8
    assert out[2500].value > 3 * max(o.value for o in out[300:2500])
    assert out[2500].explanation.startswith("transition between levels")
