"""Automatic header detection: addresses taken for times, and header layouts (branch headers28).

An IPv4 address with its port (``10.20.3.41:51234``) is digits, dots and a colon like a clock:
the header rules must not take it for a time and cut it from the message (NSQ's ``[addr:port]
IDENTIFY``, Exim's ``H=(helo) [addr]``). Each test holds lines that fail on main's code and near
misses that must keep their split."""

from __future__ import annotations

from vigil.logs import LogFormat
from vigil.logs._afterlevel import _TIME


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_an_ipv4_address_with_its_port_or_not_is_not_a_time() -> None:
    for token in ("10.0.0.5:8080", "10.0.0.5", "192.168.4.77:443:", "172.16.9.206:9000"):
        assert _TIME.match(token) is None, token
    # near misses: clocks, dates and times with fractions stay times
    for token in ("10:00:01.5", "2026-12-01", "29/11/2026", "10:00:01", "1.2.3", "2026.12.01"):
        assert _TIME.match(token) is not None, token


def test_a_bracketed_address_opening_a_message_is_kept() -> None:
    line = "[10.20.3.41:51234] IDENTIFY: {ClientID:trainer-7 Hostname:gpu-node-07}"
    assert content(line) == line
    line = "[10.20.3.44:40112] - E_FIN_FAILED FIN 0f3a9c2b1d4e5f60 failed ID not in flight"
    assert content(line) == line
    line = "H=(WIN-8QK2J1) [198.51.100.201] F=<info@lotto.example> rejected RCPT"
    assert content(line) == line
    # near miss: a bracketed clock opening a line is still the header
    assert content("[10:00:01.5] accepted connection") == "accepted connection"

