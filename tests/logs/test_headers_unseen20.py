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
