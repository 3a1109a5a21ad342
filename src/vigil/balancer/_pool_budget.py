"""The retry budget: a token bucket that caps retries at a share of traffic plus a small floor.

Owned by :class:`vigil.balancer.pool.Pool`; the proxy data plane asks
``pool.retry_allowed(now)`` before each retry and calls ``pool.note_request(now)`` for each new
client request. Without a budget, retries during an outage multiply the load on the replicas
that are left (a retry storm); Finagle's ``RetryBudget`` and Envoy's ``retry_budget`` bound them
the same way.
"""

from __future__ import annotations


class RetryBudget:
    """Each request deposits ``ratio`` tokens, time deposits ``floor`` tokens per second, a
    retry withdraws one; the balance is capped at ``burst``. Long-run retries <=
    ``ratio * requests + floor * seconds``."""

    def __init__(self, ratio: float = 0.2, floor: float = 5.0, burst: float = 20.0) -> None:
        if ratio < 0.0 or floor < 0.0 or burst < 1.0:
            raise ValueError("ratio and floor must be >= 0 and burst >= 1")
        self.ratio = ratio
        self.floor = floor
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def note_request(self, now: float) -> None:
        """One new client request (not a retry)."""
        self._refill(now)
        self._tokens = min(self.burst, self._tokens + self.ratio)

    def allow(self, now: float) -> bool:
        """Take a token for one retry if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _refill(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._tokens = min(self.burst, self._tokens + self.floor * (now - self._at))
        if self._at is None or now > self._at:
            self._at = now
