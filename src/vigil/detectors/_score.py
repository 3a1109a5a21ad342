"""The shape every streaming detector shares: ``update(t, x) -> Score``.

A detector is fed one observation at a time, with its timestamp (seconds, any origin: the clock
is passed in, never read), and answers at once with a :class:`Score` in [0, 1] and a short
explanation. Detectors are causal: the score of an observation depends only on it and on the
observations before it. The CLI (``vigil detect``) and, later, the metrics pipeline call them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Score:
    """A detector's verdict on one observation: ``value`` in [0, 1] (0 = normal) and why."""

    value: float
    explanation: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.value <= 1.0:  # also rejects NaN
            raise ValueError(f"score must be in [0, 1], got {self.value!r}")


NORMAL = Score(0.0, "normal")


class Detector(Protocol):
    """A streaming, causal anomaly detector over one series."""

    def update(self, t: float, x: float) -> Score:
        """Learn from observation ``x`` at time ``t`` and return its score."""
        ...


def squash(surprise: float, scale: float = 1.0) -> float:
    """Map a surprise in [0, inf] onto [0, 1): monotone, so ranks (and thresholds) survive.

    ``s / (s + scale)`` keeps full float resolution near 1 for surprises up to ~1e15, unlike
    ``1 - exp(-s)`` which rounds every surprise above ~37 to exactly 1.0.
    """
    if not surprise > 0.0:  # also maps NaN to 0
        return 0.0
    if math.isinf(surprise):
        return 1.0
    return surprise / (surprise + scale)
