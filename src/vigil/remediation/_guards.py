"""Pure restart guards: exponential backoff and the crash-loop detector.

No clock and no I/O: times are passed in. Used by the supervisor
(:mod:`vigil.remediation._supervisor`) to decide when to restart a replica and when to stop
trying and escalate.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vigil.settings import RestartPolicy

MAX_DOUBLINGS = 1000
"""The backoff doubles at most this many times (2.0 ** 1000 is finite; 2.0 ** 1024 raises)."""


def should_restart(policy: str, returncode: int | None) -> bool:
    """Whether a replica that exited with ``returncode`` is restarted under ``policy``.

    ``None`` (exit code unknown: an adopted process, or killed by Vigil because it hung) counts as
    a failure.
    """
    if policy == "never":
        return False
    if policy == "on-failure":
        return returncode != 0
    return True


@dataclass
class RestartBudget:
    """Backoff and crash-loop bookkeeping for one replica.

    Delays follow Kubernetes' shape: the first restart after ``backoff_initial`` (0: at once),
    then ``backoff_base`` doubling up to ``backoff_max``. A replica that stayed up for
    ``backoff_reset`` seconds forgets its streak. ``max_restarts`` restarts within ``window``
    seconds is a crash loop.
    """

    policy: RestartPolicy
    streak: int = 0

    def __post_init__(self) -> None:
        self._restarts: deque[float] = deque()

    def note_exit(self, started_at: float, now: float) -> None:
        """Record that a run that began at ``started_at`` ended at ``now``."""
        if now - started_at >= self.policy.backoff_reset:
            self.streak = 0
            self._restarts.clear()

    def crash_looping(self, now: float) -> bool:
        """True when the next restart would be the ``max_restarts``-th within ``window``."""
        window = self.policy.crash_loop.window
        while self._restarts and now - self._restarts[0] > window:
            self._restarts.popleft()
        return len(self._restarts) >= self.policy.crash_loop.max_restarts

    def next_delay(self) -> float:
        """Seconds to wait before the next restart."""
        if self.streak == 0:
            return self.policy.backoff_initial
        # 2.0 ** 1024 is an OverflowError, not inf: a replica that crashes too slowly to be a
        # crash loop (20 s up, then the 30 s backoff) reached that streak in ~14 h, and the
        # error ended the controller; any exponent past ~1,000 is backoff_max anyway
        doubling = 2.0 ** min(self.streak - 1, MAX_DOUBLINGS)
        return float(min(self.policy.backoff_base * doubling, self.policy.backoff_max))

    def note_restart(self, now: float) -> None:
        self.streak += 1
        self._restarts.append(now)

    def recent_restarts(self, now: float) -> int:
        window = self.policy.crash_loop.window
        return sum(1 for t in self._restarts if now - t <= window)

    def reset(self) -> None:
        """Forget the streak and the history (an operator asked for a fresh start)."""
        self.streak = 0
        self._restarts.clear()
