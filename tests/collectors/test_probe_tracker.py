"""ProbeTracker: the pure threshold state machine behind every probe verdict."""

from __future__ import annotations

from vigil.collectors import ProbeOutcome, ProbeTracker
from vigil.settings import Probe, TcpProbe

OK = ProbeOutcome(True, 0.01, "HTTP 200")
FAIL = ProbeOutcome(False, 0.01, "HTTP 503")
HANG = ProbeOutcome(False, 1.0, "timed out after 1s", timed_out=True)


def tracker(failures: int = 3, successes: int = 1) -> ProbeTracker:
    probe = Probe(tcp=TcpProbe(), failure_threshold=failures, success_threshold=successes)
    return ProbeTracker(probe)


def test_the_verdict_is_unknown_until_a_threshold_is_reached() -> None:
    t = tracker(failures=3, successes=2)
    assert t.healthy is None
    assert t.record(OK) is None
    assert t.record(FAIL) is None
    assert t.healthy is None


def test_the_first_successes_make_a_probe_healthy_and_only_flips_are_reported() -> None:
    t = tracker(successes=2)
    assert [t.record(OK) for _ in range(4)] == [None, True, None, None]
    assert t.healthy is True


def test_consecutive_failures_make_a_probe_unhealthy_and_a_success_resets_the_count() -> None:
    t = tracker(failures=3)
    t.record(OK)
    assert [t.record(o) for o in (FAIL, FAIL, OK, FAIL, FAIL)] == [None] * 5
    assert t.record(FAIL) is False
    assert t.record(FAIL) is None
    assert t.record(OK) is True


def test_failures_from_the_start_make_a_probe_unhealthy() -> None:
    t = tracker(failures=2)
    assert [t.record(FAIL), t.record(FAIL)] == [None, False]


def test_a_streak_of_timeouts_is_a_hang_but_a_mixed_streak_is_not() -> None:
    t = tracker(failures=2)
    t.record(HANG)
    assert t.record(HANG) is False
    assert t.timed_out
    t = tracker(failures=2)
    t.record(FAIL)
    assert t.record(HANG) is False
    assert not t.timed_out


def test_a_reset_tracker_forgets_its_verdict() -> None:
    t = tracker(failures=1)
    t.record(FAIL)
    t.reset()
    assert (t.healthy, t.failures, t.successes) == (None, 0, 0)
    assert t.record(OK) is True
