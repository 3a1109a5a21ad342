"""The pool on a fake clock: admin states, ejection, slow start, drain, Retry-After, budget."""

from __future__ import annotations

import random
import types
from collections import Counter

import pytest

import vigil.balancer as balancer_pkg
from vigil.balancer import (
    AdminState,
    Outcome,
    Pool,
    PoolSettings,
    RetryBudget,
    RetryGate,
    Router,
    Upstream,
)
from vigil.errors import InputError, NotFoundError

T0 = 100.0


def make_pool(n: int = 3, **settings: object) -> Pool:
    upstreams = [Upstream(f"u{i}", "10.0.0.1", 8000 + i) for i in range(n)]
    options = {"policy": "round_robin", **settings}
    return Pool(upstreams, PoolSettings(**options), rng=random.Random(5))  # type: ignore[arg-type]


def fail(pool: Pool, upstream_id: str, now: float, outcome: Outcome, times: int = 1) -> None:
    upstream = pool.get(upstream_id)
    for _ in range(times):
        upstream.in_flight += 1
        pool.release(upstream, now, outcome=outcome, latency=0.01)


def chosen(pool: Pool, now: float, n: int, **kwargs: object) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _ in range(n):
        upstream = pool.acquire(now, **kwargs)  # type: ignore[arg-type]
        assert upstream is not None
        counts[upstream.id] += 1
        pool.release(upstream, now, outcome=Outcome.OK, latency=0.05)
    return counts


def test_a_pool_is_a_router_and_a_retry_gate() -> None:
    pool: Router = make_pool()
    gate: RetryGate = make_pool()
    assert pool.retry_after(T0) >= 1 and gate.retry_allowed(T0)


def test_acquire_counts_the_request_in_flight_until_it_is_released() -> None:
    pool = make_pool(1)
    upstream = pool.acquire(T0)
    assert upstream is not None and upstream.in_flight == 1 and upstream.requests == 1
    pool.release(upstream, T0 + 0.2, outcome=Outcome.OK, latency=0.2)
    assert upstream.in_flight == 0 and upstream.ewma_latency == pytest.approx(0.2)


def test_upstreams_that_are_not_ready_draining_or_in_maint_get_no_new_requests() -> None:
    pool = make_pool(4)
    pool.set_state("u1", AdminState.DRAINING, T0)
    pool.set_state("u2", AdminState.MAINT, T0)
    pool.set_health("u3", False, T0)
    assert set(chosen(pool, T0, 20)) == {"u0"}


def test_draining_lets_requests_in_flight_finish_and_says_when_it_is_drained() -> None:
    pool = make_pool(1)
    upstream = pool.acquire(T0)
    assert upstream is not None
    pool.set_state("u0", AdminState.DRAINING, T0)
    assert pool.acquire(T0) is None and not pool.drained("u0")
    pool.release(upstream, T0 + 1, outcome=Outcome.OK, latency=1.0)
    assert pool.drained("u0")


def test_a_replica_in_maint_stays_out_when_its_health_checks_pass() -> None:
    pool = make_pool(2)
    pool.set_state("u1", AdminState.MAINT, T0)
    pool.set_health("u1", False, T0)
    pool.set_health("u1", True, T0 + 1)
    assert set(chosen(pool, T0 + 1, 10)) == {"u0"}
    pool.set_state("u1", AdminState.READY, T0 + 2)
    assert "u1" in chosen(pool, T0 + 100, 10)


def test_five_consecutive_server_errors_eject_an_upstream_and_a_success_resets_the_count() -> None:
    pool = make_pool(3)
    fail(pool, "u0", T0, Outcome.SERVER_ERROR, 4)
    fail(pool, "u0", T0, Outcome.OK)
    fail(pool, "u0", T0, Outcome.SERVER_ERROR, 4)
    assert not pool.get("u0").ejected(T0)
    fail(pool, "u0", T0, Outcome.SERVER_ERROR)
    assert pool.get("u0").ejected(T0)
    assert "u0" not in chosen(pool, T0 + 1, 10)


def test_two_connect_errors_or_one_refusal_or_one_protocol_error_eject_at_once() -> None:
    pool = make_pool(6)
    fail(pool, "u0", T0, Outcome.CONNECT_ERROR)
    assert not pool.get("u0").ejected(T0)
    fail(pool, "u0", T0, Outcome.CONNECT_ERROR)
    fail(pool, "u1", T0, Outcome.PROTOCOL_ERROR)
    fail(pool, "u2", T0, Outcome.REFUSED)
    assert all(pool.get(u).ejected(T0) for u in ("u0", "u1", "u2"))


def test_overload_and_client_aborts_do_not_count_towards_ejection() -> None:
    pool = make_pool(2)
    fail(pool, "u0", T0, Outcome.CLIENT_ABORT, 10)
    fail(pool, "u0", T0, Outcome.OVERLOADED, 10)
    assert not pool.get("u0").ejected(T0) and pool.get("u0").errors == 10


