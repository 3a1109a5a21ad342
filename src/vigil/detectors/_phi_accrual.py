"""The phi-accrual failure detector (Hayashibara et al., 2004), as implemented by Akka.

Pure: no clock and no I/O, every method takes ``now`` (seconds, any monotonic origin). Used by
:class:`vigil.detectors.NodeJudge`, which the daemon's heartbeat monitor feeds with heartbeats and
polls every ``heartbeat.check_every`` seconds.

phi is the suspicion level ``-log10(P(the next heartbeat is still to come))`` after ``delta``
seconds of silence, with inter-arrival times modelled as a normal distribution learned from a
bounded window of recent intervals. Like Akka, the normal CDF is replaced by its logistic
approximation, here computed as a softplus so that phi stays finite and strictly increasing for
any silence (no ``inf``, no ``NaN``).
"""

from __future__ import annotations

import math
from collections import deque

_LN10 = math.log(10.0)
_A = 0.070566  # Akka's logistic approximation of the normal CDF: F(y) ~ 1 / (1 + e^-(y*(B+A*y^2)))
_B = 1.5976
_Y_MAX = 1e100  # phi stops growing (at ~3e298, still finite) this many std devs past the mean


def _softplus(x: float) -> float:
    """``log(1 + e^x)`` without overflow for large ``x`` nor loss of precision for small."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def phi_of(delta: float, mean: float, std: float) -> float:
    """phi after ``delta`` seconds of silence for intervals ~ Normal(``mean``, ``std``)."""
    y = min((delta - mean) / std, _Y_MAX)
    return _softplus(y * (_B + _A * y * y)) / _LN10


def detection_time(phi_threshold: float, *, mean: float, std: float) -> float:
    """Seconds of silence after which phi reaches ``phi_threshold`` (the inverse of :func:`phi_of`).

    ``mean`` includes any acceptable pause and ``std`` is the effective standard deviation (after
    the ``min_std`` floor). Solves the cubic ``A*y^3 + B*y = x`` exactly (Cardano: one real root).
    """
    x = phi_threshold * _LN10
    x = x + math.log(-math.expm1(-x))  # inverse softplus, stable for large x
    p, q = _B / _A, -x / _A
    root = math.sqrt(q * q / 4 + p**3 / 27)
    y = math.cbrt(-q / 2 + root) + math.cbrt(-q / 2 - root)
    return mean + y * std


class PhiAccrual:
    """Suspicion level of one heartbeat source, learned from its recent inter-arrival times.

    The history is seeded with two intervals ``first_interval -/+ first_interval/4`` (mean
    ``first_interval``, std ``first_interval/4``) so that the source is judged from its very first
    heartbeat; they age out of the window like any other sample. Mean and variance come from a
    running sum and sum of squares: O(1) per heartbeat, re-summed once per window against drift.
    """

    def __init__(
        self,
        window: int = 100,
        *,
        min_std: float,
        acceptable_pause: float = 0.0,
        first_interval: float,
    ) -> None:
        if window < 2:
            raise ValueError(f"window must be >= 2 (got {window})")
        if min_std <= 0:
            raise ValueError(f"min_std must be > 0 (got {min_std})")
        if first_interval <= 0:
            raise ValueError(f"first_interval must be > 0 (got {first_interval})")
        if acceptable_pause < 0:
            raise ValueError(f"acceptable_pause must be >= 0 (got {acceptable_pause})")
        self.window = window
        self.min_std = min_std
        self.acceptable_pause = acceptable_pause
        self._intervals: deque[float] = deque()
        self._sum = 0.0
        self._sum_sq = 0.0
        self._since_resum = 0
        self.last: float | None = None
        """Time of the latest heartbeat, ``None`` before the first."""
        spread = first_interval / 4
        self._add(first_interval - spread)
        self._add(first_interval + spread)

    def _add(self, interval: float) -> None:
        if len(self._intervals) == self.window:
            old = self._intervals.popleft()
            self._sum -= old
            self._sum_sq -= old * old
        self._intervals.append(interval)
        self._sum += interval
        self._sum_sq += interval * interval
        self._since_resum += 1
        if self._since_resum >= self.window:
            self._sum = math.fsum(self._intervals)
            self._sum_sq = math.fsum(i * i for i in self._intervals)
            self._since_resum = 0

    @property
    def mean(self) -> float:
        """Mean inter-arrival time in the window (without the acceptable pause)."""
        return self._sum / len(self._intervals)

    @property
    def std(self) -> float:
        """Standard deviation of the inter-arrival times in the window (without the floor)."""
        mean = self.mean
        return math.sqrt(max(0.0, self._sum_sq / len(self._intervals) - mean * mean))

    def heartbeat(self, now: float) -> None:
        """Record a heartbeat received at ``now``; one arriving out of order counts as no gap."""
        if self.last is not None:
            self._add(max(0.0, now - self.last))
        self.last = now if self.last is None else max(self.last, now)

    def silence_until(self, phi_threshold: float) -> float:
        """Seconds after the latest heartbeat at which phi reaches ``phi_threshold``."""
        return detection_time(
            phi_threshold,
            mean=self.mean + self.acceptable_pause,
            std=max(self.std, self.min_std),
        )

    def phi(self, now: float) -> float:
        """Suspicion at ``now``: 0 before the first heartbeat, then growing with the silence."""
        if self.last is None:
            return 0.0
        delta = max(0.0, now - self.last)
        return phi_of(delta, self.mean + self.acceptable_pause, max(self.std, self.min_std))
