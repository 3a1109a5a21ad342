from __future__ import annotations

import pytest

from vigil.logs.analysis import FaultBayes

from ._history import NOISE, PLANTED, RARE, replay_history


def test_the_posterior_is_high_for_the_planted_template() -> None:
    bayes = FaultBayes(slot=60.0, window=300.0)
    end = replay_history(bayes, seed=5, noise_every=20.0, rare=40)
    assert bayes.posterior(PLANTED, end) > 0.8
    top = bayes.top(3, end)
    assert top[0].template_id == PLANTED
    assert top[0].fault_slots == top[0].slots
    assert top[0].lift > 5


def test_the_posterior_is_near_the_base_rate_for_noise() -> None:
    bayes = FaultBayes(slot=60.0, window=300.0)
    end = replay_history(bayes, seed=5, noise_every=20.0, rare=40)
    prior = bayes.prior(end)
    assert 0.02 < prior < 0.2
    assert bayes.posterior(NOISE, end) == pytest.approx(prior, rel=0.2)
    assert bayes.posterior(RARE, end) < 3 * prior
    assert bayes.posterior(999, end) == prior  # never seen: the prior


def test_a_template_seen_once_outside_faults_stays_below_the_prior() -> None:
    bayes = FaultBayes(slot=60.0, window=300.0)
    end = replay_history(bayes, seed=5, noise_every=20.0, rare=40)
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
