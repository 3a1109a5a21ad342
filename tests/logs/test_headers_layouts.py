"""Automatic header detection on the layouts added in the holdout7 round (one test per layout
class, each with a line of the layout and a near miss that must stay message)."""

from __future__ import annotations

import pytest

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # Python logging's default format: level, logger, message glued by colons
        ("WARNING:root:disk almost full", "disk almost full"),
        ("INFO:torch.distributed.run:log directory set to: /tmp/x", "log directory set to: /tmp/x"),
        # a level with a colon and a space after it is not that format
        ('ERROR:  relation "users" does not exist', 'relation "users" does not exist'),
    ],
)
def test_python_default_format_is_header_up_to_the_logger(line: str, message: str) -> None:
    assert content(line) == message


def test_a_bracket_with_level_time_and_source_location_is_the_whole_header() -> None:
    line = "[W1129 12:31:09.305132 socket.cpp:663] [c10d] The client socket has failed"
    assert content(line) == "[c10d] The client socket has failed"
    ranked = "[rank3]:[W1129 12:31:09.3 ProcessGroupNCCL.cpp:4115] [PG ID 0 Rank 3]  using GPU 3"
    assert content(ranked) == "[PG ID 0 Rank 3]  using GPU 3"


def test_a_logger_and_a_bracketed_level_after_a_bracketed_time_are_header() -> None:
    line = "[2026-11-29 10:00:01,123] torch.distributed.elastic.agent: [INFO] [default] Starting"
    assert content(line) == "[default] Starting"
    # with no bracketed level after it, a "word:" after a bracketed time stays the message's
    assert (
        content("[2026-11-29T10:00:01.5] backfill: Started JobId=7") == "backfill: Started JobId=7"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # capnslog: level letter, a bar, the package
        (
            "2026-11-29 10:52:43.612432 W | etcdserver: read-only range request",
            "read-only range request",
        ),
        (
            "2026-11-29 10:52:43.612432 I | raft: raft.node: 8e9e elected leader",
            "raft.node: 8e9e elected leader",
        ),
        # loguru: the level between bars, a module:function:line location and a dash
        (
            "2026-11-29 10:00:01.123 | INFO     | app.main:run:42 - Starting server",
            "Starting server",
        ),
    ],
)
def test_a_level_between_bars_and_the_package_after_it_are_header(line: str, message: str) -> None:
    assert content(line) == message


def test_a_logger_with_its_context_bracket_and_a_dash_is_header() -> None:
    line = (
        "2026-11-29 11:41:12,400 INFO  org.apache.flink.runtime.jobmaster.JobMaster"
        "                 [] - Job ClickStream (9162) switched from state CREATED to RUNNING."
    )
    assert content(line) == "Job ClickStream (9162) switched from state CREATED to RUNNING."
    # a logger and a request bracket with no dash: the bracket alone, as before
    line2 = "2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [-] [instance: ab-1] VM up"
    assert content(line2) == "[instance: ab-1] VM up"


def test_a_level_and_a_time_after_the_syslog_program_are_header() -> None:
    line = (
        "Nov 29 10:00:01 gpu-node-07 NetworkManager[1123]: <info>  [1764410401.1234] "
        "device (eth0): state change: activated -> deactivating"
    )
    assert content(line) == "device (eth0): state change: activated -> deactivating"
    assert content("Nov 29 10:00:01 h prog[1]: <warn> link down") == "link down"
    # a bracketed tag that is not a level stays the message's
    tagged = "Nov 9 12:15:05 cn142/cn142 kernel: [KERNEL_IB][ib_mad_dispatch] port 1: MAD error"
    assert content(tagged) == "[KERNEL_IB][ib_mad_dispatch] port 1: MAD error"


