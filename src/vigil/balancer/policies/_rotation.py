"""Rotations: round robin and nginx's smooth weighted round robin.

Both ignore load and latency: they give each upstream a fixed share. Called by the pool
(:mod:`vigil.balancer.pool`) for each new request.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from vigil.balancer._upstream import UpstreamView
from vigil.balancer.policies._base import weight_shares


class RoundRobin:
    """Round robin: the k-th request goes to upstream ``k mod n``; share ``1 / n`` each.

    Weights are ignored (use ``weighted`` for them). The cursor survives changes of the set, so
    after an upstream leaves the rotation simply continues over the remaining ones.
    """

    name = "round_robin"

    def __init__(self) -> None:
        self._next = 0

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
        index = self._next % len(upstreams)
        self._next = index + 1
        return index

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        return [1.0 / len(upstreams)] * len(upstreams) if upstreams else []


class SmoothWeighted:
    """Smooth weighted round robin (nginx, ``ngx_http_upstream_get_peer``).

    For each pick, every upstream's current weight grows by its effective weight ``W_i``; the
    upstream with the largest current weight is chosen and loses ``sum(W)``::

        c_i <- c_i + W_i          for every i
        pick j = argmax c_i       (first on ties)
        c_j <- c_j - sum(W)

    Over any ``sum(W)`` consecutive picks (integer weights) upstream i gets exactly ``W_i`` of
    them, so its share is ``L_i = W_i / sum(W)``; the picks are interleaved (weights 5, 1, 1
    give ``a a b a c a a``, never ``a a a a a b c``). Current weights are kept per upstream id,
    so weight changes (slow start, the API) take effect on the next pick.
    """

    name = "weighted"

    def __init__(self) -> None:
        self._current: dict[str, float] = {}

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
        current = self._current
        if len(current) > 2 * len(upstreams) + 8:  # forget upstreams that left the pool
            ids = {u.id for u in upstreams}
            self._current = current = {k: v for k, v in current.items() if k in ids}
        total = 0.0
        best = -1
        best_value = 0.0
        for i, upstream in enumerate(upstreams):
            weight = upstream.weight
            value = current.get(upstream.id, 0.0) + weight
            current[upstream.id] = value
            total += weight
            if best < 0 or value > best_value:
                best, best_value = i, value
        current[upstreams[best].id] = best_value - total
        return best

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        return weight_shares(upstreams)
