"""The cheapest of the upstreams compared (all of them in a pool of up to eight while the view
is fresh, else 3 sampled plus the least loaded) by a learned delay per upstream, with stall and
error penalties.

Called by the pool (:mod:`vigil.balancer.pool`) for each new request (``select``), and told by
it when each request starts and ends (``started`` / ``finished``, the
:class:`~vigil.balancer.policies._base.Learner` hooks), from which it learns each upstream's
delay as a function of its in-flight count (:mod:`vigil.balancer.policies._p2c_model`).

Sampling a few upstreams instead of scanning all of them is what keeps a fleet of balancers with
stale views from herding onto the one replica that looked best: the best replica is only chosen
when it is sampled, so its share stays bounded by ``d / n`` even when every balancer sees the
same numbers. That is what a stale view still gets (below); a fresh one compares every upstream
of a small pool, since this policy's own picks are then in the counts it reads.

Why three and not two: with two choices the worse of two bad replicas is still chosen whenever
the pair drawn is exactly those two, ``1 / C(n, 2)`` of the picks (10 % with n = 5) whatever
their costs. With exact knowledge of every queue, sampling three of five is within
5 % of the oracle's p99 in every bench/balance_sim.py scenario (two: up to 1.37x), so the rest of
the gap was the estimate of each replica's delay.

With one request at a time per replica (``--slots 1``) the sampling itself costs more: a queue
there is the in-flight count, and the idle replica is left out of 3 of 5 two times in five. So
while the view is fresh (every pick this policy made was reported back by the pool through
``started``, so the in-flight counts it reads include its own choices) the upstream with the
fewest requests in flight (ties at random) joins the ``d`` sampled: p99 / oracle at one slot,
seeds 1-3, 200k requests (bench/balance_sim.py ``--sweep --slots 1``): slow+stall 1.24 to
1.18-1.20, stall only 1.18-1.21 to 1.08-1.10, equal and mixed speeds 1.07-1.10 to 1.01-1.06
(4 slots: unchanged within noise).

Comparing every upstream (``d = n`` for ``n <= SCAN``) while the view is fresh did better again,
once three traps were closed, each with a deterministic test in tests/balancer/test_p2c.py:

- herding on the noise of the estimates (one of five equal replicas got 5 % of the requests at
  60 % load): costs within :data:`NEAR` (10 %) of the lowest are near-ties, won by the fewest
  requests in flight, if the upstreams are about as fast (:data:`NEAR_SPEED`). (Near-ties at
  random instead: worse, 1.23 at one slot, 60k requests.)
- a replica that had been slow never got traffic back (0.1 % of the picks): not the scan but its
  idle latency, the floor of its prediction, which forgot only one request in 32 while it got a
  request every few seconds; it now forgets with time as the fit does (``_p2c_model``). The
  decay of an unanswering upstream's delay (:data:`DECAY`) then makes it tried again within
  about 15 s, and its estimate follows the few answers it gives.
- the silence test scaled the measured gap between answers by ``(mean_k + 1) / k`` (with
  fewer out, answers come further apart), right for a replica serving many at once; at one slot
  answers come a service time apart whatever the queue, so a stall with one request out was
  charged ``mean_k + 1`` times too late. The usual gap is now read off the learned line
  (:func:`_silence`).

A stale view (picks not reported back: the counts are old, or someone else's) gets
the ``d`` random ones only, which bounds any upstream's share at ``d / n`` however wrong the view.
Several balancers on one port (``workers: K``), each with a fresh view of its own picks only,
were measured not to herd (bench/balance_sim.py ``--balancers``: requests of different balancers
land on the same replica as often as independent choices would); at 4 slots per replica p99 /
oracle stays within 1.12 at K = 4, at one slot it grew to 1.32 (K = 2) and 1.92 (K = 4), the
partial view's cost (an oracle that sees only its own requests: 1.11 and 1.38), and random
sampling instead of the scan made it worse (docs/benchmarks.md, "Several balancers"). So the
workers of one balancer share their in-flight counts, oldest requests and last answers
(:mod:`vigil.balancer._pool_shared`): ``in_flight`` and ``oldest_pending`` are then over every
worker, and the silence test takes the latest answer any worker got
(``peers_answered_at``); one slot, worst 1.20 (K = 2) and 1.25 (K = 4), both on the bursty
scenario, the others within 1.14 (``--shared-inflight``, docs/benchmarks.md, "Workers sharing").
And they pool what this policy learns (:meth:`PeakEwmaP2C.share_models`,
:mod:`vigil.balancer._pool_learned`): each upstream compared is costed on the model the decayed
sums of every worker make together (:mod:`._p2c_pooled`), of which the stall memory is what
mattered (docs/benchmarks.md, "Workers sharing what p2c has learned").
A stall test from each upstream's own distribution of gaps between answers (instead of the fixed
:data:`SILENCE_GAPS`) was measured and not kept: no better alone, and with a learned stall
length a standing charge that starved recovered replicas (docs/benchmarks.md).

What was measured in bench/balance_sim.py (p99 / oracle over 12 cases of scenario, load and
slots, 20-40k requests each; worst case / mean), in the order it was tried:

- peak EWMA x (in_flight + 1), the oldest in-flight age as a lower bound (the former policy):
  1.47 / 1.25;
- the mean latency scaled by ``(k + 1) / (mean_k + 1)``: 1.33 / 1.16;
- dropping the age bound for a silence penalty: 1.20 / 1.09. The age of the oldest in-flight
  request *hurts*: a healthy replica serving several requests at once always has an old one
  out, so the bound taxes the replicas doing the most work. Silence does not: the time since the
  upstream last answered anything while requests are out, beyond 1.5 of its usual gaps between
  answers (scaled up when fewer requests are out than usual), is added to its delay, since a
  stall of ``t`` seconds so far is expected to last about ``t`` more. It catches a stall within
  a few gaps, before any request held by it returns;
- the learned line ``a + b k`` with a long memory (256 requests): 1.12-1.25 / 1.06-1.11 from run
  to run (with 20-40k requests a p99 moves by about 5 %; 200k-request figures are in
  docs/benchmarks.md). The line's memory: 32 requests 1.50, 64: 1.20, 256 and 1024: 1.12 worst
  case, in one set of runs.

The deterministic tests (tests/balancer/test_p2c.py) found two traps the simulation did not:
a replica only ever sent requests while idle never learned its slope and was starved (fixed by
sharing the slope across the pool, see ``_p2c_model.RIDGE``), and a straight line through a
multi-slot replica dips below its idle service time (fixed by the idle floor,
``_p2c_model.IDLE_MEMORY``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Final

from vigil.balancer._upstream import UpstreamView
from vigil.balancer.policies._base import DEFAULT_LATENCY, inverse_cost_shares
from vigil.balancer.policies._p2c_model import DelayModel
from vigil.balancer.policies._p2c_pooled import ModelBoard

DECAY: Final = 10.0
"""Time constant (seconds) by which a learned delay decays towards zero while the upstream
answers nothing (and the pool's peak EWMA, read before anything is learned): a replica that was
slow, and so gets no traffic, is tried again once its delay has decayed below the others'."""

CHOICES: Final = 3
"""How many distinct upstreams are sampled per pick (``d``): ``max(2, min(CHOICES, n - 1))`` of
the ``n`` open ones, so that no upstream is ever certain to be sampled (no herding) while a pool
of two is still compared as a pair."""

SILENCE_GAPS: Final = 1.5
"""An upstream with requests out that has not answered for longer than this many of its usual
gaps between answers is charged the excess on top of its delay. 1, 1.5, 2, 3 and 5 were
measured (worst p99 / oracle over the 12 cases: 1.23, 1.18, 1.21, 1.20, 1.28): within noise up
to 3, a stall seen later beyond."""

SLOPE_MEMORY: Final = 256.0
"""Effective number of answers in the pool-wide slope (relative to the intercept) that the
upstreams with a measured slope show; it is the prior of those without one."""

ERROR_PENALTY: Final = 4.0
"""A failure multiplies an upstream's cost by ``1 + ERROR_PENALTY`` at once (5x) ..."""

ERROR_DECAY: Final = 5.0
"""... and the extra factor decays by ``exp(-age / ERROR_DECAY)`` (seconds)."""

STALL_WEIGHT: Final = 3.0
"""An upstream that spent a share ``s`` of the last minute stalled (answered after a silence of
more than ``_p2c_model.STALL_GAPS`` usual gaps) has its delay multiplied by
``1 + STALL_WEIGHT s``: a request queued there waits out any stall that begins before it is
served (probability about the stall rate times its wait), so a replica that stalls now and then
is worth a shorter queue than a steady one as fast. Weights 1, 3 and 6 were measured at one slot
(worst p99 / oracle of the three stall scenarios, seeds 1-3, 60k requests: 1.22, 1.12, 1.12;
with ``STALL_GAPS`` at 3 then)."""

SCAN: Final = 8
"""With a fresh view and at most this many open upstreams, every one is compared (``d = n``):
at one slot per replica the sample of ``d`` left a replica that would have served the request
sooner out of the comparison too often (see the module docstring for the figures)."""

NEAR: Final = 0.1
"""Costs within this share of the lowest are near-ties: among them the upstream with the fewest
requests in flight wins (then the lowest cost, then at random). Without it a full scan lets the
noise of the estimates decide every pick between equal replicas (one of five got 5 % of the
requests at 60 % load in tests/balancer/test_p2c.py); with it the noise has to exceed 10 %
before a replica is preferred while it has more requests out than another. 0.2 passed the same
tests; 0.1 did better with mixed speeds at 4 slots (p99 / oracle 1.06-1.07 against 1.08-1.10 at
80 % load, 1.08-1.12 against 1.13-1.16 at 95 %, 60k requests)."""

NEAR_SPEED: Final = 0.3
"""... and only between upstreams about as fast: a near-tie's idle latency (``line(0)``) is
within this share of that of the cheapest. Without this a fast replica with two requests out
lost to a 1.5x slower idle one whose cost was within ``NEAR``: 4 slots, mixed speeds, 50 %
load, p99 / oracle 1.19 against 1.09 on main (1.10-1.13 with this rule; see also
``_p2c_model.STALL_GAPS``). 0.15 and 0.3 measured alike; 0.3 leaves room for the noise of
the estimates between equal replicas."""

RETRY_AFTER_PENALTY: Final = 1e6
"""Cost factor of an upstream inside its 429/503 ``Retry-After``: chosen only if both are."""


class PeakEwmaP2C:
    """Compare a few upstreams (or all of a small pool) by learned cost, send to the cheapest.

    While the view is fresh (the pool reported the last pick through :meth:`started`) and at
    most :data:`SCAN` upstreams are open, all are compared. Otherwise ``d = max(2, min(choices,
    n - 1))`` distinct ones at random (``choices`` defaults to :data:`CHOICES`), plus, with a
    fresh view, the one with the fewest requests in flight; with a stale view the share of any
    one upstream is at most ``d / n`` (< 1). Of those compared, the costs within :data:`NEAR`
    of the lowest, between upstreams whose idle latencies are within :data:`NEAR_SPEED` of the
    cheapest's, are near-ties: the fewest in flight wins, then the lowest cost, then chance.
    Cost of upstream i, with ``k_i`` requests in flight, at time ``now``::

        delay_i = line_i(k_i) * exp(-(now - learned_at_i) / tau)     (learned, decayed if idle)
                + max(0, now - max(last_answer_i, oldest_pending_i) - 1.5 usual_i)  (silence)
        usual_i = max(b_i, line_i(0) / k_i)                            (usual gap between answers)
        delay_i *= 1 + STALL_WEIGHT * stalled_share_i                  (it stalls now and then)
        cost_i  = delay_i / W_i
                  * (1 + ERROR_PENALTY * exp(-(now - last_error_at_i) / ERROR_DECAY))
                  * (RETRY_AFTER_PENALTY if now < retry_after_until_i else 1)

    ``line_i`` is :meth:`DelayModel.predict <vigil.balancer.policies._p2c_model.DelayModel.predict>`
    (``a + b k`` fitted to the upstream's recent requests, floored by its idle latency); the
    silence term applies only while requests are in flight; ``stalled_share_i`` is the share of
    the last minute it spent stalled (:meth:`DelayModel.stalled_share
    <vigil.balancer.policies._p2c_model.DelayModel.stalled_share>`). Before this policy has learned
    anything about an upstream it reads the pool's peak EWMA instead, as ``peak * (k + 1)``
    (decayed by ``tau`` too); an upstream with neither is assumed average: the mean of the other
    compared upstreams' delays at its own ``k``. Upstreams inside a ``Retry-After`` are not
    sampled while others exist. Shares (for the API) are the normalised inverse costs.

    The name is kept from the peak-EWMA version: ``p2c_ewma`` is what configurations say.
    """

    name = "p2c_ewma"

    def __init__(self, decay: float = DECAY, choices: int = CHOICES) -> None:
        if decay <= 0.0:
            raise ValueError("decay must be > 0")
        if choices < 2:
            raise ValueError("choices must be >= 2")
        self.decay = decay
        self.choices = choices
        self._models: dict[str, DelayModel] = {}
        self._slope = 1.0  # b / a shown by the upstreams (prior: one request at a time)
        self._unreported: str | None = None  # the last pick, until the pool reports it sent
        self._board: ModelBoard | None = None  # the models of every worker, pooled

    def share_models(self, board: ModelBoard) -> None:
        """Publish each model as it learns to ``board`` and decide on the models every worker's
        rows make together (:mod:`vigil.balancer._pool_learned`; the pool calls this when its
        workers share)."""
        self._board = board

    # -- Learner hooks (the pool) -----------------------------------------------------------

    def started(self, upstream: UpstreamView, now: float) -> None:
        self._unreported = None
        model = self._models.get(upstream.id)
        if model is None:
            model = self._models[upstream.id] = DelayModel()
        model.started(upstream.in_flight, now)

    def finished(
        self, upstream: UpstreamView, now: float, latency: float | None, failed: bool
    ) -> None:
        model = self._models.get(upstream.id)
        if model is not None:
            board = self._board
            if board is None:
                model.finished(now, latency, failed, upstream.in_flight, self._slope)
            else:
                peers = upstream.peers_answered_at if board.stall else None
                model.finished(now, latency, failed, upstream.in_flight, self._slope, peers)
                if latency is not None:
                    board.publish(upstream.id, model)
            shown = model.relative_slope()
            if shown is not None:
                self._slope += (shown - self._slope) / SLOPE_MEMORY

    def model(self, upstream_id: str) -> DelayModel | None:
        """What this process has learned about an upstream (None: nothing yet)."""
        return self._models.get(upstream_id)

    def view(self, upstream_id: str) -> DelayModel | None:
        """The model decisions use: :meth:`model`, or with workers sharing, the model every
        worker's answers make together."""
        own = self._models.get(upstream_id)
        board = self._board
        return own if board is None else board.view(upstream_id, own, self._slope)

    # -- Policy ----------------------------------------------------------------------------

    def select(
        self,
        upstreams: Sequence[UpstreamView],
        *,
        now: float,
        rng: random.Random,
        key: str | None = None,
    ) -> int | None:
        n = len(upstreams)
        if n <= 1:
            return 0 if n else None
        if len(self._models) > 2 * n + 16:
            self._forget(upstreams)
        candidates: Sequence[int] = range(n)
        for upstream in upstreams:  # the pool filters these out already: only a check
            if upstream.retry_after_until is not None and now < upstream.retry_after_until:
                candidates = [i for i, u in enumerate(upstreams) if not _in_retry_after(u, now)]
                if len(candidates) == 1:
                    return candidates[0]
                if not candidates:
                    candidates = range(n)
                break
        fresh = self._unreported is None  # every pick of ours is counted in the in-flights
        sampled = (
            list(candidates)
            if fresh and len(candidates) <= SCAN
            else self._sample(upstreams, candidates, fresh, rng)
        )
        fast = [self._known_cost(upstreams[i], now) for i in sampled]
        costs = [c for c in fast if c is not None]
        if len(costs) < len(fast):  # not measured yet: compare with the others' typical delay
            costs = self.costs([upstreams[i] for i in sampled], now=now)
        look = self._models.get if self._board is None else self.view
        chosen = _near_best(upstreams, sampled, costs, rng, look)
        self._unreported = upstreams[chosen].id
        return chosen

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        return inverse_cost_shares(self.costs(upstreams, now=now))

    def costs(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        """The cost of each upstream by the formula above."""
        models = [self.view(u.id) for u in upstreams]
        delays = [
            self._delay(u, m, u.in_flight, now) for u, m in zip(upstreams, models, strict=True)
        ]
        if None in delays:
            known = [u for u, d in zip(upstreams, delays, strict=True) if d is not None]
            delays = [
                self._typical(known, u.in_flight, now) if d is None else d
                for u, d in zip(upstreams, delays, strict=True)
            ]
        result = []
        for upstream, model, delay in zip(upstreams, models, delays, strict=True):
            assert delay is not None
            oldest = upstream.oldest_pending
            if oldest is not None:
                delay += _silence(upstream, model, oldest, now)
            if model is not None and model.stalled:
                delay *= 1.0 + STALL_WEIGHT * model.stalled_share(now)
            result.append(delay / upstream.weight * _penalty(upstream, now))
        return result

    # -- internals --------------------------------------------------------------------------

    def _sample(
        self,
        upstreams: Sequence[UpstreamView],
        candidates: Sequence[int],
        fresh: bool,
        rng: random.Random,
    ) -> list[int]:
        """``d`` distinct candidates at random, plus the least loaded if the view is fresh."""
        m = len(candidates)
        d = max(2, min(self.choices, m - 1))
        random_ = rng.random
        drawn: list[int] = []
        while len(drawn) < d:  # d distinct of m by rejection: d <= m - 1, so few redraws
            k = int(random_() * m)
            if k not in drawn:
                drawn.append(k)
        if fresh and m > d:  # add the least loaded
            start = int(random_() * m)  # ties among the least loaded at random
            least, fewest = start, upstreams[candidates[start]].in_flight
            for j in range(1, m):
                k = (start + j) % m
                f = upstreams[candidates[k]].in_flight
                if f < fewest:
                    least, fewest = k, f
            if least not in drawn:
                drawn.append(least)
        return [candidates[k] for k in drawn]

    def _known_cost(self, upstream: UpstreamView, now: float) -> float | None:
        """:meth:`costs` of one upstream with a learned model (None otherwise): the fast path."""
        model = self._models.get(upstream.id)
        board = self._board
        if board is not None:
            model = board.view(upstream.id, model, self._slope)
        if model is None or model.at is None:
            return None
        delay = model.predict(upstream.in_flight)
        idle = now - model.at
        if idle > 0.0:
            delay *= math.exp(-idle / self.decay)
        oldest = upstream.oldest_pending
        if oldest is not None:  # silence: the usual gap is at least b, a cheap first test
            done = model.done_at
            peers = upstream.peers_answered_at  # workers sharing counts: anyone's last answer
            if peers is not None and peers > done:
                done = peers
            silent = now - (oldest if oldest > done else done)
            if silent > SILENCE_GAPS * model.b:
                delay += _silence(upstream, model, oldest, now)
        if model.stalled:
            delay *= 1.0 + STALL_WEIGHT * model.stalled_share(now)
        cost = delay / upstream.weight
        if upstream.last_error_at is not None or upstream.retry_after_until is not None:
            cost *= _penalty(upstream, now)
        return cost

    def _delay(
        self, upstream: UpstreamView, model: DelayModel | None, k: int, now: float
    ) -> float | None:
        """Expected delay at ``k`` in flight, decayed while idle; None when nothing is known."""
        if model is not None and model.at is not None:
            idle = now - model.at
            delay = model.predict(k)
            return delay * math.exp(-idle / self.decay) if idle > 0.0 else delay
        if upstream.latency_at is None:
            return None
        age = max(now - upstream.latency_at, 0.0)
        return max(upstream.peak_latency, 1e-9) * (k + 1) * math.exp(-age / self.decay)

    def _typical(self, known: Sequence[UpstreamView], k: int, now: float) -> float:
        """The mean delay of the ``known`` upstreams had they ``k`` requests in flight."""
        delays = [self._delay(u, self.view(u.id), k, now) for u in known]
        values = [d for d in delays if d is not None]
        return sum(values) / len(values) if values else DEFAULT_LATENCY * (k + 1)

    def _forget(self, upstreams: Sequence[UpstreamView]) -> None:
        """Drop the models of upstreams that are gone (ids churn as replicas are replaced)."""
        keep = {u.id for u in upstreams}
        for upstream_id in [i for i in self._models if i not in keep]:
            if not self._models[upstream_id].sent:  # nothing of it still in flight
                del self._models[upstream_id]


def _near_best(
    upstreams: Sequence[UpstreamView],
    sampled: Sequence[int],
    costs: Sequence[float],
    rng: random.Random,
    look: Callable[[str], DelayModel | None],
) -> int:
    """The index to send to: among the ``sampled`` whose cost is within :data:`NEAR` of the
    lowest and whose idle latency is within :data:`NEAR_SPEED` of the cheapest's, the fewest
    requests in flight, then the lowest cost, then at random. ``look`` gives the model of an
    upstream id (the policy's own, or with workers sharing, the pooled one)."""
    best = min(costs)
    limit = best * (1.0 + NEAR)
    near = [
        (upstreams[i].in_flight, c, i) for i, c in zip(sampled, costs, strict=True) if c <= limit
    ]
    if len(near) == 1:
        return near[0][2]
    cheapest = look(upstreams[next(i for _, c, i in near if c == best)].id)
    if cheapest is not None and cheapest.at is not None:  # keep those about as fast
        cap = cheapest.predict(0) * (1.0 + NEAR_SPEED)
        near = [t for t in near if _idle_at_most(look(upstreams[t[2]].id), cap)]
    fewest, lowest, _ = min(near)
    ties = [i for f, c, i in near if f == fewest and c == lowest]
    return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]


def _idle_at_most(model: DelayModel | None, cap: float) -> bool:
    """True if the upstream's idle latency is at most ``cap`` (or nothing is known of it)."""
    return model is None or model.at is None or model.predict(0) <= cap


def _silence(upstream: UpstreamView, model: DelayModel | None, oldest: float, now: float) -> float:
    """Seconds without an answer beyond :data:`SILENCE_GAPS` usual gaps, while requests are out
    (``oldest``: the start of the oldest). The usual gap with ``k`` out is read off the learned
    line: ``max(b, line(0) / k)``: a replica that serves ``k`` at once answers every
    ``line(0) / k`` while it has free slots, and every ``b`` (its time per extra request) once
    they are full; at one slot both are its service time. With workers sharing their counts,
    ``oldest`` and the last answer (``peers_answered_at``) are over every worker."""
    if model is not None and model.at is not None:
        last = max(oldest, model.done_at)
        usual = model.usual_gap(upstream.in_flight)
    elif upstream.latency_at is not None:
        last, usual = max(oldest, upstream.latency_at), upstream.peak_latency
    else:
        return 0.0
    peers = upstream.peers_answered_at
    if peers is not None and peers > last:
        last = peers
    return max(now - last - SILENCE_GAPS * usual, 0.0)


def _penalty(upstream: UpstreamView, now: float) -> float:
    """The cost factor for a recent failure and for being inside a ``Retry-After``."""
    factor = 1.0
    if upstream.last_error_at is not None:
        age = max(now - upstream.last_error_at, 0.0)
        factor += ERROR_PENALTY * math.exp(-age / ERROR_DECAY)
    if _in_retry_after(upstream, now):
        factor *= RETRY_AFTER_PENALTY
    return factor


def _in_retry_after(upstream: UpstreamView, now: float) -> bool:
    until = upstream.retry_after_until
    return until is not None and now < until
