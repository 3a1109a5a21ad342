"""Automatic header detection on the layouts added in the holdout13 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_time_a_level_and_a_logger_glued_by_colons_are_header() -> None:
    line = "2026-11-29 10:00:01,412:DEBUG:certbot._internal.main:certbot version: 2.9.0"
    assert content(line) == "certbot version: 2.9.0"
    line = "2026-11-29 10:00:05,660:INFO:app.hooks:Running deploy-hook command: reload"
    assert content(line) == "Running deploy-hook command: reload"
    # a word that is no level between the colons: the line keeps its words
    line = "2026-11-29 10:00:01,412:parsed:app.x:3 records"
    assert "parsed" in content(line)


def test_a_level_letter_before_a_bracketed_time_is_header() -> None:
    assert content("E [29/Nov/2026:10:02:44 +0000] [Job 4821] The printer is not responding.") == (
        "[Job 4821] The printer is not responding."
    )
    assert content("I [29/Nov/2026:10:00:01 +0000] Listening to localhost:631 on fd 6...") == (
        "Listening to localhost:631 on fd 6..."
    )
    # a letter that is no level, or a bracket with no clock, opens the message
    assert content("Q [29/Nov/2026:10:00:01 +0000] queue full").startswith("Q ")
    assert content("I [cluster] joined").startswith("I [cluster]")


def test_a_record_number_a_date_and_a_clock_opening_a_bar_separated_row_are_header() -> None:
    line = "   1 | 11/29/2026 | 10:00:01 | Event Logging Disabled #0x07 | Log area reset | Asserted"
    assert content(line) == "Event Logging Disabled #0x07 | Log area reset | Asserted"
    line = (
        "  1a | 11/29/2026 | 10:07:31 | Temperature #0x31 | Upper Critical going high | Deasserted"
    )
    assert content(line).startswith("Temperature #0x31 |")
    # a row with no date in its second column is the message's
    assert content("  12 | eth0 | up | 1500").strip() == "12 | eth0 | up | 1500"


def test_a_source_location_with_its_function_before_a_bracketed_level_is_header() -> None:
    line = "2026/11/29 10:00:01 cmd/web.go:242:runWeb() [I] Starting Gitea on PID: 1342"
    assert content(line) == "Starting Gitea on PID: 1342"
    line = "2026/11/29 10:00:20 ...eb/routing/logger.go:68:func1() [W] router: slow GET /x"
    assert content(line) == "router: slow GET /x"
    # with no bracketed level after it, the location is not taken for a header
    line = "2026/11/29 10:00:01 cmd/web.go:242:runWeb() panicked"
    assert content(line).startswith("cmd/web.go:242:runWeb()")


def test_a_thread_and_a_bracketed_component_closed_by_a_double_angle_are_header() -> None:
    line = "(1) Nov29 10:07:12 Worker4 [Messaging (RPC)] >> Communication error: refused"
    assert content(line) == "Communication error: refused"
    assert content("(2) Nov29 10:00:01 Main [App] >> Version: 7.4.2") == "Version: 7.4.2"
    # a word with no bracket before the angles is the message's
    assert content("(2) Nov29 10:00:01 Main >> Version: 7.4.2").startswith("Main >>")


def test_a_thread_with_its_pid_and_a_bracketed_function_location_after_the_level_are_header() -> (
    None
):
    line = "2026-11-29 10:00:01,118 INFO    MainThread:48213 [wandb_setup.py:_flush():76] SDK 0.16"
    assert content(line) == "SDK 0.16"
    line = (
        "2026-11-29 10:00:40,512 INFO    Thread-12 :48213 [wandb_run.py:_config():1343] config_cb"
    )
    assert content(line) == "config_cb"
    # a bracket holding no function location stays the message's
    line = "2026-11-29 10:00:01,118 INFO    MainThread:48213 [rank0] SDK 0.16"
    assert "[rank0]" in content(line)


def test_a_parenthesised_thread_a_context_bracket_and_a_java_class_after_the_level_are_header() -> (
    None
):
    line = (
        "2026-11-29 10:00:03.217 INFO  (coreLoadExecutor-13-thread-1) [c:products s:shard1"
        " x:products_shard1_replica_n1] o.a.s.c.SolrConfig Using Lucene MatchVersion: 9.8.0"
    )
    assert content(line) == "Using Lucene MatchVersion: 9.8.0"
    line = (
        "2026-11-29 10:00:01.533 INFO  (zkCallback-8-thread-1) [   ] o.a.s.c.c.ConnectionManager up"
    )
    assert content(line) == "up"
    line = "2026-11-29 10:00:14.662 INFO  (qtp17-23) [c:p x:p_n1] o.a.s.c.S.Request webapp=/solr"
    assert content(line) == "webapp=/solr"  # an inner class of an abbreviated class
    # a lower-case word after the bracket is no class name: the message keeps it
    line = "2026-11-29 10:00:01.533 INFO  (main) [   ] started zkClient"
    assert "started zkClient" in content(line)
