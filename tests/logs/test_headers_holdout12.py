"""Automatic header detection on the layouts added in the holdout12 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_time_bracket_may_hold_a_slashed_day_month_year_date_or_a_numeric_zone() -> None:
    line = '[29/Nov/2026 10:00:07] "GET /api/items/?page=2 HTTP/1.1" 200 4821'
    assert content(line) == '"GET /api/items/?page=2 HTTP/1.1" 200 4821'
    line = "[2026-11-29 10:00:01.120663 +0000] W volume scrub started"
    assert content(line) == "volume scrub started"
    line = "[2026-11-29 10:00:01 -05:00] cache warmed in 12 ms"
    assert content(line) == "cache warmed in 12 ms"
    # a bracket with slashes but no clock, or an offset with no clock, is the message's
    assert content("[29/Nov/2026] report ready") == "[29/Nov/2026] report ready"
    assert content("[+0000] offset applied") == "[+0000] offset applied"


def test_a_logger_with_its_colon_after_a_bracketed_source_location_is_header() -> None:
    line = "[2026-11-29 10:00:01.1 +0000] I [MSGID: 106478] [glusterd.c:1474:init] 0-mgmt: Max set"
    assert content(line) == "Max set"
    line = "[2026-11-29 10:00:01.1 +0000] W [rpc.c:370:load] 0-rpc-transport/rdma: 'rdma' failed"
    assert content(line) == "'rdma' failed"
    # a capitalised word with a colon after the location opens the message
    line = "[INFO] [engine.py:96:save] Note: checkpoint written"
    assert content(line) == "Note: checkpoint written"


def test_a_source_location_closed_by_an_angle_after_the_level_is_header() -> None:
    line = "2026-11-29T10:00:01Z INF github.com/x/v3/pkg/watcher.go:73 > Starting provider"
    assert content(line) == "Starting provider"
    line = "2026-11-29T10:00:01Z ERR pkg/proxy.go:100 > 502 Bad Gateway error=refused"
    assert content(line) == "502 Bad Gateway error=refused"
    # an angle after a word that is no source location is the message's
    assert content("2026-11-29T10:00:01Z INF cache > disk spill") == "cache > disk spill"


def test_a_source_file_location_right_after_a_syslog_program_is_header() -> None:
    line = "Nov 29 10:00:01 ws12 snapd[912]: overlord.go:272: Acquiring state lock file"
    assert content(line) == "Acquiring state lock file"
    line = "Nov 29 10:05:11 ws12 agent[77]: pkg/store/helpers.go:769: cannot refresh: no updates"
    assert content(line) == "cannot refresh: no updates"
    # a file of another kind with its line is what the message is about
    line = "Nov 29 10:00:01 ws12 app[912]: config.yaml:12: unknown key"
    assert content(line) == "config.yaml:12: unknown key"


def test_a_level_glued_to_bracketed_fields_is_the_level_and_a_file_logger_follows() -> None:
    line = "[2026-11-29 10:02:03] VERBOSE[2250][C-0000001b] app_dial.c: Called PJSIP/1001"
    assert content(line) == "Called PJSIP/1001"
    line = "[2026-11-29 10:00:09] NOTICE[2211] res_pjsip/distributor.c: Request 'INVITE' failed"
    assert content(line) == "Request 'INVITE' failed"
    # a word that is no level glued to a bracket is not this layout
    line = "[2026-11-29 10:00:09] QUEUE[7] drained: 12 jobs"
    assert content(line) == "QUEUE[7] drained: 12 jobs"
    # opening a line with no time, a full level word glued to a bracket is not this layout
    assert content("WARNING[0000] too long a level") == "WARNING[0000] too long a level"


def test_a_level_and_a_function_with_its_line_closed_by_spaced_colons_are_header() -> None:
    line = "2026-11-29 10:02:44.718+0000: 2240: error : virNetSocketReadWire:1791 : End of file"
    assert content(line) == "End of file"
    line = "2026-11-29 10:00:01.204+0000: 2211: info : libvirt version: 9.0.0"
    assert content(line) == "libvirt version: 9.0.0"
    # a word that is no level before a spaced colon is the message's
    line = "2026-11-29 10:00:01.204+0000: 2211: result : ok"
    assert content(line) == "result : ok"
