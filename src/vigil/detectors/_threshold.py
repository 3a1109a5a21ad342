"""Static thresholds with hysteresis and a for-duration, e.g. ``gpu.temperature > 85 for 60s``.

Who calls it: the rules of the metrics pipeline (one per rule and series) and tests. Pure: the
time of each observation is passed in, so "for 60s" is measured on the data's own clock.

States: *normal* -> (value beyond ``limit``) -> *pending* -> (still beyond after ``for_seconds``)
-> *firing* -> (value back past ``clear``, the hysteresis level) -> *normal*. Between ``clear``
and ``limit`` a firing alarm keeps firing, so a value hovering at the limit does not flap.
"""

from __future__ import annotations

from vigil.detectors._score import Score

PENDING_MAX = 0.5  # a pending breach scores up to this, growing with its age; firing scores 1


class StaticThreshold:
    """Alarm when the value is above ``limit`` (or below it, ``above=False``) for a while."""

    def __init__(
        self,
        limit: float,
        *,
        clear: float | None = None,
        for_seconds: float = 0.0,
        above: bool = True,
    ) -> None:
        clear = limit if clear is None else clear
        if (clear > limit) if above else (clear < limit):
            side = "at or below" if above else "at or above"
            raise ValueError(f"clear ({clear}) must be {side} limit ({limit})")
        self._limit = limit
        self._clear = clear
        self._for = for_seconds
        self._sign = 1.0 if above else -1.0
        self._since: float | None = None  # when the current breach started
        self.firing = False

    def update(self, t: float, x: float) -> Score:
        s = self._sign
        op = ">" if s > 0 else "<"
        if self.firing:
            if s * x > s * self._clear:
                return Score(1.0, f"firing: {x:.6g} has not come back past {self._clear:.6g}")
            self.firing = False
            self._since = None
            return Score(0.0, f"cleared: {x:.6g} back past {self._clear:.6g}")
        if not s * x > s * self._limit:
            self._since = None
            return Score(0.0, "normal")
        if self._since is None or t < self._since:
            self._since = t
        held = t - self._since
        if held >= self._for:
            self.firing = True
            return Score(1.0, f"firing: {x:.6g} {op} {self._limit:.6g} for {held:g}s")
        return Score(
            PENDING_MAX * held / self._for,
            f"pending: {x:.6g} {op} {self._limit:.6g} for {held:g}s of {self._for:g}s",
        )
