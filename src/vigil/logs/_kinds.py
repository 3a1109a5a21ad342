"""The kind of one header token: a time, a level, a number, a program, a bracketed field...

Called by :mod:`vigil.logs._leading` for each leading token of a raw line
(:func:`token_kind`), and for the bracketed times and levels it meets (:func:`_bracketed_time`,
:func:`_bracketed_time_level`). Holds the vocabularies of header tokens (month and day names,
program tags; the level words, facility tags and zone names the other header modules use too
are in :mod:`vigil.logs._headerwords`). Pure: no state, no I/O. Like every header
rule it asks only whether a character is a digit, never which one (the raw-line cache of
:mod:`vigil.logs._parser` relies on it).
"""

from __future__ import annotations

import re

from vigil.logs._headerwords import (
    COUNTED,
    FACILITY,
    FIELD_TOKEN,
    LEVEL_WORDS,
    SHORT_LEVELS,
    TIME_TOKEN,
    ZONE_NAME,
    ZONE_OFFSET,
)

_LETTERS = frozenset("VDINWECAXTF")
"""Level letters in brackets after a time (``[I]``, ``[N]`` notice, ``[X]`` critical): one
upper-case letter alone in brackets there is a severity code, as a bare ``I`` after numbers is."""
_BRACKET_LEVELS = frozenset(["note", "system"])
"""Levels only when bracketed (MySQL's ``[Note]``, ``[System]``): as bare words they are prose."""
_KLOG = re.compile(r"^[IWEF]\d{4}$")
"""glog/klog's level letter and month-day, ``I1129``: the first token of Go and C++ services."""

_NAMES = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
)
_PROGRAM = re.compile(r"^[\w.\-/@$()\[\]]*\w[\])]?:$")

_CAPS = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
_BRACKETED_EPOCH = re.compile(r"^\[\d{10}\]$")
"""A Unix time in seconds in brackets (``[1764416299]``): ten digits, whatever they are (a rule
that asked which digit opens it would split two lines of one shape differently)."""
_DIGIT = re.compile(r"\d")
_SOURCE_FILE = re.compile(r"^[\w./\-]*\w\.\w+:\d+$")
_RUST_PATH = re.compile(r"^[A-Za-z_]\w*(?:::\w+)+$")
_COUNTER = re.compile(r"^\d+/\d+$")
"""A count of a total, ``1251/1251``: digits and one slash like a month and a day (``11/29``),
a counter when either side has more than two digits (a date has two slashes, or two-digit
parts)."""
_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
"""An IPv4 address (``10.0.0.8``): digits and dots like a date, never a time."""

_DAY_MONTH_YEAR = re.compile(r"^\d{1,2}([-/])[A-Z][a-z]{2}\1\d{4}$")
"""``29-Nov-2026``: the date of PHP's error log and of BIND; ``29/Nov/2026``, the common log
format's (Python's ``http.server`` writes it with a space before the clock)."""
_GLUED_LEVEL = re.compile(r"^([A-Z]+)(?:\[[^\[\]\s]+\])+$")
"""An upper-case level glued to bracketed fields, ``NOTICE[2211]``, ``VERBOSE[2250][C-00001b]``:
the level with its thread (and call or request id), as a program is glued to its pid."""
_STARRED_LEVEL = re.compile(r"^\*[A-Z]+\*$")
"""``*INFO*``, ``*WARN*``: a level between stars (Apache Sling's and AEM's error log)."""

TIME, NAME, NUMBER, LEVEL, DASH, BRACKET, NODE, CAPS, PROGRAM, OTHER = range(10)


