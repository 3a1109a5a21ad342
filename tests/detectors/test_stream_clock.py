"""StreamClock: a row's time moves the stream's clock forward, never back, and not by a typo."""

from __future__ import annotations

from vigil.detectors import FAR_FACTOR, Kind, StreamClock


def steady(clock: StreamClock, start: float, rows: int, step: float = 60.0) -> float:
    t = start
    for _ in range(rows):
        t += step
        assert clock.place(t).kind is Kind.IN_ORDER
    return t


def test_rows_in_order_move_the_clock_and_learn_the_usual_step() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    assert clock.clock == t
    assert clock.step == 60.0


def test_a_far_ahead_row_is_held_at_the_clock_and_the_next_in_order_row_goes_on() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    typo = clock.place(t + 80 * 365 * 86400.0)
    assert typo.kind is Kind.FAR
    assert typo.at == t and typo.jump == 80 * 365 * 86400.0 and typo.step == 60.0
    assert clock.clock == t and clock.step == 60.0
    after = clock.place(t + 60.0)
    assert (after.kind, after.at) == (Kind.IN_ORDER, t + 60.0)


def test_a_far_jump_the_next_row_follows_on_from_is_taken_as_real() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    back = t + 30 * 86400.0
    assert clock.place(back).kind is Kind.FAR
    resumed = clock.place(back + 60.0)
    assert (resumed.kind, resumed.at) == (Kind.GAP, back + 60.0)
    assert resumed.jump == back + 60.0 - t
    assert clock.place(back + 120.0).kind is Kind.IN_ORDER


def test_two_typos_far_apart_are_both_held() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    assert clock.place(t + 1e9).kind is Kind.FAR
    assert clock.place(t + 2e9).kind is Kind.FAR  # does not follow on from the first
    assert clock.clock == t


def test_a_gap_below_the_far_factor_is_taken_and_reported_as_a_gap() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    gap = clock.place(t + 0.5 * FAR_FACTOR * 60.0)
    assert gap.kind is Kind.GAP and clock.clock == gap.at


def test_earlier_and_equal_times_keep_the_clock() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 5)
    assert clock.place(t - 600.0) == clock.place(t - 1.0)
    before = clock.place(t - 600.0)
    assert (before.kind, before.at) == (Kind.BEFORE, t)
    assert clock.place(t).kind is Kind.DUPLICATE
    assert clock.clock == t


def test_the_second_row_sets_the_step_so_no_jump_is_far_before_it() -> None:
    clock = StreamClock()
    clock.place(0.0)
    second = clock.place(1e9)
    assert second.kind is Kind.IN_ORDER and clock.step == 1e9


def test_a_typo_row_repeated_is_held_twice_and_does_not_stall_the_clock() -> None:
    # a file with two rows per time (scored as duplicates) repeats a mistyped time too: the
    # copy, at no step after the held row, was taken as the stream following on from it, the
    # clock moved 80 years ahead and every later row was "before the clock"
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    typo = t + 80 * 365 * 86400.0
    assert clock.place(typo).kind is Kind.FAR
    again = clock.place(typo)
    assert (again.kind, again.at) == (Kind.FAR, t)
    assert clock.clock == t
    after = clock.place(t + 60.0)
    assert (after.kind, after.at) == (Kind.IN_ORDER, t + 60.0)


def test_a_real_jump_in_a_file_of_repeated_times_is_taken_at_its_next_time() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 50)
    back = t + 30 * 86400.0
    assert clock.place(back).kind is Kind.FAR
    assert clock.place(back).kind is Kind.FAR  # its copy confirms nothing
    resumed = clock.place(back + 60.0)
    assert (resumed.kind, resumed.at) == (Kind.GAP, back + 60.0)


def test_a_typo_in_the_first_row_restarts_the_clock_once_two_rows_follow_on_behind_it() -> None:
    # the first row sets the clock with no usual step to judge it by: dated 80 years ahead,
    # every later row was "before the clock" and fed at the typo's time for the whole file
    clock = StreamClock()
    typo = 80 * 365 * 86400.0
    assert clock.place(typo).kind is Kind.IN_ORDER
    assert clock.place(60.0).kind is Kind.BEFORE  # one row behind: which of the two is wrong?
    restart = clock.place(120.0)
    assert (restart.kind, restart.at, restart.jump) == (Kind.RESTART, 120.0, typo - 120.0)
    assert (clock.clock, clock.step) == (120.0, 60.0)
    assert steady(clock, 120.0, 20) == 120.0 + 20 * 60.0


def test_a_typo_in_the_second_row_restarts_the_clock_too() -> None:
    clock = StreamClock()
    clock.place(0.0)
    assert clock.place(80 * 365 * 86400.0).kind is Kind.IN_ORDER  # no step yet: taken
    assert clock.place(120.0).kind is Kind.BEFORE
    assert clock.place(180.0).kind is Kind.RESTART
    assert clock.clock == 180.0


def test_rows_behind_a_clock_set_by_many_rows_never_restart_it() -> None:
    clock = StreamClock()
    t = steady(clock, 0.0, 3)
    assert clock.place(10.0).kind is Kind.BEFORE
    assert clock.place(20.0).kind is Kind.BEFORE  # an old block inserted: the clock holds
    assert clock.clock == t


def test_rows_in_descending_order_never_restart_the_clock() -> None:
    clock = StreamClock()
    clock.place(1000.0)
    kinds = {clock.place(1000.0 - 60.0 * i).kind for i in range(1, 10)}
    assert kinds == {Kind.BEFORE} and clock.clock == 1000.0
