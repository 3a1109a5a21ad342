"""The Poisson upper tail, in log space, without scipy.

Pure math, used by :class:`~vigil.logs.analysis.BurstDetector`::

    P(X >= k | lam) = sum_{i >= k} e^-lam lam^i / i!

For ``k > lam`` the terms fall from the first one, so the sum is taken from ``i = k`` upwards
as ``pmf(k) * (1 + r_1 + r_1 r_2 + ...)`` with ``r_j = lam / (k + j)``: no cancellation and
no underflow, since only ``log pmf(k) = k log lam - lam - lgamma(k + 1)`` is exponentiated
last. For ``k <= lam`` the tail is at least about a half, and ``1 - P(X < k)`` is exact
enough (the lower sum is taken from ``i = k - 1`` downwards the same way).
"""

from __future__ import annotations

import math

_REL_EPS = 1e-17  # stop a series when a term adds less than this fraction of the sum
_MAX_TERMS = 100_000  # the ratio is < 1 - 1/(k+j); far past any count a bucket really holds


def _log_pmf(k: int, lam: float) -> float:
    return k * math.log(lam) - lam - math.lgamma(k + 1)


def poisson_log_sf(k: int, lam: float) -> float:
    """``log P(X >= k)`` for ``X ~ Poisson(lam)`` (natural log; 0.0 for ``k <= 0``)."""
    if lam <= 0:
        raise ValueError(f"lam must be > 0 (got {lam})")
    if k <= 0:
        return 0.0
    if k > lam:
        total = term = 1.0
        for j in range(1, _MAX_TERMS):
            term *= lam / (k + j)
            total += term
            if term < _REL_EPS * total:
                break
        return _log_pmf(k, lam) + math.log(total)
    # Lower tail P(X <= k - 1), summed downwards from its largest term.
    total = term = 1.0
    for i in range(k - 1, 0, -1):
        term *= i / lam
        total += term
        if term < _REL_EPS * total:
            break
    lower = math.exp(_log_pmf(k - 1, lam)) * total
    return math.log1p(-min(lower, 1.0 - 1e-16))


def poisson_sf(k: int, lam: float) -> float:
    """``P(X >= k)`` for ``X ~ Poisson(lam)`` (may underflow to 0.0; use the log form)."""
    return math.exp(poisson_log_sf(k, lam))


def poisson_threshold(lam: float, log_alpha: float, *, floor: int = 1) -> int:
    """The smallest ``k >= floor`` with ``log P(X >= k | lam) < log_alpha``.

    A binary search between ``floor`` and a bound well past the normal approximation's quantile
    (``lam + z sqrt(lam)`` with ``z = sqrt(-2 log alpha)``, a Chernoff-style bound): a few
    dozen tail evaluations, done once per bucket.
    """
    lo = max(floor, 1)
    if poisson_log_sf(lo, lam) < log_alpha:
        return lo
    z = math.sqrt(-2.0 * log_alpha)
    hi = max(lo + 1, math.ceil(lam + 2.0 * z * math.sqrt(lam) + -log_alpha + 1.0))
    while poisson_log_sf(hi, lam) >= log_alpha:  # never loops in practice: the bound is loose
        hi *= 2
    while hi - lo > 1:  # invariant: sf(lo) >= alpha > sf(hi)
        mid = (lo + hi) // 2
        if poisson_log_sf(mid, lam) < log_alpha:
            hi = mid
        else:
            lo = mid
    return hi
