"""Balancing policies, driven with plain numbers: the distributions they produce."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

import pytest

import vigil.balancer.policies as policies_pkg
from vigil.balancer import Upstream
from vigil.balancer.policies import (
    BoundedLoadHash,
    LeastConnections,
    LeastTime,
    PeakEwmaP2C,
    Policy,
    RoundRobin,
    SmoothWeighted,
    UnknownPolicyError,
    make_policy,
    policy_names,
)
from vigil.errors import ConfigError

NOW = 1000.0


def ups(n: int, **fields: float) -> list[Upstream]:
    result = []
    for i in range(n):
        upstream = Upstream(f"u{i}", "10.0.0.1", 8000 + i)
        for name, value in fields.items():
            setattr(upstream, name, value)
        result.append(upstream)
    return result


def measured(upstream: Upstream, latency: float, at: float = NOW) -> Upstream:
    upstream.ewma_latency = upstream.peak_latency = latency
    upstream.latency_at = at
    return upstream


def picks(policy: Policy, upstreams: Sequence[Upstream], n: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        index = policy.select(upstreams, now=NOW, rng=rng)
        assert index is not None
        out.append(index)
    return out


def longest_runs(sequence: Sequence[int]) -> dict[int, int]:
    best: dict[int, int] = {}
    run = 0
    for k, value in enumerate(sequence):
        run = run + 1 if k and sequence[k - 1] == value else 1
        best[value] = max(best.get(value, 0), run)
    return best


def test_round_robin_cycles_through_every_upstream_in_order() -> None:
    assert picks(RoundRobin(), ups(3), 7) == [0, 1, 2, 0, 1, 2, 0]


def test_round_robin_continues_over_the_remaining_upstreams_when_one_leaves() -> None:
    policy = RoundRobin()
    upstreams = ups(3)
    assert picks(policy, upstreams, 2) == [0, 1]
    assert picks(policy, upstreams[:2], 3) == [0, 1, 0]


def test_smooth_weighted_shares_are_within_one_percent_of_weight_over_total() -> None:
    weights = [5.0, 3.0, 1.5, 0.5]
    upstreams = ups(4)
    for upstream, weight in zip(upstreams, weights, strict=True):
        upstream.weight = weight
    counts = Counter(picks(SmoothWeighted(), upstreams, 10_000))
    for i, weight in enumerate(weights):
        assert abs(counts[i] / 10_000 - weight / sum(weights)) < 0.01


def test_smooth_weighted_interleaves_a_heavy_upstream_as_nginx_does() -> None:
    upstreams = ups(3)
    upstreams[0].weight = 5.0
    assert "".join("abc"[i] for i in picks(SmoothWeighted(), upstreams, 7)) == "aabacaa"


@pytest.mark.parametrize("weights", [(5, 1, 1), (3, 2, 1), (10, 1, 1, 1), (4, 4, 1), (7, 5, 3, 2)])
def test_smooth_weighted_never_sends_more_in_a_row_than_the_weights_require(
    weights: tuple[int, ...],
) -> None:
    """Any ``sum(W)`` consecutive picks hold exactly ``W_i`` of upstream i, not only the
    aligned cycles: no upstream ever gets more of a stretch than its share."""
    upstreams = ups(len(weights))
    for upstream, weight in zip(upstreams, weights, strict=True):
        upstream.weight = float(weight)
    sequence = picks(SmoothWeighted(), upstreams, 20 * sum(weights))
    total = sum(weights)
    expected = Counter(dict(enumerate(weights)))
    for start in range(len(sequence) - total):
        assert Counter(sequence[start : start + total]) == expected
    assert max(longest_runs(sequence).values()) < max(weights)


def test_least_connections_picks_the_least_loaded_relative_to_weight() -> None:
    upstreams = ups(3)
    upstreams[0].in_flight, upstreams[1].in_flight, upstreams[2].in_flight = 4, 3, 5
    upstreams[2].weight = 2.0  # 5 / 2 = 2.5 is the least
    assert set(picks(LeastConnections(), upstreams, 50)) == {2}


def test_least_connections_breaks_ties_at_random() -> None:
    counts = Counter(picks(LeastConnections(), ups(4, in_flight=2), 4000))
    assert all(800 < counts[i] < 1200 for i in range(4))


def test_least_time_weighs_latency_by_the_queue_it_would_join() -> None:
    fast, slow = ups(2)
    measured(fast, 0.1)
    measured(slow, 0.3)
    assert picks(LeastTime(), [fast, slow], 20) == [0] * 20
    fast.in_flight = 3  # 0.1 * 4 = 0.4 > 0.3 * 1
    assert picks(LeastTime(), [fast, slow], 20) == [1] * 20


def test_p2c_does_not_herd_onto_the_replica_that_looks_best_in_a_stale_view() -> None:
    n = 5
    upstreams = [measured(u, 0.1) for u in ups(n, in_flight=6)]
    upstreams[0].in_flight = 0  # everyone sees it as free, and nobody updates the view
    p2c = Counter(picks(PeakEwmaP2C(), upstreams, 10_000))
    least = Counter(picks(LeastConnections(), upstreams, 1_000))
    assert least[0] == 1_000  # the herd that P2C avoids
    assert p2c[0] / 10_000 < 3 / n + 0.02  # chosen only when sampled: d = 3 of n


def test_p2c_samples_three_of_five_so_the_best_of_a_stale_view_gets_three_fifths_at_most() -> None:
    upstreams = [measured(u, 0.1) for u in ups(5, in_flight=6)]
    upstreams[0].in_flight = 0
    share = Counter(picks(PeakEwmaP2C(), upstreams, 20_000))[0] / 20_000
    assert share == pytest.approx(3 / 5, abs=0.02)
    two = Counter(picks(PeakEwmaP2C(choices=2), upstreams, 20_000))[0] / 20_000
    assert two == pytest.approx(2 / 5, abs=0.02)


def test_p2c_compares_a_pool_of_two_as_a_pair_and_a_pool_of_three_two_at_a_time() -> None:
    pair = [measured(u, 0.1) for u in ups(2)]
    measured(pair[1], 0.5)
    assert set(picks(PeakEwmaP2C(), pair, 500)) == {0}
    three = [measured(u, 0.1) for u in ups(3)]
    three[0].in_flight = 0
    for upstream in three[1:]:
        upstream.in_flight = 5
    share = Counter(picks(PeakEwmaP2C(), three, 9_000))[0] / 9_000
    assert share == pytest.approx(2 / 3, abs=0.03)  # never certain to be sampled


def test_p2c_keeps_the_second_worst_of_five_replicas_almost_idle() -> None:
    # with two choices the pair (bad, worse) is drawn 1 time in 10, whatever the costs
    upstreams = [measured(u, 0.1) for u in ups(5, in_flight=1)]
    measured(upstreams[3], 0.3)
    measured(upstreams[4], 2.0)
    three = Counter(picks(PeakEwmaP2C(), upstreams, 20_000))
    two = Counter(picks(PeakEwmaP2C(choices=2), upstreams, 20_000))
    assert two[3] / 20_000 == pytest.approx(0.1, abs=0.015)
    assert three[3] == 0 and three[4] == 0


def test_p2c_needs_at_least_two_choices() -> None:
    with pytest.raises(ValueError, match="choices"):
        PeakEwmaP2C(choices=1)


def test_p2c_with_equal_replicas_under_load_gives_none_more_than_two_over_n() -> None:
    n = 5
    rng = random.Random(3)
    policy = PeakEwmaP2C()
    upstreams = [measured(u, 0.1) for u in ups(n)]
    outstanding: list[Upstream] = []
    counts: Counter[int] = Counter()
    for step in range(20_000):
        now = NOW + step * 0.01
        index = policy.select(upstreams, now=now, rng=rng)
        assert index is not None
        counts[index] += 1
        upstreams[index].in_flight += 1
        outstanding.append(upstreams[index])
        while len(outstanding) > 20:  # a random request finishes
            done = outstanding.pop(rng.randrange(len(outstanding)))
            done.in_flight -= 1
    assert max(counts.values()) / 20_000 < 2 / n
    assert min(counts.values()) / 20_000 > 0.5 / n


def test_p2c_sends_less_to_a_slow_replica() -> None:
    upstreams = [measured(u, 0.1) for u in ups(5, in_flight=2)]
    measured(upstreams[4], 0.3)
    counts = Counter(picks(PeakEwmaP2C(), upstreams, 10_000))
    assert counts[4] == 0
    upstreams[4].in_flight = 0  # idle, it is worth its slowness again: 0.3 < 0.1 * 3
    counts = Counter(picks(PeakEwmaP2C(), upstreams, 10_000))
    assert counts[4] / 10_000 == pytest.approx(3 / 5, abs=0.03)  # whenever it is sampled


def test_p2c_penalises_a_replica_that_just_failed_and_forgives_it_later() -> None:
    upstreams = [measured(u, 0.1) for u in ups(3)]
    upstreams[0].last_error_at = NOW
    policy = PeakEwmaP2C()
    assert policy.costs(upstreams, now=NOW)[0] == pytest.approx(5 * 0.1)
    assert Counter(picks(policy, upstreams, 3000))[0] == 0
    later = policy.costs(upstreams, now=NOW + 60)
    assert later[0] == pytest.approx(later[1], rel=1e-3)


def test_p2c_skips_replicas_inside_their_retry_after() -> None:
    upstreams = [measured(u, 0.1) for u in ups(3)]
    upstreams[1].retry_after_until = NOW + 5
    upstreams[2].retry_after_until = NOW + 5
    assert set(picks(PeakEwmaP2C(), upstreams, 200)) == {0}
    upstreams[0].retry_after_until = NOW + 5  # all of them: pick anyway (the pool decides)
    assert picks(PeakEwmaP2C(), upstreams, 1)[0] in {0, 1, 2}


def test_p2c_sees_a_stalled_replica_through_its_silence_before_any_answer() -> None:
    upstreams = [measured(u, 0.1, at=NOW - 1) for u in ups(2, in_flight=1)]
    upstreams[0].pending.append(NOW - 0.05)
    upstreams[1].pending.append(NOW - 2.0)  # no answer for the last second, 1 s past the usual
    costs = PeakEwmaP2C().costs(upstreams, now=NOW)
    peak = 0.1 * math.exp(-1 / 10) * 2  # decayed peak x (in_flight + 1)
    assert costs[1] == pytest.approx(peak + 1.0 - 1.5 * 0.1) and costs[0] == pytest.approx(peak)


def test_p2c_peak_ewma_decays_towards_zero_while_idle() -> None:
    (upstream,) = [measured(u, 1.0, at=NOW) for u in ups(1)]
    policy = PeakEwmaP2C(decay=10.0)
    assert policy.costs([upstream], now=NOW + 10)[0] == pytest.approx(math.exp(-1))


def test_p2c_assumes_an_unmeasured_replica_is_average() -> None:
    a, b, new = ups(3)
    measured(a, 0.1)
    measured(b, 0.3)
    assert PeakEwmaP2C().costs([a, b, new], now=NOW)[2] == pytest.approx(0.2)


def test_hash_sends_a_key_to_the_same_upstream_every_time() -> None:
    upstreams = ups(5)
    policy = BoundedLoadHash()
    rng = random.Random(1)
    chosen = {policy.select(upstreams, now=NOW, rng=rng, key="session-42") for _ in range(50)}
    assert len(chosen) == 1


def test_hash_moves_only_the_keys_of_a_removed_upstream() -> None:
    upstreams = ups(10)
    policy = BoundedLoadHash()
    rng = random.Random(1)
    keys = [f"user-{k}" for k in range(5000)]
    before = {k: upstreams[policy.select(upstreams, now=NOW, rng=rng, key=k) or 0].id for k in keys}
    remaining = [u for u in upstreams if u.id != "u3"]
    after = {k: remaining[policy.select(remaining, now=NOW, rng=rng, key=k) or 0].id for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert all(before[k] == "u3" for k in moved)
    assert len(moved) / len(keys) < 1.6 / 10


def test_hash_bounded_load_keeps_every_upstream_under_c_times_the_average() -> None:
    upstreams = ups(4)
    policy = BoundedLoadHash(load_factor=1.25)
    rng = random.Random(1)
    for m in range(1, 201):  # 200 requests of one hot session, none finishing
        index = policy.select(upstreams, now=NOW, rng=rng, key="hot")
        assert index is not None
        upstreams[index].in_flight += 1
        assert max(u.in_flight for u in upstreams) <= math.ceil(1.25 * m / 4)
    assert min(u.in_flight for u in upstreams) > 0


def test_hash_shares_are_the_fractions_of_the_ring_each_upstream_owns() -> None:
    upstreams = ups(4)
    policy = BoundedLoadHash()
    shares = policy.shares(upstreams, now=NOW)
    assert sum(shares) == pytest.approx(1.0)
    rng = random.Random(2)
    counts = Counter(policy.select(upstreams, now=NOW, rng=rng, key=f"k{k}") for k in range(20_000))
    for i, share in enumerate(shares):
        assert counts[i] / 20_000 == pytest.approx(share, abs=0.015)


@pytest.mark.parametrize("name", policy_names())
def test_every_policy_chooses_none_of_nothing_and_shares_sum_to_one(name: str) -> None:
    policy = make_policy(name)
    assert policy.name == name
    assert policy.select([], now=NOW, rng=random.Random(1), key="k") is None
    upstreams = [measured(u, 0.1 * (i + 1)) for i, u in enumerate(ups(3))]
    assert sum(policy.shares(upstreams, now=NOW)) == pytest.approx(1.0)
    assert policy.shares([], now=NOW) == []


def test_an_unknown_policy_name_is_a_config_error_listing_the_known_ones() -> None:
    with pytest.raises(UnknownPolicyError) as caught:
        make_policy("fastest")
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, LookupError)
    assert "'fastest'" in str(caught.value) and "p2c_ewma" in str(caught.value)


def test_the_registry_knows_the_six_policies_by_their_config_names() -> None:
    assert policy_names() == (
        "hash",
        "least_conn",
        "least_time",
        "p2c_ewma",
        "round_robin",
        "weighted",
    )


def test_the_policies_package_exports_exactly_its_sorted_public_names() -> None:
    exported = list(policies_pkg.__all__)
    assert exported == sorted(exported)
    public = {n for n in vars(policies_pkg) if not n.startswith("_") and n != "annotations"}
    public -= {n for n, v in vars(policies_pkg).items() if type(v).__name__ == "module"}
    assert set(exported) == public
