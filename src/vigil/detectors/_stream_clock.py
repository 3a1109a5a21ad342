"""The clock of one stream of timestamped rows: where each row's time may move it, and where not.

Who calls it: ``vigil detect FILE.csv`` (:mod:`vigil.cli._detect`), once per readable row,
before the row is fed to the detector. Pure: plain times in, a :class:`Placement` out.

A detector's clock never goes back, so a row is fed at ``max(its time, the clock)``. That alone
let one typo stall a file: a row dated 2104 instead of 2024 moved the clock 80 years ahead, and
every later row, now "before the previous one", was fed at 2104, so the day / week views saw the
same instant for the rest of the file. A forward jump of more than :data:`FAR_FACTOR` usual steps
is therefore held: the row is reported and fed at the clock as it was. It is taken as real only
when the next row follows on from it (after it, within :data:`GAP_FACTOR` steps): a stream that
really resumed after a long outage loses the time of one row, a typo loses nothing more.

That guard needs a usual step, which the first two rows do not have: a typo in one of them set
the clock (and the step) and every later row was "before the clock" for the rest of the file.
So while at most :data:`START_ROWS` rows have moved the clock, two rows in a row before it that
follow on from each other say those first rows were the typo: the clock *restarts* at the
second of them (:attr:`Kind.RESTART`), and its caller starts a fresh detector there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

GAP_FACTOR = 10.0  # a step this many times the usual one is reported as a gap
# A jump this many usual steps ahead is held until the next row confirms it: 3.5 days at a
# 5-minute step, 17 minutes at one second. Small enough that a mistyped year, month or day is
# caught on any usual rate; large enough that an ordinary gap (GAP_FACTOR) is never held.
FAR_FACTOR = 1000.0
STEP_WEIGHT = 0.1  # weight of the newest step in the usual one (~10 rows)
# The rows whose time may be taken back by a restart: the first two have no usual step to be
# judged by (the first sets the clock, the second the step); later ones are judged as FAR.
START_ROWS = 2


class Kind(Enum):
    """What a row's time did to the clock."""

    IN_ORDER = "in order"
    DUPLICATE = "duplicate"
    BEFORE = "before the clock"  # fed at the clock, which stays
    GAP = "gap"  # a step over GAP_FACTOR usual ones, taken
    FAR = "far ahead"  # a step over FAR_FACTOR usual ones, held: fed at the clock
    RESTART = "restart"  # the first rows were ahead of the rest: the clock starts again here


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a row goes: fed at ``at``; ``jump`` the step from the clock (0 unless a gap or far),
    ``step`` the usual step before this row."""

    at: float
    kind: Kind
    jump: float = 0.0
    step: float = 0.0


class StreamClock:
    """Places each row's time on the stream's clock (see the module docstring)."""

    __slots__ = ("_behind", "_far", "_gap", "_held", "_moves", "clock", "step")

    def __init__(self, gap_factor: float = GAP_FACTOR, far_factor: float = FAR_FACTOR) -> None:
        self._gap = gap_factor
        self._far = far_factor
        self._held: float | None = None  # the time of the last row held as far ahead
        self._behind: float | None = None  # the time of the previous row, if before the clock
        self._moves = 0  # rows that moved the clock since the start (or the restart)
        self.clock: float | None = None
        """The latest time a row was fed at: never goes back, but at a restart."""
        self.step = 0.0
        """The usual step between rows (exponentially weighted, each step capped at 2x it)."""

    def place(self, t: float) -> Placement:
        """The placement of a row at ``t`` (finite seconds); moves the clock if it may."""
        clock, step, held, behind = self.clock, self.step, self._held, self._behind
        self._held = self._behind = None
        if clock is None:
            self.clock, self._moves = t, 1
            return Placement(t, Kind.IN_ORDER)
        if t < clock:
            if behind is not None and behind < t and self._moves <= START_ROWS:
                self.clock, self.step, self._moves = t, t - behind, 1
                return Placement(t, Kind.RESTART, clock - t, step)
            self._behind = t
            return Placement(clock, Kind.BEFORE, step=step)
        if t == clock:
            return Placement(t, Kind.DUPLICATE, step=step)
        jump = t - clock
        # strictly after the held row: its copy (a file of two rows per time) confirms nothing
        follows = held is not None and held < t <= held + self._gap * max(step, 1e-9)
        if step > 0.0 and jump > self._far * step and not follows:
            self._held = t
            return Placement(clock, Kind.FAR, jump, step)
        self.clock = t
        self._moves += 1
        self.step = jump if step == 0.0 else step + STEP_WEIGHT * (min(jump, 2 * step) - step)
        if step > 0.0 and jump > self._gap * step:
            return Placement(t, Kind.GAP, jump, step)
        return Placement(t, Kind.IN_ORDER, jump, step)
