"""The one shape every balancing policy has, the typed error for unknown names, and helpers.

A policy is pure: it reads :class:`~vigil.balancer._upstream.UpstreamView` values, the time and
an RNG that the caller passes in, and returns an index. It may keep its own small state (a round
robin cursor, the current weights of smooth weighted round robin, a hash ring) but never reads a
clock or does I/O. The pool (:mod:`vigil.balancer.pool`) calls :meth:`Policy.select` for each new
request and :meth:`Policy.shares` for the API's ranking (``GET /balance_load``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from vigil.balancer._upstream import UpstreamView
from vigil.errors import ConfigError

DEFAULT_LATENCY = 0.1
"""Latency (seconds) assumed for every upstream while none has been measured. Only the ratios of
costs matter, so any positive value gives the same choices; 0.1 s is a typical model call."""

TIE = 1e-12
"""Relative tolerance under which two costs count as equal (ties are broken at random)."""


class UnknownPolicyError(ConfigError, LookupError):
    """A balancing or placement policy name that the registry does not know."""

    def __init__(self, kind: str, name: str, known: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(known)
        super().__init__([f"unknown {kind} policy {name!r} (known: {', '.join(self.known)})"])


class Policy(Protocol):
    """Chooses an upstream for each new request.

    ``upstreams`` are the eligible ones only (ready, not ejected, not excluded); the pool filters
    them before calling. ``key`` is the affinity key (only the hash policy uses it).
    """

    name: str

    def select(
        self,
        upstreams: Sequence[UpstreamView],
        *,
        now: float,
        rng: random.Random,
        key: str | None = None,
    ) -> int | None:
        """Index into ``upstreams`` of the chosen one; None only when ``upstreams`` is empty."""
        ...

    def shares(self, upstreams: Sequence[UpstreamView], *, now: float) -> list[float]:
        """Share of new requests each upstream would get now, summing to 1 (empty: ``[]``)."""
        ...


@runtime_checkable
class Learner(Protocol):
    """A policy that learns from each request it routed (``p2c_ewma``). The pool calls
    :meth:`started` when it sends a request to ``upstream`` (before counting it in flight) and
    :meth:`finished` once when that attempt ends, in the order the pool releases them."""

    def started(self, upstream: UpstreamView, now: float) -> None:
        """A request was sent to ``upstream``; ``upstream.in_flight`` does not count it yet."""
        ...

    def finished(
        self, upstream: UpstreamView, now: float, latency: float | None, failed: bool
    ) -> None:
        """An attempt on ``upstream`` ended after ``latency`` seconds (None: the client went
        away, nothing was measured); ``failed``: an upstream failure or 429/503."""
        ...


def argmin_random(costs: Sequence[float], rng: random.Random) -> int:
    """Index of the smallest cost, ties (within :data:`TIE`) broken uniformly at random."""
    best = min(costs)
    if math.isinf(best):
        ties = [i for i, c in enumerate(costs) if c == best]
    else:
        limit = best + TIE * max(abs(best), 1.0)
        ties = [i for i, c in enumerate(costs) if c <= limit]
    return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]


def inverse_cost_shares(costs: Sequence[float]) -> list[float]:
    """Shares proportional to ``1 / cost``, normalised: a least-cost policy keeps the costs equal,
    so a steady stream goes to each upstream in inverse proportion to what it costs now.
    Infinite costs get 0; if every cost is infinite (or zero), the shares are equal."""
    if not costs:
        return []
    zero = [c <= 0.0 for c in costs]
    if any(zero):
        return _normalise([1.0 if z else 0.0 for z in zero])
    return _normalise([0.0 if math.isinf(c) else 1.0 / c for c in costs])


def weight_shares(upstreams: Sequence[UpstreamView]) -> list[float]:
    """Shares ``W_i / sum(W)`` of the effective weights."""
    return _normalise([max(u.weight, 0.0) for u in upstreams])


def measured_latency(estimate: Sequence[float]) -> list[float]:
    """``estimate`` with the unmeasured (0.0) entries replaced by the mean of the measured ones,
    or by :data:`DEFAULT_LATENCY` when nothing is measured: a new upstream is assumed average,
    neither free (it would take every request until its first answer) nor slow (never tried)."""
    known = [e for e in estimate if e > 0.0]
    fallback = sum(known) / len(known) if known else DEFAULT_LATENCY
    return [e if e > 0.0 else fallback for e in estimate]


def _normalise(values: Sequence[float]) -> list[float]:
    total = sum(values)
    if total <= 0.0:
        return [1.0 / len(values)] * len(values) if values else []
    return [v / total for v in values]
