"""The health-state Markov chain: transition estimates and the N-step failure probability."""

from __future__ import annotations

import random

import pytest

from vigil.detectors import HealthMarkov

STATES = ("up", "degraded", "failed")


def fitted() -> HealthMarkov:
    chain = HealthMarkov(STATES)
    # up->up 2, up->degraded 2, degraded->up 1, degraded->failed 1, failed->up 1
    chain.observe(["up", "up", "degraded", "up", "up", "degraded", "failed", "up"])
    return chain


def test_transitions_are_estimated_from_counts() -> None:
    p = fitted().transition_matrix()
    assert p[0] == pytest.approx([0.5, 0.5, 0.0])
    assert p[1] == pytest.approx([0.5, 0.0, 0.5])
    assert p[2] == pytest.approx([1.0, 0.0, 0.0])


def test_failure_within_n_steps_matches_the_absorbing_matrix_power() -> None:
    # With failed absorbing: Q = [[.5,.5,0],[.5,0,.5],[0,0,1]]; P(failed by n) = (Q^n)[0][2].
    # Q^2 row 0 = [.5, .25, .25]; Q^3 row 0 = [.375, .25, .375].
    chain = fitted()
    assert chain.failure_probability("up", 1) == pytest.approx(0.0)
    assert chain.failure_probability("up", 2) == pytest.approx(0.25)
    assert chain.failure_probability("up", 3) == pytest.approx(0.375)
    assert chain.failure_probability("degraded", 1) == pytest.approx(0.5)
    assert chain.failure_probability("failed", 0) == 1.0


def test_failure_probability_grows_with_the_horizon_towards_one() -> None:
    chain = fitted()
    probs = [chain.failure_probability("up", n) for n in range(0, 60, 5)]
    assert probs == sorted(probs)
    assert probs[-1] > 0.99


def test_a_state_never_left_stays_put() -> None:
    chain = HealthMarkov(STATES)
    chain.observe(["up", "up"])
    assert chain.transition_matrix()[1] == [0.0, 1.0, 0.0]
    assert chain.failure_probability("degraded", 10) == 0.0


def test_unknown_states_and_a_missing_failed_state_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown state"):
        fitted().observe(["up", "exploded"])
    with pytest.raises(ValueError, match="failed state"):
        HealthMarkov(("up", "down"))


def test_failure_within_a_huge_horizon_is_computed_without_walking_every_step() -> None:
    # half of the paths from up end in down, half in a state never left: P(down by n) tends to
    # 0.5 and never reaches 1, so walking 10**12 steps one by one never finished (a
    # metrics.risk_steps of a million held the controller's event loop ~9 s per state asked)
    chain = HealthMarkov(("up", "parked", "down"), failed="down")
    chain.observe(["up", "down"])
    chain.observe(["up", "parked", "parked"])
    assert chain.failure_probability("up", 10**12) == pytest.approx(0.5)
    assert chain.failure_probability("up", 10**12) == chain.failure_probability("up", 2**40)


def test_runs_count_exactly_what_the_expanded_history_counts() -> None:
    rng = random.Random(7)
    for _ in range(200):
        runs = [(rng.choice(STATES), rng.randint(0, 5)) for _ in range(rng.randint(0, 8))]
        expanded = [state for state, steps in runs for _ in range(steps)]
        by_runs, by_steps = HealthMarkov(STATES), HealthMarkov(STATES)
        by_runs.observe_runs(runs)
        by_steps.observe(expanded)
        assert by_runs.transition_matrix() == by_steps.transition_matrix()
        for state in STATES:
            assert by_runs.failure_probability(state, 7) == pytest.approx(
                by_steps.failure_probability(state, 7)
            )


def test_left_counts_the_transitions_out_of_a_state_to_another() -> None:
    chain = fitted()
    assert [chain.left(s) for s in STATES] == [2, 2, 1]
    stays = HealthMarkov(STATES)
    stays.observe_runs([("up", 500)])
    # 499 steps counted from up, none leaving it: its failure probability is 0 by construction
    assert stays.left("up") == 0 and stays.failure_probability("up", 100) == 0.0
    assert stays.left("degraded") == 0  # never seen at all
