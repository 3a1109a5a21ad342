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

CHAINED = 4
"""Openings followed one by one before :func:`window_end` bisects instead: enough for any window
shorter than its cron's period (one opening, then the next one past ``now``)."""

RESOLUTION = 0.5
"""Seconds the bisection narrows to: cron fires on whole seconds at the finest, so two openings
are at least a second apart and a start less than that below one finds it next."""


def window_end(window: MaintenanceWindow, now: float) -> float | None:
    """When ``window`` ends if ``now`` is inside it (windows are half-open: [start, end)), else
    None.

    The end is that of the latest opening not after ``now``, if it opened less than
    ``duration`` ago (a window longer than its period is re-opened by the next match: its end is
    asked again then). Bounded: a few openings are followed from ``now - duration``; when more
    are due before ``now`` (a minutely cron with a week-long duration has 10,080), the latest is
    found by bisecting the moment to start from, about ``log2(duration)`` cron look-ups (20 for
    a week) instead of one per opening. Each look-up asks croniter for the first match after a
    moment (``get_next``), as the plain scan did: ``get_prev`` disagrees with it around the
    autumn clock change.
    """
    if window.cron is None or window.duration is None:
        start, end = window.start_at(), window.end_at()
        return end if start <= now < end else None
    zone = ZoneInfo(window.timezone)
    low = now - window.duration
    matches = croniter(window.cron, datetime.fromtimestamp(low, zone))
    opened: float | None = None
    for _ in range(CHAINED):
        nxt = _next(matches)
        if nxt is None or nxt > now:
            return None if opened is None else opened + window.duration
        opened = nxt
    # more openings than that before now: the latest one is the first after the latest start
    # whose first match is not after now (the first match after t is nondecreasing in t)
    assert opened is not None
    low, high = opened, now
    while high - low > RESOLUTION:
        mid = (low + high) / 2.0
        nxt = _next(croniter(window.cron, datetime.fromtimestamp(mid, zone)))
        if nxt is not None and nxt <= now:
            low, opened = mid, max(opened, nxt)
        else:
            high = mid
    nxt = _next(croniter(window.cron, datetime.fromtimestamp(low, zone)))
    if nxt is not None and nxt <= now:  # the latest opening is in (low, low + RESOLUTION]
        opened = max(opened, nxt)
    return opened + window.duration


def _next(matches: croniter) -> float | None:
    """The next match as a timestamp; None if never due again (the settings refuse a cron never
    due at all, but a window built around them must not raise mid-decision)."""
    try:
        return float(matches.get_next(datetime).timestamp())
    except CroniterError:
        return None


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
