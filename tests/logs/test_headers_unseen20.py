"""Automatic header detection: holdout20's layouts (branch unseen20). Each rule has lines of its
layout and near misses that keep their header as before."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_source_location_in_parentheses_after_the_time_is_header() -> None:
    # lighttpd's error log: "<date> <time>: (file.c.line) msg"
    line = (
        "2026-11-29 10:02:17: (gw_backend.c.236) establishing connection failed: Connection refused"
    )
    assert content(line) == "establishing connection failed: Connection refused"
    line = "2026-11-29 10:12:01: (server.c.1966) server stopped by UID = 0 PID = 1"
    assert content(line) == "server stopped by UID = 0 PID = 1"
    # a "word:" after the location is the message's own, no longer a program or a host
    line = "2026-11-29 10:06:40: (mod_openssl.c.3467) SSL: 1 error:0A000418:SSL routines::x"
    assert content(line) == "SSL: 1 error:0A000418:SSL routines::x"
    line = "2026-11-29 10:04:02: (gw_backend.c.1021) child exited: 255 unix:/run/php.socket-2"
    assert content(line) == "child exited: 255 unix:/run/php.socket-2"
    # a level right after the location is header too
    line = "2026-11-29 10:00:01: (server.c.1513) WARNING: unknown config-key: x.y (ignored)"
    assert content(line) == "unknown config-key: x.y (ignored)"
    line = "2026-11-29 10:12:00: (server.c.2009) [note] graceful shutdown started"
    assert content(line) == "graceful shutdown started"


def test_parentheses_after_the_time_that_hold_no_source_stay_the_messages() -> None:
    line = "2026-11-29 10:02:17 (pid 4821) worker started"
    assert content(line) == "(pid 4821) worker started"
    line = "2026-11-29 10:02:17 (config.yaml) reloaded"
    assert content(line) == "(config.yaml) reloaded"


def test_a_bracket_a_module_and_a_dash_after_the_time_are_header() -> None:
    # ScyllaDB's stdout: the level first, then the time, "[shard N:group] module - msg"
    line = "INFO  2026-11-29 10:00:04,902 [shard 0:main] storage_service - entering STARTING mode"
    assert content(line) == "entering STARTING mode"
    line = "WARN  2026-11-29 10:06:03,550 [shard 1:comp] large_data - Writing large partition ks/t"
    assert content(line) == "Writing large partition ks/t"
    # the same with no level (log4j's "%d [%t] %c - %m")
    assert content("2026-11-29 10:00:01,118 [main] init - starting server") == "starting server"


def test_a_bracket_after_the_time_without_a_module_and_dash_stays_the_messages() -> None:
    # a capitalised word is the message's, and a name with no dash after it too
    line = "2026-11-29 10:00:01,118 [main] Starting server - port 8080"
    assert content(line) == "[main] Starting server - port 8080"
    line = "2026-11-29 10:00:01,118 [main] init done - ok"
    assert content(line) == "[main] init done - ok"


def test_a_source_and_a_level_each_closed_by_a_tab_are_header() -> None:
    # Prosody: "Mon DD <time> source<TAB>level<TAB>msg", the source a module or a session
    line = "Nov 29 10:00:01 portmanager\tinfo\tActivated service 'c2s' on [::]:5222, [*]:5222"
    assert content(line) == "Activated service 'c2s' on [::]:5222, [*]:5222"
    line = "Nov 29 10:11:20 upload.chat.example.org:tls\terror\tError creating context for s2s"
    assert content(line) == "Error creating context for s2s"
    line = "Nov 29 10:02:17 c2s5601b3a2c4e0\tinfo\tClient connected"
    assert content(line) == "Client connected"


def test_a_tabbed_word_that_is_no_level_keeps_the_old_cut() -> None:
    line = "Nov 29 10:00:01 general\tstartup\tHello and welcome"
    assert content(line) == "general\tstartup\tHello and welcome"
    # the zap console's level right after the time is read as before
    line = '2026-11-29T10:00:01.118Z\tINFO\tcontroller/job.go:42\tsynced\t{"n": 3}'
    assert content(line) == 'synced\t{"n": 3}'


def test_names_joined_by_bars_in_a_bracket_after_the_level_open_the_message() -> None:
    # Kafka Connect (holdout9): the connector context "[name|task-N]" is the message's, as the
    # fixtures' README has it; it was taken for a log4j thread
    line = (
        "[2026-11-29 10:06:10,461] INFO [mysql-users-source|task-0|offsets] "
        "WorkerSourceTask{id=mysql-users-source-0} Committing offsets for 12 acknowledged messages"
    )
    assert content(line) == (
        "[mysql-users-source|task-0|offsets] WorkerSourceTask{id=mysql-users-source-0} "
        "Committing offsets for 12 acknowledged messages"
    )


def test_a_thread_bracket_after_the_level_stays_header() -> None:
    line = "2026-11-29 10:06:10,461 INFO [pool-2-thread-1] org.x.Worker - task done"
    assert content(line) == "task done"
    line = "[2026-11-29 10:06:10,461] INFO [Worker clientId=connect-1, groupId=c] Rebalance started"
    assert content(line) == "[Worker clientId=connect-1, groupId=c] Rebalance started"
