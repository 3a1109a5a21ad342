"""Automatic header detection on the layouts added in the holdout11 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_bar_separated_record_opening_with_a_date_and_a_clock_is_header_to_its_level() -> None:
    line = "11/29/2026 10:07:42|worker|gridhead|I|job 4521.1 finished on host node017"
    assert content(line) == "job 4521.1 finished on host node017"
    # a field padded to its column is a field
    assert content("11/29/2026 10:00:01|  main|gridhead|I|starting up") == "starting up"
    # a bar inside the message after a plain time is not this layout
    assert content("2026-11-29 10:00:01 INFO a|b done") == "a|b done"


def test_a_tag_closed_by_a_bar_after_the_time_ends_the_header() -> None:
    assert content("2026/11/29 10:00:01 kid1| Process ID 48213") == "Process ID 48213"
    assert content("2026/11/29 10:00:01 kid1|   Finished.  Wrote 0 entries.") == (
        "Finished.  Wrote 0 entries."
    )
    # a bar later in the message stays the message's
    assert content("2026/11/29 10:00:01 loaded a | b") == "loaded a | b"


def test_a_thread_in_parentheses_and_a_bracketed_logger_after_the_level_are_header() -> None:
    line = "2026-11-29 10:00:01.118 INFO (MainThread) [homeassistant.core] Starting up"
    assert content(line) == "Starting up"
    line = "2026-11-29 10:00:01.233 WARNING (SyncWorker_3) [pkg.loader] We found x"
    assert content(line) == "We found x"
    # a parenthesised word with no bracket after it is the message's
    assert content("2026-11-29 10:00:01 INFO (cached) result ready") == "(cached) result ready"


def test_a_dash_after_a_bare_time_is_header_and_a_shouted_tag_after_it_the_message() -> None:
    assert content("Sun Nov 29 10:14:02 2026 - SIGPIPE: writing to a closed pipe") == (
        "SIGPIPE: writing to a closed pipe"
    )
    assert content("Sun Nov 29 10:14:02 2026 - uwsgi_do(): Broken pipe") == (
        "uwsgi_do(): Broken pipe"
    )
    # a lower-case program after the dash is still a logger (Python's "%(asctime)s - name:")
    assert content("2026-11-29 10:00:01,140 - subp.py[DEBUG]: Running command") == (
        "Running command"
    )


def test_a_one_word_class_with_its_colon_after_a_bare_level_is_the_logger() -> None:
    line = "26/11/29 10:00:02 INFO Utils: Successfully started service 'sparkUI' on port 4040."
    assert content(line) == "Successfully started service 'sparkUI' on port 4040."
    # with no time before the level it is not this layout
    assert content("INFO Utils: ready") != "ready"


def test_an_ipv4_address_is_never_a_time() -> None:
    line = "[pid: 1214|app: 0|req: 1/1] 10.0.0.8 () {38 vars in 612 bytes} GET /healthz"
    assert content(line) == line