def test_no_more_than_max_ejection_percent_of_the_pool_is_ejected_and_never_the_last() -> None:
    pool = make_pool(4, max_ejection_percent=50.0)
    for upstream_id in ("u0", "u1", "u2", "u3"):
        fail(pool, upstream_id, T0, Outcome.PROTOCOL_ERROR)
    assert sum(u.ejected(T0) for u in pool) == 2
    single = make_pool(1, max_ejection_percent=100.0)
    fail(single, "u0", T0, Outcome.PROTOCOL_ERROR)
    assert not single.get("u0").ejected(T0)


def test_the_first_result_after_an_ejection_decides_and_ejections_grow_longer() -> None:
    pool = make_pool(3, eject_base=10.0, eject_max=25.0, slow_start=0.0)
    upstream = pool.get("u0")
    fail(pool, "u0", T0, Outcome.PROTOCOL_ERROR)
    assert upstream.ejected_until == pytest.approx(T0 + 10)
    # back on probation: one trial request at a time, and its failure ejects it again, longer
    trial = pool.acquire(T0 + 10, exclude=frozenset({"u1", "u2"}))
    assert trial is upstream and pool.acquire(T0 + 10, exclude=frozenset({"u1", "u2"})) is None
    pool.release(upstream, T0 + 10, outcome=Outcome.SERVER_ERROR, latency=0.01)
    assert upstream.ejected_until == pytest.approx(T0 + 10 + 20)
    fail(pool, "u0", T0 + 30, Outcome.TIMEOUT)
    assert upstream.ejected_until == pytest.approx(T0 + 30 + 25)  # capped at eject_max
    fail(pool, "u0", T0 + 55, Outcome.OK)
    assert not upstream.probation and "u0" in chosen(pool, T0 + 56, 3)


def test_slow_start_ramps_a_returning_upstream_linearly_from_ten_percent() -> None:
    pool = make_pool(2, policy="weighted", slow_start=30.0, slow_start_floor=0.1)
    pool.set_health("u1", False, T0)
    pool.set_health("u1", True, T0)
    for elapsed, share in ((0.0, 0.1), (15.0, 0.55), (30.0, 1.0), (60.0, 1.0)):
        pool.acquire(T0 + elapsed)
        assert pool.get("u1").weight == pytest.approx(share)
    pool.set_health("u1", False, T0 + 100)
    pool.set_health("u1", True, T0 + 100)
    counts = chosen(pool, T0 + 100, 1100)
    assert counts["u1"] / 1100 == pytest.approx(0.1 / 1.1, abs=0.01)


def test_retry_after_counts_the_seconds_until_the_first_upstream_comes_back() -> None:
    pool = make_pool(2, eject_base=10.0, max_ejection_percent=100.0)
    assert pool.retry_after(T0) == 1.0
    fail(pool, "u0", T0, Outcome.PROTOCOL_ERROR)
    fail(pool, "u1", T0, Outcome.OVERLOADED)
    pool.get("u1").retry_after_until = T0 + 4.2
    assert pool.acquire(T0 + 1) is None
    assert pool.retry_after(T0 + 1) == 4.0
    assert pool.retry_after(T0 + 4.1) == 1.0


def test_an_overloaded_upstream_is_skipped_for_its_retry_after() -> None:
    pool = make_pool(2)
    fail(pool, "u0", T0, Outcome.OVERLOADED)
    pool.release(pool.get("u1"), T0, outcome=Outcome.OVERLOADED, latency=0.01, retry_after=5.0)
    pool.get("u1").in_flight = 0
    assert pool.acquire(T0 + 0.5) is None
    assert set(chosen(pool, T0 + 1.5, 4)) == {"u0"}
    assert set(chosen(pool, T0 + 5.0, 4)) == {"u0", "u1"}


def test_latency_feeds_a_plain_ewma_and_a_peak_ewma_that_failures_cannot_lower() -> None:
    pool = make_pool(1, ewma_alpha=0.5, peak_decay=10.0)
    upstream = pool.get("u0")
    for now, latency in ((T0, 0.1), (T0 + 1, 0.5)):
        upstream.in_flight += 1
        pool.release(upstream, now, outcome=Outcome.OK, latency=latency)
    assert upstream.ewma_latency == pytest.approx(0.3)
    assert upstream.peak_latency == pytest.approx(0.5)  # a slower answer is taken at once
    fail(pool, "u0", T0 + 2, Outcome.SERVER_ERROR)  # fast failure: 0.01 s
    assert upstream.ewma_latency == pytest.approx(0.3) and upstream.peak_latency == 0.5
    upstream.in_flight += 1
    pool.release(upstream, T0 + 11, outcome=Outcome.OK, latency=0.1)
    assert upstream.peak_latency == pytest.approx(0.5 * 0.3679 + 0.1 * 0.6321, rel=1e-3)


def test_a_retry_goes_to_an_upstream_the_request_has_not_tried() -> None:
    pool = make_pool(3, policy="p2c_ewma")
    for _ in range(50):
        upstream = pool.acquire(T0, exclude=frozenset({"u0", "u2"}))
        assert upstream is not None and upstream.id == "u1"
        pool.release(upstream, T0, outcome=Outcome.OK, latency=0.1)


