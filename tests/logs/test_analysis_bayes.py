from __future__ import annotations

import random

import pytest

from vigil.logs.analysis import FaultBayes

PLANTED, NOISE, RARE = 1, 2, 3


def _history(bayes: FaultBayes, *, seed: int = 5, hours: int = 48) -> float:
    rng = random.Random(seed)
    events: list[tuple[float, str, int]] = []
    end = hours * 3600.0
    t = 0.0
    while t < end:
        events.append((t, "line", NOISE))
        t += rng.expovariate(1 / 20.0)
    for _ in range(40):
        events.append((rng.uniform(0, end), "line", RARE))
    incident = 1800.0
    while incident < end:
        events.append((incident - rng.uniform(30, 120), "line", PLANTED))
        events.append((incident, "incident", 0))
        incident += rng.uniform(1.5, 2.5) * 3600
    for at, kind, tid in sorted(events):
        if kind == "line":
            bayes.occurrence(tid, at)
        else:
            bayes.incident("replica:llm/0", at)
    return end


def test_the_posterior_is_high_for_the_planted_template() -> None:
    bayes = FaultBayes(slot=60.0, window=300.0)
    end = _history(bayes)
    assert bayes.posterior(PLANTED, end) > 0.8
    top = bayes.top(3, end)
    assert top[0].template_id == PLANTED
    assert top[0].fault_slots == top[0].slots
    assert top[0].lift > 5


def test_the_posterior_is_near_the_base_rate_for_noise() -> None:
    bayes = FaultBayes(slot=60.0, window=300.0)
    end = _history(bayes)
    prior = bayes.prior(end)
    assert 0.02 < prior < 0.2
    assert bayes.posterior(NOISE, end) == pytest.approx(prior, rel=0.2)
    assert bayes.posterior(RARE, end) < 3 * prior
    assert bayes.posterior(999, end) == prior  # never seen: the prior


def test_a_template_seen_once_outside_faults_stays_below_the_prior() -> None:
    bayes = FaultBayes(slot=60.0, window=300.0)
    end = _history(bayes)
    bayes.occurrence(77, end + 1.0)
    assert bayes.posterior(77, end + 1000.0) < bayes.prior(end + 1000.0)


def test_slots_are_counted_with_their_labels_once_their_horizon_has_passed() -> None:
    bayes = FaultBayes(slot=10.0, window=20.0)
    bayes.occurrence(PLANTED, 5.0)  # slot 0
    bayes.incident("node:a", 25.0)  # labels slots 0..2 (within 20 s after their end, or during)
    assert bayes.slots == 0  # slot 0 is final at 10 + 20 s
    bayes.occurrence(NOISE, 45.0)  # slot 4
    assert (bayes.slots, bayes.fault_slots) == (2, 2)
    bayes.prior(200.0)
    assert (bayes.slots, bayes.fault_slots) == (18, 3)
    assert bayes.posterior(PLANTED, 200.0) > bayes.posterior(NOISE, 200.0)
    # P(f) = (3 + 1) / (18 + 2); P(f | T) = (f_T + 2 P(f)) / (n_T + 2)
    assert bayes.posterior(PLANTED, 200.0) == pytest.approx((1 + 0.4) / 3)
    assert bayes.posterior(NOISE, 200.0) == pytest.approx((0 + 0.4) / 3)


def test_a_long_silence_is_counted_without_walking_every_slot() -> None:
    bayes = FaultBayes(slot=1.0, window=5.0)
    bayes.occurrence(NOISE, 0.0)
    bayes.incident("node:a", 10.0)
    assert bayes.prior(1e9) == pytest.approx((6 + 1) / (1e9 - 6 + 2), rel=1e-6)


def test_memory_stays_bounded_on_an_endless_stream() -> None:
    bayes = FaultBayes(slot=1.0, window=5.0, max_templates=100)
    for i in range(50_000):
        bayes.occurrence(i % 700, i * 0.1)
        if i % 3000 == 0:
            bayes.incident("node:a", i * 0.1)
    assert len(bayes) == 100
    assert len(bayes._open) <= 8
    assert len(bayes._incidents) <= 2
