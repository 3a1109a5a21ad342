"""Turns a stream of probe outcomes into a healthy/unhealthy verdict, with Kubernetes thresholds.

Pure state machine, no I/O. Used by :class:`vigil.collectors.ProbeLoop` (one tracker per replica
and probe kind) and by tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.collectors._outcome import ProbeOutcome

if TYPE_CHECKING:  # annotations only: the agent imports vigil.collectors, and the settings
    # models (pydantic) would cost it ~14 MB for probes only the controller runs
    from vigil.settings import Probe


class ProbeTracker:
    """The verdict of one probe: unknown at first, then flips after enough consecutive outcomes.

    ``success_threshold`` consecutive successes make it healthy and ``failure_threshold``
    consecutive failures make it unhealthy; from the unknown verdict either may come first.
    """

    def __init__(self, probe: Probe) -> None:
        self.failure_threshold = probe.failure_threshold
        self.success_threshold = probe.success_threshold
        self.healthy: bool | None = None
        """The current verdict: ``None`` until a threshold is first reached."""
        self.successes = 0
        """Consecutive successes so far (0 after a failure)."""
        self.failures = 0
        """Consecutive failures so far (0 after a success)."""
        self.timed_out = False
        """True when every failure of the current streak timed out (a hang, not a refusal)."""

    def record(self, outcome: ProbeOutcome) -> bool | None:
        """Apply one outcome; the new verdict if it flipped (True healthy, False not), else None."""
        if outcome.ok:
            self.successes += 1
            self.failures = 0
            self.timed_out = False
            if self.healthy is not True and self.successes >= self.success_threshold:
                self.healthy = True
                return True
            return None
        self.timed_out = outcome.timed_out and (self.failures == 0 or self.timed_out)
        self.failures += 1
        self.successes = 0
        if self.healthy is not False and self.failures >= self.failure_threshold:
            self.healthy = False
            return False
        return None

    def reset(self) -> None:
        """Back to the unknown verdict (for a new process of the same replica)."""
        self.healthy = None
        self.successes = self.failures = 0
        self.timed_out = False
