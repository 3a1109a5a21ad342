"""Maintenance windows (vigil.remediation.window_end): cron windows in their own time zone,
across midnight and daylight-saving changes, single start/end windows, overlapping windows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from vigil.remediation import open_window, window_end
from vigil.settings import MaintenanceWindow

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(*parts: int, tz: ZoneInfo = UTC) -> float:
    return datetime(*parts, tzinfo=tz).timestamp()  # type: ignore[misc]


SATURDAY_2_TO_4 = MaintenanceWindow(cron="0 2 * * 6", duration=7200)  # 2026-11-28 is a Saturday


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (at(2026, 11, 28, 1, 59, 59), False),
        (at(2026, 11, 28, 2, 0, 0), True),  # opens exactly at the match
        (at(2026, 11, 28, 3, 59, 59), True),
        (at(2026, 11, 28, 4, 0, 0), False),  # half-open: closed at its end
        (at(2026, 11, 29, 2, 30), False),  # Sunday
        (at(2026, 12, 5, 2, 30), True),  # the next Saturday
    ],
)
def test_a_weekly_window_is_open_from_its_cron_match_for_its_duration(
    moment: float, inside: bool
) -> None:
    end = window_end(SATURDAY_2_TO_4, moment)
    assert (end is not None) == inside
    if end is not None:
        assert end == at(2026, 11, 28, 4) or end == at(2026, 12, 5, 4)


def test_a_window_runs_across_midnight_into_the_next_day() -> None:
    late = MaintenanceWindow(cron="0 23 * * 6", duration=3 * 3600)  # Sat 23:00 - Sun 02:00
    assert window_end(late, at(2026, 11, 29, 1, 30)) == at(2026, 11, 29, 2)  # Sunday 01:30
    assert window_end(late, at(2026, 11, 28, 23, 0)) == at(2026, 11, 29, 2)
    assert window_end(late, at(2026, 11, 29, 2, 0)) is None
    assert window_end(late, at(2026, 11, 28, 22, 59)) is None


def test_the_cron_expression_is_read_in_the_window_s_time_zone() -> None:
    berlin = MaintenanceWindow(cron="0 2 * * 6", duration=7200, timezone="Europe/Berlin")
    # 02:00 in Berlin (UTC+1 in November) is 01:00 UTC
    assert window_end(berlin, at(2026, 11, 28, 1, 30)) == at(2026, 11, 28, 3)
    assert window_end(berlin, at(2026, 11, 28, 3, 30)) is None  # 04:30 in Berlin
    assert window_end(SATURDAY_2_TO_4, at(2026, 11, 28, 1, 30)) is None  # the UTC one: not yet
    ny = MaintenanceWindow(cron="0 22 * * 5", duration=3600, timezone="America/New_York")
    # Friday 22:00 in New York is Saturday 03:00 UTC
    assert window_end(ny, at(2026, 11, 28, 3, 15)) == at(2026, 11, 28, 4)


def test_a_window_follows_its_zone_across_a_daylight_saving_change() -> None:
    daily = MaintenanceWindow(cron="0 12 * * *", duration=600, timezone="Europe/Berlin")
    # Berlin noon is 11:00 UTC in winter and 10:00 UTC in summer (DST began 2026-03-29)
    assert window_end(daily, at(2026, 3, 28, 11, 5)) == at(2026, 3, 28, 11, 10)
    assert window_end(daily, at(2026, 3, 30, 10, 5)) == at(2026, 3, 30, 10, 10)
    assert window_end(daily, at(2026, 3, 30, 11, 5)) is None


def test_a_window_longer_than_its_period_ends_after_the_latest_opening() -> None:
    hourly = MaintenanceWindow(cron="0 * * * *", duration=2 * 3600)
    # at 10:30 the openings at 09:00 and 10:00 are both open: the later one ends at 12:00
    assert window_end(hourly, at(2026, 11, 28, 10, 30)) == at(2026, 11, 28, 12)


def test_a_single_window_is_open_between_its_start_and_end() -> None:
    xmas = MaintenanceWindow(
        name="freeze",
        start=datetime(2026, 12, 24, tzinfo=UTC),
        end=datetime(2026, 12, 27, tzinfo=UTC),
    )
    assert window_end(xmas, at(2026, 12, 23, 23, 59)) is None
    assert window_end(xmas, at(2026, 12, 24)) == at(2026, 12, 27)
    assert window_end(xmas, at(2026, 12, 27)) is None


def test_a_single_window_without_an_offset_is_read_in_its_time_zone() -> None:
    local = MaintenanceWindow(
        start=datetime(2026, 12, 24, 8), end=datetime(2026, 12, 24, 9), timezone="Europe/Berlin"
    )
    assert window_end(local, at(2026, 12, 24, 7, 30)) == at(2026, 12, 24, 9, tz=BERLIN)
    assert window_end(local, at(2026, 12, 24, 8, 30)) is None  # 09:30 in Berlin


def test_of_overlapping_windows_the_one_that_ends_last_is_reported() -> None:
    short = MaintenanceWindow(name="short", cron="0 2 * * 6", duration=600)
    long = MaintenanceWindow(name="long", cron="0 1 * * 6", duration=4 * 3600)
    found = open_window([short, long], at(2026, 11, 28, 2, 5))
    assert found is not None
    window, end = found
    assert (window.name, end) == ("long", at(2026, 11, 28, 5))
    assert open_window([short, long], at(2026, 11, 28, 6)) is None
    assert open_window([], at(2026, 11, 28, 2, 5)) is None


def test_a_window_whose_cron_is_never_due_is_never_open() -> None:
    # the settings refuse it; a window built around them must still not raise mid-decision
    never = MaintenanceWindow.model_construct(
        name="", cron="0 0 30 2 *", duration=3600.0, timezone="UTC", start=None, end=None
    )
    assert window_end(never, at(2026, 11, 28, 2)) is None


def _scan_end(window: MaintenanceWindow, now: float) -> float | None:
    """The reference: every opening after ``now - duration`` followed one by one, uncapped (the
    plain scan window_end did before it bisected)."""
    assert window.cron is not None and window.duration is not None
    matches = croniter(
        window.cron, datetime.fromtimestamp(now - window.duration, ZoneInfo(window.timezone))
    )
    opened = None
    while (nxt := matches.get_next(datetime).timestamp()) <= now:
        opened = nxt
    return None if opened is None else opened + window.duration


class _CountingCroniter(croniter):  # type: ignore[misc]
    calls = 0

    def get_next(self, *args: object, **kwargs: object) -> object:
        type(self).calls += 1
        return super().get_next(*args, **kwargs)


def test_a_minutely_window_lasting_a_week_ends_a_week_after_its_latest_opening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 10,080 openings within the duration: the scan stopped at 10,000 and ended 80 minutes early,
    # after 788 ms on the event loop; the bisection asks croniter about twenty times
    monkeypatch.setattr("vigil.remediation._windows.croniter", _CountingCroniter)
    week = MaintenanceWindow(cron="* * * * *", duration=7 * 86400, timezone="Europe/Berlin")
    now = at(2026, 11, 28, 10, 30, 15)
    assert window_end(week, now) == at(2026, 11, 28, 10, 30) + 7 * 86400
    assert _CountingCroniter.calls <= 40


@pytest.mark.parametrize(
    ("cron", "tz", "day"),
    [
        ("*/5 * * * *", BERLIN, (2026, 10, 25)),  # autumn: 02:00-03:00 happens twice
        ("30 2 * * *", BERLIN, (2026, 10, 25)),
        ("* 2 * * *", BERLIN, (2026, 10, 25)),
        ("*/7 * * * *", NEW_YORK, (2026, 11, 1)),
        ("*/5 * * * *", BERLIN, (2026, 3, 29)),  # spring: 02:00-03:00 never happens
        ("15,45 1-3 * * *", NEW_YORK, (2026, 3, 8)),
    ],
)
@pytest.mark.parametrize("duration", [600, 3600, 7500])
def test_a_window_with_many_openings_agrees_with_the_plain_scan_across_a_clock_change(
    cron: str, tz: ZoneInfo, day: tuple[int, int, int], duration: int
) -> None:
    window = MaintenanceWindow(cron=cron, duration=duration, timezone=str(tz))
    start = at(*day) - 4 * 3600
    for step in range(0, 12 * 3600, 780):  # every 13 minutes, 17 s past, across the change
        now = start + step + 17
        assert window_end(window, now) == _scan_end(window, now), datetime.fromtimestamp(now, tz)
