"""Header layouts of common logging libraries added in the holdout14 round, found by probing
default formats the fixture directories do not hold (one test per layout, each with a near
miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_bracket_holding_the_time_the_level_and_a_module_path_is_the_header() -> None:
    line = "[2026-11-29T10:00:01Z INFO  my_crate::server] listening on 0.0.0.0:8080"
    assert content(line) == "listening on 0.0.0.0:8080"
    line = "[2026-11-29T10:00:01.118Z WARN  hyper::proto::h1::io] parse error"
    assert content(line) == "parse error"
    # a module path in brackets with no time before it is the message's
    assert content("[my_crate::server] listening").startswith("[my_crate::server]")


def test_an_application_name_before_the_thread_of_a_spring_boot_line_is_header() -> None:
    line = (
        "2026-11-29T10:00:01.123Z  INFO 1 --- [myapp] [           main] "
        "o.s.b.w.e.tomcat.TomcatWebServer         : Tomcat initialized with port 8080 (http)"
    )
    assert content(line) == "Tomcat initialized with port 8080 (http)"
    line = "2026-11-29T10:00:01.123Z  INFO 4242 --- [  main] o.s.b.StartupInfoLogger  : Starting"
    assert content(line) == "Starting"


def test_a_level_with_its_colon_after_a_twelve_hour_clock_is_header() -> None:
    assert content("11/29/2026 10:00:01 AM INFO: service started") == "service started"
    # a phrase with a level word after a capitalised word stays the message's
    line = "[1764410401] SERVICE ALERT: web01;HTTP;CRITICAL;SOFT;1;timeout"
    assert content(line).startswith("SERVICE ALERT:")


def test_a_logcat_brief_priority_tag_and_pid_are_header() -> None:
    assert content("W/ActivityManager( 1234): Slow operation") == "Slow operation"
    assert content("I/chromium(12345): [INFO:CONSOLE(1)] ready") == "[INFO:CONSOLE(1)] ready"
    # a word with a slash and no pid in parentheses is the message's
    assert content("I/O error: disk full") == "I/O error: disk full"


def test_a_logger_between_the_levels_dash_and_its_own_is_header() -> None:
    line = "11/29/2026 10:00:01 - INFO - __main__ - Training/evaluation parameters"
    assert content(line) == "Training/evaluation parameters"
    # after a thread bracket and a dash, a word and a dash are the message's own
    line = (
        "2026-11-29 10:00:01,912 [myid:3] - INFO  [QuorumPeer:Follower@75] - FOLLOWING - "
        "LEADER ELECTION TOOK - 222 MS"
    )
    assert content(line) == "FOLLOWING - LEADER ELECTION TOOK - 222 MS"


def test_a_logger_with_its_line_after_the_thread_and_before_a_dash_is_header() -> None:
    assert content("2026-11-29 10:00:01.118 INFO  [main] c.x.App:42 - started") == "started"
    # a word with no line number after the thread is the message's
    line = "2026-11-29 10:00:01.118 INFO  [main] job - started"
    assert content(line) == "job - started"


def test_a_dash_after_a_java_class_after_the_thread_closes_the_header() -> None:
    line = "2026-11-29T10:00:01.118Z WARN [main] o.e.x.s.a.s.FileRolesStore - roles file missing"
    assert content(line) == "roles file missing"
    # with no dash (java.util.logging's class and method), the message follows the class
    line = "2026-11-29 10:00:01 INFO [main] org.apache.catalina.startup.HostConfig.deployWAR Go"
    assert content(line) == "Go"


def test_a_capitalised_tag_and_a_name_with_no_time_before_them_are_the_message() -> None:
    line = "START RequestId: 8f5c2a1e-3b47-4d0e-9a51-8c2f7e0d4b13 Version: $LATEST"
    assert content(line) == line
    line = "REPORT RequestId: 8f5c2a1e\tDuration: 12.34 ms\tBilled Duration: 13 ms"
    assert content(line) == line
    # after a time and a host, a program with its colon is still header
    assert content("Nov 29 10:00:01 gpu-node-07 CRON[4821]: (root) CMD (x)") == "(root) CMD (x)"


def test_a_class_name_with_its_line_and_a_dash_after_the_level_is_header() -> None:
    assert content("2026-11-29 10:00:01 [main] INFO  App:42 - started") == "started"
    # a capitalised word with a number and no dash after it is the message's
    assert content("2026-11-29 10:00:01 [main] INFO  Step:2 of 5 done") == "Step:2 of 5 done"


def test_a_trace_bracket_before_the_pid_of_a_spring_boot_line_is_header() -> None:
    line = (
        "2026-11-29 10:00:01.118 ERROR [app,8f2a6c0d,3b47] 4821 --- [nio-8080-exec-1] "
        "c.x.Controller : failed"
    )
    assert content(line) == "failed"


def test_a_level_letter_with_a_bang_after_the_time_is_header() -> None:
    assert content("2026-11-29T10:00:01Z I! Starting Telegraf 1.30.0") == "Starting Telegraf 1.30.0"
    line = "2026-11-29T10:00:01Z E! [outputs.influxdb] When writing to [http://influx:8086]: x"
    assert content(line) == "When writing to [http://influx:8086]: x"
    # a word with a bang is the message's
    assert content("2026-11-29T10:00:01Z Go! worker ready").startswith("Go!")
