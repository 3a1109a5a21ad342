"""Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam; Google, 2017).

Session affinity: requests with the same key (a header or body field chosen by the proxy) go to
the same upstream while it is eligible and not overloaded. Called by the pool
(:mod:`vigil.balancer.pool`) for each new request.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Sequence
from typing import Final

from vigil.balancer._upstream import UpstreamView

VNODES: Final = 160
"""Points per upstream on the ring. With v points the share an upstream owns has a relative
spread of about ``1 / sqrt(v)`` (8% at 160), and adding or removing one upstream moves only
the keys on its own points, ``~1/n`` of them."""

LOAD_FACTOR: Final = 1.25
"""``c`` of the paper: no upstream takes more than ``ceil(c * average load)`` in flight. 1.25
moves few keys (the paper's experiments) while keeping the maximum load within 25% of average."""


RING_CACHE: Final = 16
"""Rings kept for recent sets of upstreams: a retry that excludes the upstream already tried
sees a different set, and should not rebuild the ring each time."""


def _point(text: str) -> int:
    """A stable 64-bit hash (same in every process, unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class BoundedLoadHash:
    """Consistent hashing with bounded loads on the request's affinity key.

    Each upstream id owns ``VNODES`` points ``h(id#k)`` on a 64-bit ring; key ``K`` starts at
    ``h(K)`` and walks clockwise to the first upstream whose load allows one more request::

        m          = sum(in_flight) + 1                         (requests, including this one)
        capacity_i = ceil(c * m * W_i / sum(W))                 (c = LOAD_FACTOR)
        pick the first upstream on the walk with in_flight_i + 1 <= capacity_i

    With equal weights this is the paper's ``ceil(c * m / n)``. Because ``sum(capacity) >= m``,
    some upstream always qualifies. Requests without a key go to a uniformly random upstream.
    Shares (for the API) are the fractions of the ring each upstream owns: the share of keys.
    """

    name = "hash"

    def __init__(self, load_factor: float = LOAD_FACTOR, vnodes: int = VNODES) -> None:
        if load_factor < 1.0:
            raise ValueError("load_factor must be >= 1")
        self.load_factor = load_factor
        self.vnodes = vnodes
        self._ids: tuple[str, ...] = ()
        self._points: list[int] = []
        self._owners: list[str] = []
        self._rings: dict[tuple[str, ...], tuple[list[int], list[str]]] = {}

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
        if key is None:
            return rng.randrange(len(upstreams))
        self._build(upstreams)
        index = {u.id: i for i, u in enumerate(upstreams)}
        total_weight = sum(u.weight for u in upstreams)
        requests = sum(u.in_flight for u in upstreams) + 1
        start = bisect.bisect_left(self._points, _point(key))
        seen: set[str] = set()
        count = len(self._points)
        for step in range(count):
            owner = self._owners[(start + step) % count]
            if owner in seen:
                continue
            seen.add(owner)
            i = index[owner]
            upstream = upstreams[i]
            capacity = math.ceil(self.load_factor * requests * upstream.weight / total_weight)
            if upstream.in_flight + 1 <= capacity:
                return i
            if len(seen) == len(upstreams):
                break
        return min(range(len(upstreams)), key=lambda i: upstreams[i].in_flight)

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        if not upstreams:
            return []
        self._build(upstreams)
        owned = dict.fromkeys(self._ids, 0)
        ring = 1 << 64
        for k, point in enumerate(self._points):
            previous = self._points[k - 1] if k else self._points[-1] - ring
            owned[self._owners[k]] += point - previous  # the arc that ends at this point
        return [owned[u.id] / ring for u in upstreams]

    def _build(self, upstreams: Sequence[UpstreamView]) -> None:
        ids = tuple(sorted(u.id for u in upstreams))
        if ids == self._ids:
            return
        cached = self._rings.get(ids)
        if cached is None:
            ring = sorted((_point(f"{uid}#{k}"), uid) for uid in ids for k in range(self.vnodes))
            cached = ([p for p, _ in ring], [uid for _, uid in ring])
            if len(self._rings) >= RING_CACHE:
                self._rings.pop(next(iter(self._rings)))
            self._rings[ids] = cached
        self._ids = ids
        self._points, self._owners = cached
