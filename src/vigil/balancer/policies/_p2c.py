"""Power of d choices over peak-EWMA latency and in-flight requests (Finagle / Linkerd, d = 3).

Called by the pool (:mod:`vigil.balancer.pool`) for each new request. Sampling a few upstreams
instead of scanning all of them is what keeps a fleet of balancers with stale views from herding
onto the one replica that looked best: the best replica is only chosen when it is sampled, so its
share stays bounded by ``d / n`` even when every balancer sees the same numbers.

Why three and not two: with two choices the worse of two bad replicas is still chosen whenever
the pair drawn is exactly those two, ``1 / C(n, 2)`` of the picks (10% with n = 5) whatever their
costs; with three, a replica is chosen only when the two others drawn are both worse. In
bench/balance_sim.py (5 replicas, one 3x slower, one stalling) d = 3 cut p2c's p99 from 1.6x to
1.3x the oracle's at 80% load (2.2x to 1.5x with one slot per replica, 1.9x to 1.5x at 50%);
a concurrency-aware cost ``latency * max(1, (in_flight + 1) / slots)`` and a plain EWMA instead
of the peak EWMA were measured too and did not help across the scenarios.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from vigil.balancer._upstream import UpstreamView
from vigil.balancer.policies._base import inverse_cost_shares, measured_latency

DECAY = 10.0
"""Time constant (seconds) of the peak EWMA: Finagle's and Linkerd's default. In
bench/balance_sim.py (one replica 3x slower, one stalling 2 s in 10) 10 s gave the lowest p99
of 0.5, 1, 2, 5 and 10 s: a long memory of a replica's worst recent answers keeps traffic off
it, and the age of its oldest in-flight request already catches a stall as it happens."""

CHOICES = 3
"""How many distinct upstreams are sampled per pick (``d``): ``max(2, min(CHOICES, n - 1))`` of
the ``n`` open ones, so that no upstream is ever certain to be sampled (no herding) while a pool
of two is still compared as a pair."""

ERROR_PENALTY = 4.0
"""A failure multiplies an upstream's cost by ``1 + ERROR_PENALTY`` at once (5x) ..."""

ERROR_DECAY = 5.0
"""... and the extra factor decays by ``exp(-age / ERROR_DECAY)`` (seconds)."""

RETRY_AFTER_PENALTY = 1e6
"""Cost factor of an upstream inside its 429/503 ``Retry-After``: chosen only if both are."""


class PeakEwmaP2C:
    """Power of d choices: sample ``d`` distinct upstreams at random, send to the cheapest.

    ``d = max(2, min(choices, n - 1))`` for ``n`` open upstreams (``choices`` defaults to
    :data:`CHOICES`): the share of any one upstream is at most ``d / n`` (< 1), ties are broken
    at random.

    Cost of upstream i at time ``now``::

        peak_i  = peak_latency_i * exp(-(now - latency_at_i) / tau)      (decayed peak EWMA)
        lat_i   = max(peak_i, now - oldest_pending_i)                    (a stall shows at once)
        cost_i  = lat_i * (in_flight_i + 1) / W_i
                  * (1 + ERROR_PENALTY * exp(-(now - last_error_at_i) / ERROR_DECAY))
                  * (RETRY_AFTER_PENALTY if now < retry_after_until_i else 1)

    The peak EWMA (kept by the pool) jumps to any slower response and decays towards faster
    ones with time constant ``tau``; decaying it towards zero while idle makes a replica that
    was slow get probed again. The age of the oldest in-flight request is a lower bound on its
    latency, so a replica that stops answering becomes expensive before any response returns.
    An upstream never measured is assumed to have the mean latency of the measured ones among
    those compared (the ``d`` sampled in ``select``, all of them in ``shares``).
    Upstreams inside a ``Retry-After`` are not sampled while others exist. Shares (for the API)
    are the normalised inverse costs.
    """

    name = "p2c_ewma"

    def __init__(self, decay: float = DECAY, choices: int = CHOICES) -> None:
        if decay <= 0.0:
            raise ValueError("decay must be > 0")
        if choices < 2:
            raise ValueError("choices must be >= 2")
        self.decay = decay
        self.choices = choices

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
        open_ = [i for i, u in enumerate(upstreams) if not _in_retry_after(u, now)]
        if len(open_) == 1:
            return open_[0]
        candidates = open_ if open_ else list(range(n))
        m = len(candidates)
        d = max(2, min(self.choices, m - 1))
        drawn: list[int] = []
        while len(drawn) < d:  # d distinct of m by rejection: d <= m - 1, so few redraws
            k = rng.randrange(m)
            if k not in drawn:
                drawn.append(k)
        sampled = [candidates[k] for k in drawn]
        costs = self.costs([upstreams[i] for i in sampled], now=now)
        best = min(costs)
        ties = [i for i, c in zip(sampled, costs, strict=True) if c == best]
        return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        return inverse_cost_shares(self.costs(upstreams, now=now))

    def costs(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        """The cost of each upstream by the formula above."""
        peaks = [self._peak(u, now) for u in upstreams]
        known = measured_latency(peaks)
        result = []
        for peak, upstream in zip(known, upstreams, strict=True):
            latency = peak
            oldest = upstream.oldest_pending
            if oldest is not None:
                latency = max(latency, now - oldest)
            cost = latency * (upstream.in_flight + 1) / upstream.weight
            if upstream.last_error_at is not None:
                age = max(now - upstream.last_error_at, 0.0)
                cost *= 1.0 + ERROR_PENALTY * math.exp(-age / ERROR_DECAY)
            if _in_retry_after(upstream, now):
                cost *= RETRY_AFTER_PENALTY
            result.append(cost)
        return result

    def _peak(self, upstream: UpstreamView, now: float) -> float:
        if upstream.latency_at is None:
            return 0.0  # unmeasured: measured_latency() fills in the mean
        age = max(now - upstream.latency_at, 0.0)
        return max(upstream.peak_latency * math.exp(-age / self.decay), 1e-9)


def _in_retry_after(upstream: UpstreamView, now: float) -> bool:
    until = upstream.retry_after_until
    return until is not None and now < until
