"""Automatic header detection on the layouts added in the holdout10 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_a_unix_time_closed_by_a_colon_opening_the_line_is_header() -> None:
    assert content("1764410417: New connection from 10.20.3.41:51234 on port 1883.") == (
        "New connection from 10.20.3.41:51234 on port 1883."
    )
    assert content("1764410417.204: Client sensor-17 disconnected.") == (
        "Client sensor-17 disconnected."
    )
    # a short number with a colon is a numbered item of the message, not a time
    assert content("28: Client using the ascii protocol") == "28: Client using the ascii protocol"
    # a Unix time with no colon after it is not this layout
    assert content("1764410417 New connection from x") != "New connection from x"


def test_a_program_with_its_ids_in_brackets_after_the_time_is_header() -> None:
    # a bracketed Unix time, the program with its pid and thread, a level word with its colon
    assert content("[1764410401] unbound[812:0] info: start of service (unbound 1.17.1).") == (
        "start of service (unbound 1.17.1)."
    )
    assert content("[1764410522] unbound[812:1] error: SERVFAIL <a.example. A IN>: failed") == (
        "SERVFAIL <a.example. A IN>: failed"
    )
    # a word with a colon that is not a level stays the message's
    line = "[1764410401] unbound[812:0] reply: 192.168.1.25 www.example.org. A IN NOERROR"
    assert content(line) == "reply: 192.168.1.25 www.example.org. A IN NOERROR"


def test_a_compact_system_log_has_its_type_process_library_and_subsystem_as_header() -> None:
    line = "2026-11-29 09:58:12.104 Df kernel[0:1f4] (AppleSMC) Previous shutdown cause: 5"
    assert content(line) == "Previous shutdown cause: 5"
    line = (
        "2026-11-29 10:00:04.012 I  bluetoothd[98:4e1] [com.apple.bluetooth:Server.Core] "
        "Device connected: 4C:87:5D:12:9A:0F"
    )
    assert content(line) == "Device connected: 4C:87:5D:12:9A:0F"
    line = (
        "2026-11-29 10:02:14.118 E  sharingd[512:ab3] [com.apple.sharing:AirDrop] Browser "
        "failed to start: -72008"
    )
    assert content(line) == "Browser failed to start: -72008"
    # an indexed name in the message (no time before it) is the message's own value
    assert content("cn[1:4] drained by admin") == "cn[1:4] drained by admin"
    # a program with a plain pid and its colon is syslog's, read as before
    line = "Nov 29 10:00:01 host sshd[812]: Accepted publickey for bob"
    assert content(line) == "Accepted publickey for bob"


def test_a_key_value_field_with_digits_after_the_time_opens_the_message() -> None:
    line = "2026-11-29 10:11:29 H=(WIN-8QK2J1) [198.51.100.201] F=<a@b.example> rejected RCPT"
    assert content(line) == "H=(WIN-8QK2J1) [198.51.100.201] F=<a@b.example> rejected RCPT"
    # metadata before a level is header, as before (Elixir's "$time $metadata[$level]")
    line = "10:00:14.331 request_id=GBuz4nT6K1aXv0QAAAFh [info] GET /api/orders/4821"
    assert content(line) == "GET /api/orders/4821"


def test_an_arrow_after_a_bare_id_is_the_messages_and_after_bracketed_fields_the_headers() -> None:
    line = "2026-11-29 10:02:18 1tGx4M-000DkJ-3q => bob@lab.internal R=localuser T=local_delivery"
    assert content(line) == "1tGx4M-000DkJ-3q => bob@lab.internal R=localuser T=local_delivery"
    line = "Nov 29 10:46:11 770112 [58EF115D] 0x02 -> Routing engine minhop chosen"
    assert content(line) == "Routing engine minhop chosen"
