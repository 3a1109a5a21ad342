"""Header layouts found by the holdout26 round: log4j's ``%c{1}:%L -`` (a class's simple name
with its line) after the thread bracket, as Strimzi's operators print it (``%d %-5p [%t]
%c{1}:%L - %m%n``)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_class_with_its_line_after_the_thread_and_before_a_dash_is_header() -> None:
    line = (
        "2026-12-02 01:40:32 INFO  [vert.x-eventloop-thread-0] AbstractOperator:265 - "
        "Reconciliation #42(timer) Kafka(kafka/events): reconciled"
    )
    assert content(line) == "Reconciliation #42(timer) Kafka(kafka/events): reconciled"
    line = "2026-12-02 01:40:00 WARN  [main] Main:187 - Creating verticle for namespace kafka"
    assert content(line) == "Creating verticle for namespace kafka"


def test_a_capitalised_word_with_a_number_and_no_dash_after_the_thread_is_the_message() -> None:
    line = "2026-12-02 01:40:00 INFO  [main] Step:2 of 5 done"
    assert content(line) == "Step:2 of 5 done"
    # a lower-case word with a number before a dash is no class: the message's own
    line = "2026-12-02 01:40:00 INFO  [main] step:2 - done"
    assert content(line) == "step:2 - done"