def test_set_upstreams_keeps_known_replicas_and_ramps_new_ones() -> None:
    pool = make_pool(2, slow_start=10.0)
    kept = pool.get("u0")
    kept.requests = 7
    pool.set_upstreams([Upstream("u0", "10.0.0.1", 8000), Upstream("u9", "10.0.0.9", 8000)], T0)
    assert pool.get("u0") is kept and kept.requests == 7
    assert [u.id for u in pool] == ["u0", "u9"]
    assert pool.get("u9").weight == pytest.approx(0.1)
    with pytest.raises(NotFoundError):
        pool.get("u1")


def test_requests_go_to_the_upstreams_held_now_after_adds_and_removes() -> None:
    pool = make_pool(2)  # round robin: every upstream held gets its turn
    pool.add(Upstream("u7", "10.0.0.7", 8000), T0)
    assert set(chosen(pool, T0, 30)) == {"u0", "u1", "u7"}
    pool.remove("u0")
    assert set(chosen(pool, T0, 30)) == {"u1", "u7"}
    pool.set_upstreams([Upstream("u1", "10.0.0.1", 8001), Upstream("u8", "10.0.0.8", 8000)], T0)
    assert set(chosen(pool, T0, 30)) == {"u1", "u8"}
    pool.add(Upstream("u1", "10.0.0.2", 8001), T0)  # the same id: replaced, not doubled
    assert [u.id for u in pool] == ["u8", "u1"]
    assert set(chosen(pool, T0, 30)) == {"u1", "u8"}
    picked = [pool.acquire(T0) for _ in range(4)]
    assert {u.host for u in picked if u is not None and u.id == "u1"} == {"10.0.0.2"}


def test_releasing_a_request_on_a_removed_upstream_is_harmless() -> None:
    pool = make_pool(2)
    upstream = pool.acquire(T0)
    assert upstream is not None
    pool.remove(upstream.id)
    pool.release(upstream, T0 + 1, outcome=Outcome.PROTOCOL_ERROR, latency=1.0)
    assert upstream.in_flight == 0 and not upstream.ejected(T0 + 1)


def test_weights_must_be_positive_and_ids_must_exist() -> None:
    pool = make_pool(1)
    with pytest.raises(InputError, match="must be > 0"):
        pool.set_weight("u0", 0.0, T0)
    with pytest.raises(NotFoundError):
        pool.set_state("nope", AdminState.MAINT, T0)


def test_the_snapshot_ranks_replicas_with_their_weighted_shares() -> None:
    pool = make_pool(3, policy="weighted")
    pool.set_weight("u0", 3.0, T0)
    pool.set_state("u2", AdminState.MAINT, T0)
    rows = pool.snapshot(T0)
    assert [(r.id, r.share, r.eligible) for r in rows] == [
        ("u0", 0.75, True),
        ("u1", 0.25, True),
        ("u2", 0.0, False),
    ]
    assert rows[2].state == "maint" and rows[0].address == "10.0.0.1:8000"


def test_p2c_in_the_pool_sends_less_to_a_replica_that_answers_slowly() -> None:
    pool = make_pool(4, policy="p2c_ewma")
    rng = random.Random(9)
    outstanding: list[tuple[float, Upstream, float]] = []
    counts: Counter[str] = Counter()
    for step in range(8000):
        now = T0 + step * 0.005
        while outstanding and outstanding[0][0] <= now:
            end, done, start = outstanding.pop(0)
            pool.release(done, end, outcome=Outcome.OK, latency=end - start)
        picked = pool.acquire(now)
        assert picked is not None
        counts[picked.id] += 1
        service = rng.expovariate(1 / 0.02) * (3 if picked.id == "u3" else 1)
        outstanding.append((now + service, picked, now))
        outstanding.sort(key=lambda item: item[0])
    assert counts["u3"] < min(counts[u] for u in ("u0", "u1", "u2")) / 1.5
    assert max(counts.values()) / 8000 < 2 / 4


def test_the_retry_budget_allows_a_fifth_of_requests_plus_a_small_floor() -> None:
    budget = RetryBudget(ratio=0.2, floor=1.0, burst=5.0)
    assert sum(budget.allow(T0) for _ in range(10)) == 5  # the saved-up burst
    allowed = 0
    for k in range(1000):  # 100 s at 10 requests/s, every request wanting a retry
        now = T0 + k * 0.1
        budget.note_request(now)
        allowed += budget.allow(now)
    assert 290 <= allowed <= 305  # 0.2 * 1000 + 1/s * 100 s


def test_the_pool_consults_its_retry_budget() -> None:
    pool = make_pool(1, retry_ratio=0.0, retry_floor=0.0, retry_burst=1.0)
    pool.note_request(T0)
    assert pool.retry_allowed(T0) and not pool.retry_allowed(T0)


def test_the_balancer_package_exports_exactly_its_sorted_public_names() -> None:
    exported = list(balancer_pkg.__all__)
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(balancer_pkg).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert set(exported) == public
