from __future__ import annotations

import random

import pytest

from vigil.logs.analysis import AssociationMiner

PLANTED, NOISE, RARE = 1, 2, 3


def _history(miner: AssociationMiner, *, seed: int = 3, hours: int = 48) -> float:
    """Noise lines every ~10 s for ``hours``; an incident every ~2 h, each preceded by the
    planted template 30-120 s before it; a rare template at random times. Returns the end."""
    rng = random.Random(seed)
    events: list[tuple[float, str, int]] = []
    end = hours * 3600.0
    t = 0.0
    while t < end:
        events.append((t, "line", NOISE))
        t += rng.expovariate(1 / 10.0)
    for _ in range(30):
        events.append((rng.uniform(0, end), "line", RARE))
    incident = 1800.0
    while incident < end:
        events.append((incident - rng.uniform(30, 120), "line", PLANTED))
        events.append((incident, "incident", 0))
        incident += rng.uniform(1.5, 2.5) * 3600
    for at, kind, tid in sorted(events):
        if kind == "line":
            miner.occurrence(tid, at)
        else:
            miner.incident("replica:llm/0", at)
    return end


def test_the_template_planted_before_every_incident_is_found_with_lift_above_one() -> None:
    miner = AssociationMiner(window=300.0)
    end = _history(miner)
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
    end = _history(miner)
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
    assert miner.base_rate(600.0) == pytest.approx(100.0 / 500.0)  # [0, 500) resolved so far


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
