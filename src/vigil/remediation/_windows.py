"""Pure maintenance-window math: is a moment inside a window, and when does that window end.

No clock and no I/O: the moment is passed in (seconds since the epoch). A recurring window opens
at each match of its cron expression, read in its own time zone (so ``0 2 * * 6`` in
``Europe/Berlin`` follows that zone's daylight-saving changes), and lasts ``duration`` seconds of
real time; a window may run across midnight or into the next match. Called by the guard core
(:func:`vigil.remediation._policy.decide`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter

from vigil.settings import MaintenanceWindow

MAX_OPENINGS = 10_000
"""Openings looked at within one duration (a minutely cron with a week-long duration has that
many); past it the window counts as open until the last one looked at ends."""


def window_end(window: MaintenanceWindow, now: float) -> float | None:
    """When ``window`` ends if ``now`` is inside it (windows are half-open: [start, end)), else
    None."""
    if window.cron is None or window.duration is None:
        start, end = window.start_at(), window.end_at()
        return end if start <= now < end else None
    zone = ZoneInfo(window.timezone)
    # the openings that could still be open are those after now - duration; the latest of them
    # not after now decides the end (a window longer than its period is re-opened by the next
    # match: its end is asked again then)
    matches = croniter(window.cron, datetime.fromtimestamp(now - window.duration, zone))
    opened: float | None = None
    for _ in range(MAX_OPENINGS):
        try:
            nxt = matches.get_next(datetime).timestamp()
        except CroniterError:  # never due again (the settings refuse one never due at all)
            break
        if nxt > now:
            break
        opened = nxt
    return None if opened is None else opened + window.duration


def open_window(
    windows: Iterable[MaintenanceWindow], now: float
) -> tuple[MaintenanceWindow, float] | None:
    """The window ``now`` is inside (the one that ends last, when several overlap) and its end."""
    best: tuple[MaintenanceWindow, float] | None = None
    for window in windows:
        end = window_end(window, now)
        if end is not None and (best is None or end > best[1]):
            best = (window, end)
    return best


def describe_window(window: MaintenanceWindow) -> str:
    label = f"{window.name!r} " if window.name else ""
    if window.cron is not None:
        return (
            f"maintenance window {label}(cron {window.cron!r} {window.timezone}, "
            f"{window.duration:g}s)"
        )
    return f"maintenance window {label}({window.start} .. {window.end})"
