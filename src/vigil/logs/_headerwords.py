"""Token patterns shared by the header modules: times, level words, fields, source locations.

Used by :mod:`vigil.logs._kinds` (each leading token's kind), :mod:`vigil.logs._afterlevel`
(what follows a level), :mod:`vigil.logs._program` (what follows a syslog program),
:mod:`vigil.logs._leading`, :mod:`vigil.logs._aftertime`, :mod:`vigil.logs._closing` and
:mod:`vigil.logs._detect`. Each pattern is used by two or more of them, so it lives here with a
public name rather than as one module's private name imported by the others. Plain data: no
functions, no state.
"""

from __future__ import annotations

import re

TIME_TOKEN = re.compile(
    r"^(?!\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?:?$)"
    r"(?:\d[\d:.,/\-+TZ]*|\d+[\d:.,/\-]*[A-Z]{0,3}|\d{4}-\d\d-\d\d_\d\d:\d\d[\d:.,+\-Z]*)$"
)
"""A time or date token; the date and the clock may be joined by ``_`` as by ``T``
(``2026-11-29_10:00:01.118+0000:``). An IPv4 address, with its port or not (``10.0.0.5:8080``),
is digits, dots and a colon like a clock but never a time."""
LEVEL_WORDS = frozenset(
    [
        "trace",
        "debug",
        "info",
        "information",
        "notice",
        "warn",
        "warning",
        "error",
        "err",
        "critical",
        "crit",
        "alert",
        "emerg",
        "emergency",
        "fatal",
        "severe",
        "failure",
        "fine",
        "finer",
        "finest",
        "verbose",
        # three-letter forms (zerolog's console "INF", Serilog's "[WRN]"), upper-case only
        "inf",
        "dbg",
        "wrn",
        "trc",
        "ftl",
        "vrb",
    ]
)
"""Severity words, compared lower-cased: a token that is one (bare, bracketed, or with its
colon) is a line's level."""
SHORT_LEVELS = frozenset("VDIWEF")
"""One-letter levels (logcat's ``V D I W E F``): a level only after the numbers of a time."""
ZONE_NAME = re.compile(r"^(?:UTC|GMT|Z|[A-Z][A-Z]?[SD]T):?$")
"""A time zone's name after the clock (``UTC``, ``CEST``), closed by the header's colon or not."""
ZONE_OFFSET = re.compile(r"^[+\-]\d\d:?\d\d$")
"""A numeric zone offset after the clock (``+0000``, ``-05:00``): part of the time, as a zone's
name is."""
COUNTED = re.compile(r"^\d+:$")
"""A number closed by a colon (``28: Client using the ascii protocol``, ``3: eth0: <UP>``): a
numbered item of the message (a descriptor, an interface index), not a time, which has digits
after its colon."""
FACILITY = re.compile(r"^%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*-\d-[A-Z0-9_]+:$")
"""A facility, severity and mnemonic tag (``%LINK-3-UPDOWN:``, ``%ASA-6-302013:``,
``%ETHPORT-5-IF_UP:``: the message tag of network operating systems): it carries the line's
severity, so it is the level and ends the header, after the time or after a syslog host."""
FIELD_TOKEN = re.compile(r"^[\w.$\-]+$")
"""A plain field word: word characters, dots, dashes, ``$`` (a logger, a thread, a CSV column)."""
ANGLE_PID = re.compile(r"^<\d+\.\d+\.\d+>(?:@\S+)?$")
"""An Erlang/Elixir process id after the level (``[info] <0.2009.0> msg``, lager's
``<0.5.0>@mod:fun:42``): the thread of the BEAM, a header field like a bracketed thread."""
SOURCE_FILE_LINE = r"[\w./\-]*[A-Za-z_][\w\-]*\.[A-Za-z]\w*:\d+"
"""A file with an extension and its line number, ``worker.py:1636``: the body of
:data:`SOURCE_LOCATION` and of :mod:`vigil.logs._bracketsource`'s bracketed location."""
SOURCE_LOCATION = re.compile(rf"^{SOURCE_FILE_LINE}:?$")
"""A source location with no bracket: ``worker.py:1636``, ``node_manager.cc:42:``."""
CODE_LOCATION = re.compile(
    r"^[\w./\-]*\w\.(?:go|c|cc|cpp|cxx|h|hpp|py|rs|java|kt|scala|js|ts|rb|php|cs|swift|lua|erl|ex):\d+:$"
)
"""A source file of a programming language with its line and a colon (``daemon.go:247:``): a
program's own location. A file of another kind (``config.yaml:12:``) is what the message is
about."""
