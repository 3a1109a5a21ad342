"""RestartBudget and should_restart: the pure restart guards, driven with explicit times."""

from __future__ import annotations

import pytest

from vigil.remediation import RestartBudget, should_restart
from vigil.settings import CrashLoop, RestartPolicy


def budget(**overrides: object) -> RestartBudget:
    fields: dict[str, object] = {
        "backoff_initial": 0.0,
        "backoff_base": 0.5,
        "backoff_max": 4.0,
        "backoff_reset": 60.0,
        "crash_loop": CrashLoop(max_restarts=3, window=60.0),
    }
    fields.update(overrides)
    return RestartBudget(RestartPolicy.model_validate(fields))


def delays(b: RestartBudget, count: int, *, start: float = 0.0) -> list[float]:
    """The delays before ``count`` consecutive restarts of a replica that dies at once."""
    out = []
    for i in range(count):
        out.append(b.next_delay())
        b.note_restart(start + i)
    return out


def test_backoff_starts_at_the_initial_delay_then_doubles_from_the_base_up_to_the_cap() -> None:
    b = budget(backoff_initial=0.0, backoff_base=0.5, backoff_max=4.0)
    assert delays(b, 7) == [0.0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert b.streak == 7


def test_a_non_zero_initial_delay_is_used_for_the_first_restart_only() -> None:
    b = budget(backoff_initial=2.0, backoff_base=1.0, backoff_max=30.0)
    assert delays(b, 4) == [2.0, 1.0, 2.0, 4.0]


def test_the_cap_applies_even_when_it_is_below_the_base() -> None:
    b = budget(backoff_base=10.0, backoff_max=3.0)
    assert delays(b, 3) == [0.0, 3.0, 3.0]


def test_a_run_as_long_as_backoff_reset_forgets_the_streak_and_the_restart_history() -> None:
    b = budget(backoff_reset=60.0)
    delays(b, 3, start=100.0)
    assert b.next_delay() == 2.0
    b.note_exit(started_at=103.0, now=163.0)  # up exactly backoff_reset seconds
    assert b.streak == 0
    assert b.next_delay() == 0.0
    assert b.recent_restarts(163.0) == 0
    assert not b.crash_looping(163.0)


def test_a_run_shorter_than_backoff_reset_keeps_the_streak() -> None:
    b = budget(backoff_reset=60.0)
    delays(b, 3, start=100.0)
    b.note_exit(started_at=103.0, now=162.9)
    assert b.streak == 3
    assert b.next_delay() == 2.0


def test_max_restarts_within_the_window_is_a_crash_loop() -> None:
    b = budget(crash_loop=CrashLoop(max_restarts=3, window=60.0))
    for t in (0.0, 10.0):
        b.note_restart(t)
    assert not b.crash_looping(20.0)
    b.note_restart(20.0)
    assert b.recent_restarts(30.0) == 3
    assert b.crash_looping(30.0)


def test_restarts_spread_wider_than_the_window_are_not_a_crash_loop() -> None:
    b = budget(crash_loop=CrashLoop(max_restarts=3, window=60.0))
    for t in (0.0, 40.0, 80.0, 120.0, 160.0):
        assert not b.crash_looping(t), f"at {t}"
        b.note_restart(t)
    assert b.recent_restarts(161.0) == 2
    assert not b.crash_looping(161.0)


def test_a_restart_exactly_window_seconds_ago_still_counts() -> None:
    b = budget(crash_loop=CrashLoop(max_restarts=2, window=60.0))
    b.note_restart(0.0)
    b.note_restart(30.0)
    assert b.crash_looping(60.0)
    assert not b.crash_looping(60.5)


def test_reset_forgets_the_streak_and_the_history() -> None:
    b = budget()
    delays(b, 3)
    assert b.crash_looping(3.0)
    b.reset()
    assert b.streak == 0
    assert b.next_delay() == 0.0
    assert not b.crash_looping(3.0)


@pytest.mark.parametrize(
    ("policy", "returncode", "expected"),
    [
        ("always", 0, True),
        ("always", 1, True),
        ("always", -9, True),
        ("always", None, True),
        ("on-failure", 0, False),
        ("on-failure", 1, True),
        ("on-failure", -15, True),
        ("on-failure", None, True),
        ("never", 0, False),
        ("never", 1, False),
        ("never", None, False),
    ],
)
def test_should_restart_follows_the_policy_and_an_unknown_exit_code_counts_as_a_failure(
    policy: str, returncode: int | None, expected: bool
) -> None:
    assert should_restart(policy, returncode) is expected


def test_the_backoff_stays_at_its_maximum_however_long_the_streak() -> None:
    # with the default policy, a replica that runs 20 s and crashes is never a crash loop (one
    # restart per 50 s); at its 1,025th restart (~14 h) the delay was an OverflowError that
    # ended the runner and, with it, the controller
    b = RestartBudget(RestartPolicy())
    now = 0.0
    for _ in range(1_200):
        b.note_exit(now, now + 20.0)
        now += 20.0
        assert not b.crash_looping(now)
        delay = b.next_delay()
        assert 0.0 <= delay <= 30.0
        b.note_restart(now)
        now += delay
    assert b.streak == 1_200
    assert b.next_delay() == 30.0
