"""What one finished attempt does to an upstream's estimates, and its slow-start weight.

Pure functions on :class:`~vigil.balancer._upstream.Upstream`, with the time passed in. Called
only by :class:`vigil.balancer.pool.Pool` (``release``, ``acquire`` and ``snapshot``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from vigil.balancer._pool_settings import PoolSettings, UpstreamStatus
from vigil.balancer._upstream import AdminState, Outcome, Upstream

FAILURES: Final = frozenset(
    {
        Outcome.SERVER_ERROR,
        Outcome.CONNECT_ERROR,
        Outcome.REFUSED,
        Outcome.TIMEOUT,
        Outcome.PROTOCOL_ERROR,
    }
)
"""Outcomes that count towards outlier ejection. ``OVERLOADED`` is back-pressure, not a fault
(it sets ``retry_after_until`` instead), and ``CLIENT_ABORT`` is not the upstream's doing."""


def failure_points(outcome: Outcome, threshold: int) -> int:
    """How much one failure counts towards ``threshold`` consecutive failure points: a refused
    connection or garbage the whole threshold (nothing listens on the port: the process is gone;
    or the upstream cannot be trusted), another connect error half of it (a reset or an
    unreachable host may pass), anything else 1."""
    if outcome is Outcome.PROTOCOL_ERROR or outcome is Outcome.REFUSED:
        return threshold
    if outcome is Outcome.CONNECT_ERROR:
        return max(1, math.ceil(threshold / 2))
    return 1


def observe_latency(
    upstream: Upstream,
    now: float,
    latency: float,
    *,
    alpha: float,
    decay: float,
    failed: bool = False,
) -> None:
    """Fold one latency into the plain EWMA and the peak EWMA.

    Plain: ``e <- e + alpha * (x - e)`` (the first sample sets it). Peak (Finagle): ``p <- x``
    if ``x > p``, else ``p <- p * w + x * (1 - w)`` with ``w = exp(-(now - latency_at) / decay)``.
    A failed attempt may only raise the estimates: a replica that fails fast must not look fast.
    """
    latency = max(latency, 0.0)
    if upstream.latency_at is None:
        upstream.ewma_latency = upstream.peak_latency = latency
        upstream.latency_at = now
        return
    if not failed or latency > upstream.ewma_latency:
        upstream.ewma_latency += alpha * (latency - upstream.ewma_latency)
    if latency > upstream.peak_latency:
        upstream.peak_latency = latency
    elif not failed:
        w = math.exp(-max(now - upstream.latency_at, 0.0) / decay)
        upstream.peak_latency = upstream.peak_latency * w + latency * (1.0 - w)
    else:
        return  # a failure that did not raise the peak leaves its clock alone
    upstream.latency_at = now


def decayed_peak(upstream: Upstream, now: float, decay: float) -> float:
    """The peak EWMA as ``p2c_ewma`` reads it at ``now`` (decayed towards zero while idle)."""
    if upstream.latency_at is None:
        return 0.0
    return upstream.peak_latency * math.exp(-max(now - upstream.latency_at, 0.0) / decay)


def ramp_weight(upstream: Upstream, now: float, floor: float) -> bool:
    """Set ``weight`` from the slow-start ramp: ``W * (floor + (1 - floor) * t / slow_start)``
    for ``t`` seconds since admission. Returns False once the ramp is over (``weight = W``)."""
    start = upstream.admitted_at
    if start is None or upstream.slow_start <= 0.0:
        upstream.weight = upstream.configured_weight
        upstream.admitted_at = None
        return False
    progress = (now - start) / upstream.slow_start
    if progress >= 1.0:
        upstream.weight = upstream.configured_weight
        upstream.admitted_at = None
        return False
    share = floor + (1.0 - floor) * max(progress, 0.0)
    upstream.weight = upstream.configured_weight * share
    return True


def eject(
    upstream: Upstream, now: float, ready: Sequence[Upstream], settings: PoolSettings
) -> bool:
    """Eject ``upstream`` for ``k * eject_base`` seconds (the k-th ejection without
    ``eject_max`` seconds of health in between; capped at ``eject_max``), unless ``ready`` (the
    pool's upstreams in service) already has ``max_ejection_percent`` of its members, or all but
    one, ejected. It comes back on probation. Returns whether it was ejected."""
    ejected = sum(1 for u in ready if u.ejected(now))
    limit = min(math.floor(len(ready) * settings.max_ejection_percent / 100.0), len(ready) - 1)
    if ejected >= limit:
        return False  # at the cap: it stays in, and is ejected later if there is room
    if upstream.ejected_until is not None and now - upstream.ejected_until > settings.eject_max:
        upstream.ejections = 0  # healthy for long enough: forget the earlier ejections
    upstream.ejections += 1
    length = min(settings.eject_base * upstream.ejections, settings.eject_max)
    upstream.ejected_until = now + length
    upstream.consecutive_failures = 0
    upstream.probation = True
    upstream.admitted_at = None
    upstream.weight = upstream.configured_weight
    return True


def status_of(upstream: Upstream, now: float, share: float | None, decay: float) -> UpstreamStatus:
    """The API's row for ``upstream``; ``share`` is None when it is not eligible."""
    serving = upstream.state is AdminState.READY and upstream.healthy
    return UpstreamStatus(
        id=upstream.id,
        address=f"{upstream.host}:{upstream.port}",
        state=str(upstream.state if upstream.healthy else AdminState.NOT_READY),
        eligible=share is not None,
        weight=upstream.configured_weight,
        effective_weight=upstream.weight if serving else 0.0,
        in_flight=upstream.in_flight,
        ewma_latency=upstream.ewma_latency,
        peak_latency=decayed_peak(upstream, now, decay),
        ejected_until=upstream.ejected_until if upstream.ejected(now) else None,
        ejections=upstream.ejections,
        requests=upstream.requests,
        errors=upstream.errors,
        share=share or 0.0,
    )