def token_kind(tok: str, numbers_seen: bool) -> int:
    bare = tok.strip("[]<>(),").strip()  # "[INFO ]": a padded level in brackets
    low = bare.lower()
    if low in LEVEL_WORDS and (bare.isupper() or bare.istitle() or tok.startswith("[")):
        return LEVEL
    if numbers_seen and tok[-1] == "]" and tok[0].isupper():
        glued = _GLUED_LEVEL.match(tok)
        if glued is not None and glued.group(1).lower() in LEVEL_WORDS:
            # "<time> NOTICE[2211]", "<time> VERBOSE[2250][C-0000001b]": the level and its
            # thread after the time (opening a line, only logrus's cut "WARN[0000]" is one)
            return LEVEL
    if tok == "LOG" and numbers_seen:
        return LEVEL  # "<time> UTC [812] LOG msg": PostgreSQL's severity for routine messages
    if tok[0] == "%" and FACILITY.match(tok):
        return LEVEL  # "%LINK-3-UPDOWN:": the severity is its digit
    if tok[0] == "*" and _STARRED_LEVEL.match(tok) and tok[1:-1].lower() in LEVEL_WORDS:
        return LEVEL  # "29.11.2026 10:00:01.123 *INFO* [main] ...": a level between stars
    if tok[0] == "<" and tok[-1] == ">" and numbers_seen and _CAPS.match(tok[1:-1]):
        # "<time> <RMT> msg", "<AUTH>", "<BUG>": a message class in angle brackets after the
        # time is the line's level, as "<INFO>" is (routing daemons name theirs so)
        return LEVEL
    if bare[-1:] == ":" and bare.isupper() and bare[:-1].lower() in LEVEL_WORDS:
        return LEVEL  # "INFO:     10.0.0.1:5 - ..." (uvicorn, Python's default format)
    if tok[0] == "[" and low in _BRACKET_LEVELS:
        return LEVEL
    if tok[0] == "[" and tok[-2:] == "]:" and tok[1:-2].strip().lower() in LEVEL_WORDS:
        return LEVEL  # "<time> +0000 [info]: #0 msg" (Fluentd): a bracketed level with a colon
    if len(tok) == 5 and not numbers_seen and _KLOG.match(tok):
        return LEVEL
    if numbers_seen and len(tok) == 1 and tok in SHORT_LEVELS:
        return LEVEL
    if numbers_seen and len(tok) == 2 and tok[1] == "!" and tok[0] in SHORT_LEVELS:
        return LEVEL  # "<time> E! [outputs.influxdb] msg": a level letter and a bang
    if numbers_seen and len(tok) == 3 and tok[0] == "[" and tok[2] == "]" and tok[1] in _LETTERS:
        return LEVEL  # "<time>: [I] msg", "[N]", "[E]": a level letter in brackets after the time
    if tok == "-":
        return DASH
    if bare.isdigit():
        # a Unix time in seconds in brackets, "[1764416299] msg" (Nagios-style daemons): a
        # bracketed time, whose line has no program field after it
        return TIME if tok[0] == "[" and _BRACKETED_EPOCH.match(tok) else NUMBER
    if _COUNTER.match(bare) and len(bare) > 5:
        return OTHER  # "1251/1251 - 412s - loss: 5.81": a progress counter opens the message
    if TIME_TOKEN.match(bare) and not COUNTED.match(bare) and not _QUAD.match(bare):
        return TIME
    if low.rstrip(".").lstrip("*.") in _NAMES:
        return NAME  # "*Nov 29 ...", ".Nov": a clock marked not synchronised (network devices)
    if tok[0] == "{" and tok[-1] == "}":
        return BRACKET  # "{<query id>}", "{}": a braced context field, as a bracketed one
    if tok.startswith("["):  # "[rank0]:" is a field, not a program
        inner = tok.rstrip(":").strip("[]")
        if ":" in inner and inner.rpartition(":")[2] in LEVEL_WORDS and " " not in inner:
            return LEVEL  # "[core:error]", "[proxy_fcgi:warn]": a module and its level
        if _bracketed_time(inner):
            return TIME
        return LEVEL if _bracketed_time_level(inner) else BRACKET
    if tok.endswith(":") and _PROGRAM.match(tok):
        return PROGRAM
    if _DIGIT.search(tok):
        return NODE
    if _CAPS.match(tok):
        return CAPS
    return OTHER


def _bracketed_time(inside: str) -> bool:
    """``[10.30 16:49:06]``, ``[Sun Dec 04 04:47:44 2005]``: a timestamp in brackets; also a
    day-month-year date and a zone name or offset with a clock (PHP's ``[29-Nov-2026 10:00:01
    UTC]``, ``[29/Nov/2026 10:00:07]``, ``[2026-11-29 10:00:01.118245 +0000]``)."""
    parts = inside.split()
    return bool(parts) and all(
        TIME_TOKEN.match(p) is not None
        or p.lower().rstrip(".,") in _NAMES
        or (
            ":" in inside
            and (_DAY_MONTH_YEAR.match(p) or ZONE_NAME.match(p) or ZONE_OFFSET.match(p)) is not None
        )
        for p in parts
    )


def _bracketed_time_level(inside: str) -> bool:
    """``[2026-11-29 10:00:01,123 W 8418 4752]``: a time, a level and numbers (pid, thread) in
    one bracket, a header by itself."""
    parts = inside.split()
    # the level alone or with its process, "[<time>: INFO/MainProcess]" (Celery, multiprocessing)
    levels = [
        p
        for p in parts
        if p in SHORT_LEVELS
        or (p.split("/")[0].lower() in LEVEL_WORDS and p.split("/")[0].isupper())
        or _KLOG.match(p)  # glog's "[W1129 10:00:01.5 socket.cpp:663]" (C++ libraries)
    ]
    if len(parts) >= 3 and parts[-2] in levels and _RUST_PATH.match(parts[-1]):
        # env_logger's "[2026-11-29T10:00:01Z INFO  my_crate::server]": a module path closes it
        parts = parts[:-1]
    elif len(parts) >= 4 and parts[-2] in levels and _SOURCE_FILE.match(parts[-1]):
        # "[2026-11-29 10:14:02.118232: W /tmp/x/stall_inspector.cc:107]": the time, the level
        # letter, then the source file and line closing the bracket
        parts = parts[:-1]
    elif len(parts) >= 3 and parts[0] in levels and FIELD_TOKEN.match(parts[-1].split(":")[0]):
        # tornado's "[I 2026-11-29 10:00:01.5 ServerApp]", "[W 201129 10:00:01 web:2243]": the
        # level letter first, the time, then the logger or module:line closing the bracket
        parts = parts[:-1]
        if len(parts) >= 4 and FIELD_TOKEN.match(parts[-1]) and TIME_TOKEN.match(parts[-1]) is None:
            # JupyterHub's "[I <date> <time> JupyterHub app:3105]" (tornado's layout with the
            # logger's name before the module): both names close the bracket
            parts = parts[:-1]
    return (
        len(parts) >= 2
        and len(levels) == 1
        and any(":" in p for p in parts)
        and all(TIME_TOKEN.match(p) is not None or p in levels for p in parts)
    )


def is_level_colon(tok: str) -> bool:
    """A level word closed by a colon, ``info:``, ``WARNING:``."""
    return tok.endswith(":") and tok[:-1].lower() in LEVEL_WORDS


def is_program(tok: str) -> bool:
    return tok.endswith(":") and _PROGRAM.match(tok) is not None
