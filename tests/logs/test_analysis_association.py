from __future__ import annotations

import random

import pytest

from vigil.logs.analysis import AssociationMiner

from ._history import NOISE, PLANTED, RARE, replay_history


def test_the_template_planted_before_every_incident_is_found_with_lift_above_one() -> None:
    miner = AssociationMiner(window=300.0)
    end = replay_history(miner, seed=3, noise_every=10.0, rare=30)
    rules = miner.rules(end)
    assert rules and rules[0].template_id == PLANTED
    top = rules[0]
    assert top.support == 1.0
    assert top.confidence == 1.0
    assert top.lift > 5
    assert top.last_subject == "replica:llm/0"
    assert top.incidents_preceded == miner.incidents


def test_templates_unrelated_to_incidents_make_no_rule() -> None:
    miner = AssociationMiner(window=300.0)
    end = replay_history(miner, seed=3, noise_every=10.0, rare=30)
    ids = {r.template_id for r in miner.rules(end)}
    assert NOISE not in ids and RARE not in ids
    noise = miner.rules(end, min_support=0.0, min_confidence=0.0, min_lift=0.0)
    lifts = {r.template_id: r.lift for r in noise}
    assert lifts[NOISE] == pytest.approx(1.0, abs=0.25)


def test_the_base_rate_is_the_share_of_time_followed_by_an_incident() -> None:
    miner = AssociationMiner(window=100.0)
    miner.occurrence(NOISE, 0.0)
    miner.incident("node:a", 500.0)
    miner.incident("node:a", 550.0)  # overlaps the first window: 150 s covered in all
    assert miner.base_rate(50.0) is None
    assert miner.base_rate(1100.0) == pytest.approx(150.0 / 1000.0)
    # [0, 550) resolved so far: W has passed after [0, 500), and [500, 550) is followed by the
    # incident at 550 (as the lines there are counted followed)
    assert miner.base_rate(600.0) == pytest.approx(150.0 / 550.0)


@pytest.mark.parametrize("incidents", [1, 2, 5])
def test_a_template_logged_at_random_has_a_lift_near_one_just_after_an_incident(
    incidents: int,
) -> None:
    """Rules are looked at a minute after an incident (once it has settled): then the lines of
    its window are followed, and so must be the time points the base rate counts. Counted in
    the confidence but not in the base rate, they gave noise a lift of ~4.4 after the first
    incident (a rule, above the default min_lift 3) and ~K/(K-1) after K."""
    rng = random.Random(incidents)
    miner = AssociationMiner(window=300.0)
    times = [3600.0 * (k + 1) for k in range(incidents)]
    now = times[-1] + 60.0
    t = rng.expovariate(1.0)  # about a line a second, at random times
    for at in [*times, now]:
        while t < at:
            miner.occurrence(NOISE, t)
            t += rng.expovariate(1.0)
        if at != now:
            miner.incident("node:a", at)
    (rule,) = miner.rules(now, min_support=0.0, min_confidence=0.0, min_lift=0.0)
    assert rule.support == 1.0  # a busy template is in the window of every incident
    assert rule.lift == pytest.approx(1.0, abs=0.15)
    assert miner.rules(now, min_lift=3.0) == []


def test_lines_still_waiting_for_their_window_are_not_counted_as_misses() -> None:
    miner = AssociationMiner(window=100.0)
    for t in range(0, 1000, 10):
        miner.occurrence(NOISE, float(t))
    miner.incident("node:a", 500.0)
    miner.occurrence(PLANTED, 990.0)
    rules = miner.rules(1000.0, min_support=0.0, min_confidence=0.0, min_lift=0.0)
    assert PLANTED not in {r.template_id for r in rules}  # its only line is unresolved


def test_memory_stays_bounded_on_an_endless_stream() -> None:
    miner = AssociationMiner(window=60.0, resolution=10, max_templates=100)
    for i in range(100_000):
        miner.occurrence(i % 1000, i * 0.5)
        if i % 500 == 0:
            miner.incident("node:a", i * 0.5)
    assert len(miner) == 100
    assert all(len(s.pending) <= 11 for s in miner._stats.values())
