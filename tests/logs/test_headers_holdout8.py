"""Automatic header detection on the layouts added in the holdout8 round (one test per layout
class, each with a line of the layout and a near miss that must keep its own first words)."""

from __future__ import annotations

from vigil.logs import LogFormat


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_the_kernel_uptime_stamp_after_a_syslog_program_is_header() -> None:
    line = "Nov 29 10:02:11 fw01 kernel: [845120.334512] [UFW BLOCK] IN=eth0 OUT= SRC=10.0.0.1"
    assert content(line) == "[UFW BLOCK] IN=eth0 OUT= SRC=10.0.0.1"
    padded = "Nov 29 10:02:11 node3 kernel: [   41.882310] LNet: Added LNI 10.1.4.51@o2ib"
    assert content(padded) == "LNet: Added LNI 10.1.4.51@o2ib"
    # a bracket that is not a time after the program stays the message's
    tagged = "Nov 9 12:15:05 cn142 kernel: [KERNEL_IB][ib_mad_dispatch] port 1: MAD error"
    assert content(tagged) == "[KERNEL_IB][ib_mad_dispatch] port 1: MAD error"


def test_a_launchers_host_and_pid_bracket_opening_a_line_is_header() -> None:
    assert content("[gpu-node07:48213] *** Process received signal ***") == (
        "*** Process received signal ***"
    )
    assert content("[node12:9904] [ 0] /lib64/libpthread.so.0(+0x12cf0)[0x7fd0b6c1fcf0]") == (
        "[ 0] /lib64/libpthread.so.0(+0x12cf0)[0x7fd0b6c1fcf0]"
    )
    # glued brackets closed by a source location with its function
    line = (
        "[gpu-node03][[31522,1],6][btl_tcp_endpoint.c:626:mca_btl_tcp_endpoint_recv_connect_ack]"
        " received unexpected process identifier [[31522,1],9]"
    )
    assert content(line) == "received unexpected process identifier [[31522,1],9]"
    # a bracket with no number after its colon, or glued brackets with no location, stay
    assert content("[rank0]: Traceback (most recent call last):") == (
        "[rank0]: Traceback (most recent call last):"
    )
    assert content("[send][receive] via NET/IB/0") == "[send][receive] via NET/IB/0"


def test_a_sequence_number_time_zone_and_facility_tag_are_header() -> None:
    line = "001203: Nov 29 10:14:02.331 UTC: %LINK-3-UPDOWN: Interface Gi1/0/14, changed to down"
    assert content(line) == "Interface Gi1/0/14, changed to down"
    unsynced = "000412: *Nov 29 10:14:02.331: %SYS-5-CONFIG_I: Configured from console by admin"
    assert content(unsynced) == "Configured from console by admin"
    # after a syslog host the tag is the level as well (firewalls)
    relayed = "Nov 29 10:00:01 fw01 %ASA-6-302013: Built outbound TCP connection 4471 for x"
    assert content(relayed) == "Built outbound TCP connection 4471 for x"
    # a number with a colon and no date after it is a numbered item of the message
    assert content("28: Client using the ascii protocol") == "28: Client using the ascii protocol"


def test_a_class_in_angle_brackets_after_the_time_is_the_level_and_names_stay() -> None:
    assert content("2026-11-29 09:47:31.066 <RMT> spine2_v4: Received: Hold timer expired") == (
        "spine2_v4: Received: Hold timer expired"
    )
    # after an angle-bracketed level, a name with an underscore is the message's (as after a
    # square-bracketed one), not a logger
    assert content("2026-11-29 09:00:00.416 <INFO> static_gw: State changed to up") == (
        "static_gw: State changed to up"
    )
    # an angle bracket holding more than a word is not a class
    assert content("3: eth0: <BROADCAST,MULTICAST,UP> mtu 1500") == (
        "3: eth0: <BROADCAST,MULTICAST,UP> mtu 1500"
    )


def test_default_layouts_no_fixture_has() -> None:
    # PHP's error log: a day-month-year date and a zone name in the time bracket
    assert content("[29-Nov-2026 10:00:01 UTC] PHP Warning:  Undefined variable $x") == (
        "PHP Warning:  Undefined variable $x"
    )
    assert content("[29-Nov-2026 10:00:01] NOTICE: fpm is running, pid 1") == (
        "fpm is running, pid 1"
    )
    # a zone name alone in brackets is no time
    assert content("[UTC] something happened here") == "[UTC] something happened here"
    # Apache Sling / AEM: a level between stars, the thread and the logger
    assert content("29.11.2026 10:00:01.123 *INFO* [main] org.apache.x.Y Started bundle") == (
        "Started bundle"
    )
    # a starred number is not a level
    assert content("*5 open() failed here") == "*5 open() failed here"
    # Fluentd: a bracketed level closed by a colon after the time and its zone
    assert content("2026-11-29 10:00:01 +0000 [info]: #0 fluentd worker is now running") == (
        "#0 fluentd worker is now running"
    )
    assert content("[rank0]: Traceback (most recent call last):") == (
        "[rank0]: Traceback (most recent call last):"
    )
