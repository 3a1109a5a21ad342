"""Automatic header detection on the layouts added in the holdout9 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_source_location_with_its_colon_right_after_the_time_is_header() -> None:
    # Go's log package with Lshortfile (and Llongfile): "date time file.go:line: msg"
    assert content("2026/11/29 10:00:15 worker.go:203: job 8f3a assigned to node gpu-a07") == (
        "job 8f3a assigned to node gpu-a07"
    )
    # the message's own "word:" prefix after the location stays the message's
    assert content("2026/11/29 10:07:55 store.go:88: redis: pool timeout after 5s") == (
        "redis: pool timeout after 5s"
    )
    assert content("2026/11/29 10:07:55.123456 /src/app/cmd/main.go:58: starting on :9090") == (
        "starting on :9090"
    )
    # a location with no colon after it is not closed: only the time is header
    assert content("2026/11/29 10:07:55 main.go:58 starting") == "main.go:58 starting"


def test_the_log_severity_after_the_process_id_is_the_level() -> None:
    line = "2026-11-29 10:00:01.205 UTC [812] LOG listening on 0.0.0.0:6432"
    assert content(line) == "listening on 0.0.0.0:6432"
    # a client's id with its hexadecimal address after it is the message's, not a logger
    line = "2026-11-29 10:00:14.551 UTC [812] LOG C-0x55d3a8e1c2a0: appdb/app@10.0.4.21:51 login"
    assert content(line) == "C-0x55d3a8e1c2a0: appdb/app@10.0.4.21:51 login"
    # PostgreSQL's own "LOG:" is read as before, and a "LOG" opening a line with no time is prose
    line = "2026-11-29 10:00:01.123 UTC [18231] LOG:  checkpoint starting: time"
    assert content(line) == "checkpoint starting: time"
    assert content("LOG rotation finished in 3 ms") == "LOG rotation finished in 3 ms"


def test_a_system_log_exported_as_columns_has_them_all_as_header() -> None:
    line = (
        "2026-11-29 10:02:13.447122+0100 0x3f1a     Default     0xa21b               412    0    "
        "bluetoothd: (CoreBluetooth) [com.apple.bluetooth:Server] Connection to device 84:2F "
        "established"
    )
    assert content(line) == "Connection to device 84:2F established"
    # no library, no subsystem: the process is the last header field
    line = (
        "2026-11-29 10:00:04.517782+0100 0x2c41     Error       0x0                  0      0    "
        "kernel: [SAT] Roamed to BSSID 3c:28 channel 36"
    )
    assert content(line) == "Roamed to BSSID 3c:28 channel 36"
    line = (
        "2026-11-29 10:20:00.501276+0100 0x611c     Default     0x0                  98     0    "
        "powerd: Entering Sleep state"
    )
    assert content(line) == "Entering Sleep state"
    # without the hexadecimal activity column the line is not such an export
    line = "2026-11-29 10:20:00.501276+0100 0x611c Default 98 0 powerd: Entering Sleep state"
    assert content(line) != "Entering Sleep state"


def test_a_one_word_logger_column_of_a_tab_separated_line_is_header() -> None:
    line = '2026/11/29 10:00:01.109\tINFO\tadmin\tadmin endpoint started\t{"address": "x:1"}'
    assert content(line) == 'admin endpoint started\t{"address": "x:1"}'
    line = '2026/11/29 10:00:01.113\tINFO\thttp\tenabling HTTP/3 listener\t{"addr": ":443"}'
    assert content(line) == 'enabling HTTP/3 listener\t{"addr": ":443"}'
    # with no logger, a one-word message followed by the fields stays; so does a last column
    line = '2026-11-29T10:00:01Z\tINFO\tshutdown\t{"signal": "TERM"}'
    assert content(line) == 'shutdown\t{"signal": "TERM"}'
    assert content("2026/11/29 10:00:01.102\tINFO\tusing adjacent Caddyfile") == (
        "using adjacent Caddyfile"
    )


def test_logrus_terminal_levels_glued_to_their_bracket_are_header() -> None:
    assert content("WARN[0000] no config file found       path=/etc/x") == (
        "no config file found       path=/etc/x"
    )
    assert content("INFO[2026-11-29T10:00:01Z] Worker started pid=42") == "Worker started pid=42"
    # a word glued to a bracket that is not a cut level stays the message's
    assert content("WARNING[0000] too long a level") == "WARNING[0000] too long a level"
    assert content("INFO[x] ") == "INFO[x] "  # nothing after it: no header


def test_a_dash_after_a_bracketed_source_location_closes_the_header() -> None:
    line = "2026-11-29 10:00:01.123 INFO  [main] [Worker.java:42] - Worker started"
    assert content(line) == "Worker started"
    # with no dash, brackets after the location stay the message's (as before)
    line = "[2026-11-29 10:00:01,5] [INFO] [engine.py:96:save] [Rank 0] saving step 5"
    assert content(line) == "[Rank 0] saving step 5"
