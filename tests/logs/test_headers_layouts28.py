"""Automatic header detection: addresses taken for times, and header layouts (branch headers28).

An IPv4 address with its port (``10.20.3.41:51234``) is digits, dots and a colon like a clock:
the header rules must not take it for a time and cut it from the message (NSQ's ``[addr:port]
IDENTIFY``, Exim's ``H=(helo) [addr]``). Each test holds lines that fail on main's code and near
misses that must keep their split."""

from __future__ import annotations

from vigil.logs import LogFormat
from vigil.logs._headerwords import TIME_TOKEN


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_an_ipv4_address_with_its_port_or_not_is_not_a_time() -> None:
    for token in ("10.0.0.5:8080", "10.0.0.5", "192.168.4.77:443:", "172.16.9.206:9000"):
        assert TIME_TOKEN.match(token) is None, token
    # near misses: clocks, dates and times with fractions stay times
    for token in ("10:00:01.5", "2026-12-01", "29/11/2026", "10:00:01", "1.2.3", "2026.12.01"):
        assert TIME_TOKEN.match(token) is not None, token


def test_a_bracketed_address_opening_a_message_is_kept() -> None:
    line = "[10.20.3.41:51234] IDENTIFY: {ClientID:trainer-7 Hostname:gpu-node-07}"
    assert content(line) == line
    line = "[10.20.3.44:40112] - E_FIN_FAILED FIN 0f3a9c2b1d4e5f60 failed ID not in flight"
    assert content(line) == line
    line = "H=(WIN-8QK2J1) [198.51.100.201] F=<info@lotto.example> rejected RCPT"
    assert content(line) == line
    # near miss: a bracketed clock opening a line is still the header
    assert content("[10:00:01.5] accepted connection") == "accepted connection"


def test_a_date_and_a_clock_joined_by_dashes_and_a_bracketed_level() -> None:
    line = "29/11/2026 -- 10:00:01 - <Info> - CPUs/cores online: 8"
    assert content(line) == "CPUs/cores online: 8"
    line = "29/11/2026 -- 11:12:41 - <Perf> - (W#01-ens1f0) Kernel: Packets 18432119, dropped 2"
    assert content(line) == "(W#01-ens1f0) Kernel: Packets 18432119, dropped 2"
    assert content("29/11/2026 -- 10:00:01 - started") == "started"
    # near miss: a bracket of words where the level stands is the message's
    line = "29/11/2026 -- 11:12:41 - [Stats] - capture.kernel_packets 12"
    assert content(line) == "[Stats] - capture.kernel_packets 12"


def test_a_logger_glued_to_its_level_by_colons_after_the_time() -> None:
    line = "10:00:01 - LiteLLM Router:INFO: router.py:614 - Routing strategy: simple-shuffle"
    assert content(line) == "Routing strategy: simple-shuffle"
    assert content("2026-12-01 10:00:01,118 - my_app:WARNING: slow request") == "slow request"
    # near miss: a word glued to a word that is no level opens the message
    line = "2026-12-01 10:00:01,118 - Note:important: keep this"
    assert content(line) == "Note:important: keep this"


def test_a_source_location_closed_by_a_dash_after_the_level_or_logger() -> None:
    line = (
        "INFO  2026-12-01 19:00:01,118 [shard 0:main] main - application.cc:371 - Redpanda"
        " v24.2.7 - 2e4c7a"
    )
    assert content(line) == "Redpanda v24.2.7 - 2e4c7a"
    line = "2026-12-01 10:00:01,118 INFO models.py:42 - saved row 12"
    assert content(line) == "saved row 12"
    # near misses: a location after a context bracket, or after a word, is the message's
    line = (
        "INFO  2026-12-01 19:00:03,204 [shard 2:raft] raft - [group_id:12] consensus.cc:1823"
        " - started raft"
    )
    assert content(line) == "[group_id:12] consensus.cc:1823 - started raft"
    assert content("2026-12-01 10:00:01,118 INFO copied main.c:12 - ok") == "copied main.c:12 - ok"
    assert content("2026-12-01 10:00:01,118 INFO main.c:12 is bad - ok") == "main.c:12 is bad - ok"
