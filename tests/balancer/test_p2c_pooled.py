"""What p2c_ewma's models learn, pooled over the workers of one balancer
(vigil.balancer.policies._p2c_pooled: the combination, pure; vigil.balancer._pool_learned: the
rows in the shared block and their seqlock), and pools standing for workers in one process."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from vigil.balancer import Outcome, Pool, PoolSettings, Upstream
from vigil.balancer._pool_learned import SharedLearned, read_row
from vigil.balancer._pool_shared import LEARNED_CELLS, SharedInFlight, learned_offset, local_block
from vigil.balancer.policies._p2c import PeakEwmaP2C
from vigil.balancer.policies._p2c_model import (
    HORIZON,
    IDLE_MEMORY,
    MEMORY,
    RIDGE,
    STALL_HORIZON,
    DelayModel,
)
from vigil.balancer.policies._p2c_pooled import PARTS, combine, row

Observation = tuple[float, int, float]  # (time answered, k, latency)


def feed(observations: list[Observation]) -> DelayModel:
    """A model that saw ``observations`` (one request at a time, answered in order)."""
    model = DelayModel()
    for now, k, latency in observations:
        model.started(k, now - latency)
        model.finished(now, latency, False, k)
    return model


def union_fit(streams: list[list[Observation]], prior: float) -> tuple[float, float, float]:
    """(a, b, idle) of the weighted least-squares fit over every stream's observations, each
    weighted as its own stream weighs it, then decayed from that stream's last answer to the
    latest of all by exp(-dt / HORIZON); computed from the observations. The line's weight:
    (1 - 1/MEMORY) per later observation of that stream, exp(-dt / HORIZON) from its time.
    The idle mean's (requests sent at k = 0): (1 - 1/IDLE_MEMORY) per later idle observation
    and the time decay the model applies at each of them (the gap since the observation before
    it, of any k: DelayModel.finished)."""
    latest = max(t for stream in streams for t, _, _ in stream)
    sw = sk = sy = skk = sky = iw = iy = 0.0
    for stream in streams:
        idle: list[list[float]] = []  # [weight, latency] of the stream's idle observations
        for j, (t, k, y) in enumerate(stream):
            later = len(stream) - 1 - j
            time_decay = math.exp(-(latest - t) / HORIZON)
            w = (1.0 - 1.0 / MEMORY) ** later * time_decay
            sw, sk, sy = sw + w, sk + w * k, sy + w * y
            skk, sky = skk + w * k * k, sky + w * k * y
            if k == 0:
                gap = math.exp(-(t - stream[j - 1][0]) / HORIZON) if j else 1.0
                for entry in idle:
                    entry[0] *= gap * (1.0 - 1.0 / IDLE_MEMORY)
                idle.append([1.0, y])
        to_latest = math.exp(-(latest - stream[-1][0]) / HORIZON)
        iw += sum(w for w, _ in idle) * to_latest
        iy += sum(w * y for w, y in idle) * to_latest
    mean_k, mean_y = sk / sw, sy / sw
    b0 = prior * mean_y / (1.0 + prior * mean_k)
    b = max((sky - sk * mean_y + RIDGE * b0) / (skk - sk * mean_k + RIDGE), 0.0)
    return mean_y - b * mean_k, b, iy / iw


def streams_of(workers: int, per_worker: int, seed: int) -> list[list[Observation]]:
    """Interleaved answers to ``workers`` workers: delay 0.1 + 0.03 k, +-10 %."""
    rng = random.Random(seed)
    streams: list[list[Observation]] = [[] for _ in range(workers)]
    now = 100.0
    for _ in range(workers * per_worker):
        now += rng.uniform(0.01, 0.2)
        k = rng.randrange(4)
        streams[rng.randrange(workers)].append((now, k, (0.1 + 0.03 * k) * rng.uniform(0.9, 1.1)))
    return streams


@pytest.mark.parametrize("workers", [2, 3])
def test_combining_rows_is_the_fit_over_the_union_of_the_observations(workers: int) -> None:
    streams = streams_of(workers, 60, seed=workers)
    models = [feed(stream) for stream in streams]
    pooled = DelayModel()
    assert combine([row(m) for m in models], 0, pooled, prior=0.5)
    a, b, idle = union_fit(streams, prior=0.5)
    assert pooled.a == pytest.approx(a, rel=1e-9)
    assert pooled.b == pytest.approx(b, rel=1e-9)
    assert pooled.idle == pytest.approx(idle, rel=1e-9)
    assert pooled.at == max(t for s in streams for t, _, _ in s)
    assert pooled.done_at == pooled.at
    # not an average of the workers' lines: it differs from their mean intercept here
    assert pooled.a != pytest.approx(sum(m.a for m in models) / workers, rel=1e-6)


def test_one_row_combines_to_its_own_fit() -> None:
    model = feed(streams_of(1, 50, seed=7)[0])
    pooled = DelayModel()
    assert combine([row(model), [0.0] * len(row(model))], 0, pooled, prior=1.0)
    assert (pooled.a, pooled.b, pooled.idle) == pytest.approx((model.a, model.b, model.idle))


def test_rows_with_no_weight_are_skipped_and_nothing_learned_gives_false() -> None:
    empty = row(DelayModel())
    pooled = DelayModel()
    assert not combine([empty, empty], 0, pooled, prior=1.0)
    assert pooled.at is None
    model = feed([(1.0, 0, 0.2), (2.0, 1, 0.3)])
    zeroed = [0.0] * len(empty)  # a dead worker's row, zeroed by the parent
    assert combine([zeroed, row(model)], 0, pooled, prior=1.0)
    assert pooled.a == pytest.approx(model.a)


def test_stall_memories_are_summed_decayed_to_the_latest() -> None:
    first, second = DelayModel(), DelayModel()
    first.stalled, first.stall_at = 2.0, 10.0
    second.stalled, second.stall_at = 1.0, 40.0
    for model in (first, second):
        model.started(0, 0.0)
        model.finished(1.0, 0.1, False, 0)
    pooled = DelayModel()
    assert combine([row(first), row(second)], 1, pooled, prior=1.0)
    assert pooled.stall_at == 40.0
    assert pooled.stalled == pytest.approx(1.0 + 2.0 * math.exp(-30.0 / STALL_HORIZON))
    own = DelayModel()
    assert combine([row(first), row(second)], 1, own, prior=1.0, parts=PARTS - {"stall"})
    assert own.stalled == 1.0  # only this worker's (row 1)


def test_parts_not_pooled_are_the_own_rows() -> None:
    streams = streams_of(2, 40, seed=3)
    models = [feed(s) for s in streams]
    rows = [row(m) for m in models]
    idle_only = DelayModel()
    assert combine(rows, 1, idle_only, prior=1.0, parts=frozenset({"idle"}))
    mine = DelayModel()
    assert combine([rows[1]], 0, mine, prior=1.0)
    assert idle_only.a != pytest.approx(mine.a, rel=1e-6) or idle_only.b == mine.b
    lines_only = DelayModel()
    assert combine(rows, 1, lines_only, prior=1.0, parts=frozenset({"line"}))
    both = DelayModel()
    assert combine(rows, 1, both, prior=1.0)
    assert (lines_only.a, lines_only.b) == pytest.approx((both.a, both.b))


# -- the rows in the block: the read protocol ------------------------------------------------


def test_a_row_being_written_is_never_used_the_last_good_copy_is() -> None:
    block = local_block(2, ["a"])
    writer = SharedLearned(SharedInFlight(block, 0))
    reader = SharedLearned(SharedInFlight(block, 1))
    model = feed([(1.0, 0, 0.2), (2.0, 1, 0.3), (3.0, 2, 0.4)])
    writer.publish("a", model)
    seen = reader.view("a", None, 1.0)
    assert seen is not None and seen.a == pytest.approx(model.a)
    good = (seen.a, seen.b, seen.idle)
    # the writer is half-way through its next update: odd sequence number, some cells new
    cells = block[learned_offset(2, 1) :].cast("d")
    cells[0] = cells[0] + 1.0
    cells[2], cells[4] = 1e9, -5.0  # weights and latency sum: garbage if read now
    again = reader.view("a", None, 1.0)
    assert again is not None and (again.a, again.b, again.idle) == pytest.approx(good)
    scratch = [7.0] * (LEARNED_CELLS - 1)
    assert read_row(cells, 0, scratch) == -1.0 and scratch == [7.0] * (LEARNED_CELLS - 1)
    writer.publish("a", feed([(1.0, 0, 1.0), (2.0, 1, 2.0)]))  # its sequence moves on: whole
    cells[0] = 4.0  # (the first publish left 2; the half-written one 3; now complete at 4)
    latest = reader.view("a", None, 1.0)
    assert latest is not None and latest.idle == pytest.approx(1.0)
    cells.release()


def test_a_zeroed_row_no_longer_counts() -> None:
    block = local_block(2, ["a"])
    writer = SharedLearned(SharedInFlight(block, 0))
    reader = SharedLearned(SharedInFlight(block, 1))
    writer.publish("a", feed([(1.0, 0, 0.2), (2.0, 1, 0.3)]))
    assert reader.view("a", None, 1.0) is not None
    cells = block[learned_offset(2, 1) :].cast("d")
    for c in range(LEARNED_CELLS):  # what SharedBlock.zero does when the worker exits
        cells[c] = 0.0
    cells.release()
    own = DelayModel()
    assert reader.view("a", own, 1.0) is own


# -- pools standing for workers in one process -------------------------------------------------


def pools(workers: int, learned: frozenset[str] = PARTS) -> list[Pool]:
    block = local_block(workers, ["a", "b", "c"])
    result = []
    for w in range(workers):
        pool = Pool([Upstream(u, "127.0.0.1", 1) for u in "abc"], PoolSettings(policy="p2c_ewma"))
        pool.share(SharedInFlight(block, w), learned)
        result.append(pool)
    return result


def policy(pool: Pool) -> PeakEwmaP2C:
    assert isinstance(pool.policy, PeakEwmaP2C)
    return pool.policy


def one(pool: Pool, uid: str, now: float, latency: float) -> None:
    upstream = pool.acquire(now - latency, exclude=frozenset("abc") - {uid})
    assert upstream is not None and upstream.id == uid
    pool.release(upstream, now, outcome=Outcome.OK, latency=latency)


def test_answers_seen_by_one_worker_move_the_others_model() -> None:
    first, second = pools(2)
    one(second, "a", 1.0, 0.1)
    before = policy(second).view("a")
    assert before is not None and before.predict(0) == pytest.approx(0.1)
    for i in range(40):  # a slows to 0.5 s: only the first worker sees it
        one(first, "a", 2.0 + i, 0.5)
    after = policy(second).view("a")
    assert after is not None and after.predict(0) > 0.4
    own = policy(second).model("a")
    assert own is not None and own.predict(0) == pytest.approx(0.1)  # its own: unchanged


def test_a_stall_seen_by_one_worker_raises_the_others_stall_charge_and_is_counted_once() -> None:
    first, second = pools(2)
    now = 0.0
    for _ in range(50):  # both learn every upstream: 0.1 s per request, one at a time
        for pool in (first, second):
            for uid in "abc":
                now += 0.1
                one(pool, uid, now, 0.1)
    start = now
    held = first.acquire(start, exclude=frozenset({"b", "c"}))  # a stalls on the first's ...
    also = second.acquire(start + 0.5, exclude=frozenset({"b", "c"}))  # ... and the second's
    assert held is not None and also is not None
    first.release(held, start + 2.0, outcome=Outcome.OK, latency=2.0)  # the stall ends
    second.release(also, start + 2.1, outcome=Outcome.OK, latency=1.6)
    mine, theirs = policy(first).model("a"), policy(second).model("a")
    assert mine is not None and theirs is not None
    assert mine.stalled == pytest.approx(1.9)  # silent 2 s, less one usual gap
    assert theirs.stalled == 0.0  # its answer came right after the first's: not a new stall
    pooled = policy(second).view("a")
    assert pooled is not None and pooled.stalled == pytest.approx(1.9)  # once, not twice
    assert pooled.stalled_share(start + 2.1) > 0.03
    picks = Counter()
    for i in range(10):  # the next 2 s (later, a's learned delay decays: it is tried again)
        t = start + 2.2 + i * 0.2
        upstream = second.acquire(t)
        assert upstream is not None
        picks[upstream.id] += 1
        second.release(upstream, t + 0.1, outcome=Outcome.OK, latency=0.1)
    assert picks["a"] == 0 and picks["b"] > 0 and picks["c"] > 0


def test_without_pooling_the_other_worker_does_not_see_the_stall() -> None:
    """The counter-test of the one above: the same answers, models not shared."""
    first, second = pools(2, learned=frozenset())
    now = 0.0
    for _ in range(50):
        for pool in (first, second):
            for uid in "abc":
                now += 0.1
                one(pool, uid, now, 0.1)
    held = first.acquire(now, exclude=frozenset({"b", "c"}))
    assert held is not None
    first.release(held, now + 2.0, outcome=Outcome.OK, latency=2.0)
    theirs = policy(second).view("a")
    assert theirs is not None and theirs.stalled == 0.0
    assert theirs is policy(second).model("a")
