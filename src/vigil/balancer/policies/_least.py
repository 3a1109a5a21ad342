"""Least-cost policies that look at every upstream: least connections and least response time.

Called by the pool (:mod:`vigil.balancer.pool`) for each new request. Both scan all eligible
upstreams (O(n)) and break ties uniformly at random, so equal upstreams share the load even when
the counts they see are stale.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from vigil.balancer._upstream import UpstreamView
from vigil.balancer.policies._base import argmin_random, inverse_cost_shares, measured_latency


class LeastConnections:
    """Weighted least connections: pick ``argmin in_flight_i / W_i``, ties at random.

    ``W_i`` is the effective weight, so a replica with twice the weight is kept at twice the
    in-flight count, and a replica in slow start gets few requests. Shares (for the API) are
    inverse costs of the next request, ``W_i / (in_flight_i + 1)``, normalised.
    """

    name = "least_conn"

    def select(
        self,
        upstreams: Sequence[UpstreamView],
        *,
        now: float,
        rng: random.Random,
        key: str | None = None,
    ) -> int | None:
        if not upstreams:
            return None
        return argmin_random([u.in_flight / u.weight for u in upstreams], rng)

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        return inverse_cost_shares([(u.in_flight + 1) / u.weight for u in upstreams])


class LeastTime:
    """Least response time: pick ``argmin ewma_i * (in_flight_i + 1) / W_i``, ties at random.

    ``ewma_i`` is the plain EWMA of completed requests' latency (``ewma_latency``): the
    expected wait if the request queued behind the ``in_flight_i`` already there. An upstream
    with no measurement yet is assumed to have the mean latency of the measured ones. Shares are
    the normalised inverse costs.
    """

    name = "least_time"

    def select(
        self,
        upstreams: Sequence[UpstreamView],
        *,
        now: float,
        rng: random.Random,
        key: str | None = None,
    ) -> int | None:
        if not upstreams:
            return None
        return argmin_random(self._costs(upstreams), rng)

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        return inverse_cost_shares(self._costs(upstreams))

    @staticmethod
    def _costs(upstreams: Sequence[UpstreamView]) -> list[float]:
        latency = measured_latency([u.ewma_latency for u in upstreams])
        return [
            lat * (u.in_flight + 1) / u.weight for lat, u in zip(latency, upstreams, strict=True)
        ]