def test_key_pairs_and_a_record_stamp_before_the_fields_are_header() -> None:
    line = "type=USER_LOGIN msg=audit(1764416299.123:4567): pid=2345 uid=0 res=success"
    assert content(line) == "pid=2345 uid=0 res=success"
    # a msg= that is not a stamp is logfmt's message key, kept
    assert content("time=2026-11-29T10:00:01Z level=info msg=up n=1") == "msg=up n=1"


def test_an_exported_event_record_is_header_up_to_its_first_long_column() -> None:
    line = (
        "Information,11/29/2026 5:28:32 AM,Service Control Manager,7036,None,"
        "The Windows Update service entered the running state."
    )
    assert content(line) == "The Windows Update service entered the running state."
    quoted = 'Warning,11/29/2026 1:04:40 PM,DNS-Client,1014,(1014),"Name resolution, timed out"'
    assert content(quoted) == '"Name resolution, timed out"'
    # a level and no time in the second column: not an export
    assert content("Error,disk full,retrying in 5 s") == "Error,disk full,retrying in 5 s"


def test_a_two_character_code_in_parentheses_after_the_time_is_the_level() -> None:
    assert content('[    22.989] (II) LoadModule: "glx"') == 'LoadModule: "glx"'
    assert content("[    23.001] (--) PCI:*(0@0:2:0) Intel rev 4") == "PCI:*(0@0:2:0) Intel rev 4"
    # a word in parentheses is the message's
    assert content("[    23.001] (pam_unix) session opened") == "(pam_unix) session opened"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # Ruby's Logger: severity letter, time and pid, level, "--", program name and colon
        ('I, [2026-11-29T10:00:01.123456 #1234]  INFO -- : Started GET "/"', 'Started GET "/"'),
        ("E, [2026-11-29T10:00:01.123456 #1234] ERROR -- app: boom", "boom"),
        # MongoDB's legacy layout: level letter, padded component, context bracket
        (
            "2026-11-29T10:00:01.123+0000 I NETWORK  [listener] connection accepted from x",
            "connection accepted from x",
        ),
        # Apache 2.4: a module's level and the process bracket; the client stays the message's
        (
            "[Sun Nov 29 10:00:01.123456 2026] [core:error] [pid 1234:tid 5678] "
            "[client 10.0.0.1:5000] AH00126: Invalid URI in request",
            "[client 10.0.0.1:5000] AH00126: Invalid URI in request",
        ),
        # the half of a twelve-hour clock and a zone offset after the clock are the time's
        (
            "Nov 29, 2026 10:00:01 AM org.apache.catalina.startup.Catalina start",
            "org.apache.catalina.startup.Catalina start",
        ),
        (
            "2026-11-29 10:00:01.123 +00:00 [INF] Request finished in 12.3ms",
            "Request finished in 12.3ms",
        ),
        # three-letter upper-case levels (zerolog's console writer)
        ("2026-11-29T10:00:01Z INF server started port=8080", "server started port=8080"),
        # a lower-case level in a tab-separated column
        ("2026-11-29T10:00:01.123Z\tinfo\tserver/main.go:42\tstarted", "started"),
        # a bracketed level, the time and a dash
        ("[INFO] 2026-11-29 10:00:01 - Starting job 12", "Starting job 12"),
        # Monolog: a channel and an upper-case level after the bracketed time
        ("[2026-11-29 10:00:01] production.ERROR: Undefined variable", "Undefined variable"),
    ],
)
def test_default_layouts_of_common_logging_libraries(line: str, message: str) -> None:
    assert content(line) == message


def test_near_misses_of_those_layouts_stay_message() -> None:
    # a dash after an address (uvicorn) is the message's; a lower-case "info" word without a tab
    assert content('INFO:     10.0.3.21:51788 - "GET / HTTP/1.1" 200') == (
        '10.0.3.21:51788 - "GET / HTTP/1.1" 200'
    )
    assert content("2026-11-29 10:00:01 info about the disk") == "info about the disk"
    # a dotted name with a lower-case last part after a bracketed time is the message's
    assert content("[2026-11-29 10:00:01] app.cache: warmed") == "app.cache: warmed"
