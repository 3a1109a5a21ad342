"""Headers of delimited records: a time, then fields separated by ``;`` or ``,``.

Called by :func:`vigil.logs._detect.detect_header` before its token rules, for lines that open
with a digit. Two general layouts, neither named after a product:

- **semicolon records** (``<date> <time>;<code>;<source>;<class>;<object>;message``, the
  accounting and server logs of batch schedulers and many appliances): the space-free fields
  after the time are header, the first field holding a space starts the message;
- **CSV records** (``<time>,"user","db",pid,...,LEVEL,CODE,"message",...``, database and
  application CSV logs): the columns up to a level column, and an error code column right after
  it, are header; the message starts at the next column and keeps the columns after it (as a
  JSON line's message keeps the keys after ``"msg"``).

- **exported event records** (``Level,<date> <time>,Source,Event ID,Category,message``, event
  viewers' and consoles' CSV exports): a level column first and a time column second; the short
  columns after them (a source, an id, a category: at most three words each) are header, the first
  longer column starts the message.

All look only at whether a character is a digit, never which one, as the raw-line cache of
:mod:`vigil.logs._parser` requires.
"""

from __future__ import annotations

import re

_STAMP = re.compile(r"\d[\d:.,/\-+TZ]*")
"""One part of a leading time: ``11/29/2026``, ``10:00:01.123``, ``2026-11-29T10:00:01Z``."""
_ZONE = re.compile(r"[A-Z]{1,5}|[+\-]\d{2}:?\d{2}")
_SEMI_FIELDS = re.compile(r"(?:[^\s;]*;){2,6}(?=\S)")
"""Two to six space-free fields, each closed by ``;``, then the message (which must not be
empty): ``0008;Server@pbs01;Job;7486.pbs01;`` before ``Job Run at request of ...``."""
_CSV_FIELD = re.compile(r'(?:"(?:[^"]|"")*"|[^,"]*)(?:,|$)')
_CSV_LEVELS = frozenset(
    [
        *("LOG", "INFO", "NOTICE", "WARNING", "WARN", "ERROR", "FATAL", "PANIC", "CRITICAL"),
        *("DEBUG", "TRACE", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"),
    ]
)
"""Upper-case severities a CSV log writes in a column of its own."""
_CODE = re.compile(r"[0-9A-Z]{5}")
"""A short error code column after the level (SQLSTATE ``23505``, ``00000``)."""
MAX_CSV_FIELDS = 18


def _leading_time(line: str, stop: int) -> bool:
    """True when ``line[:stop]`` is a time: stamps and an optional zone, ``2026-11-29
    10:00:01.5 UTC``, ``11/29/2026 10:00:01``."""
    parts = line[:stop].split(" ")
    return (
        1 <= len(parts) <= 3
        and any(":" in p for p in parts)
        and _STAMP.fullmatch(parts[0]) is not None
        and all(_STAMP.fullmatch(p) or _ZONE.fullmatch(p) for p in parts[1:])
    )


def delimited_header(line: str) -> int:
    """Where the message of a semicolon or CSV record starts; 0 when ``line`` is neither."""
    semi, comma = line.find(";", 0, 48), line.find(",", 0, 48)
    if semi > 0 and (comma < 0 or semi < comma) and _leading_time(line, semi):
        fields = _SEMI_FIELDS.match(line, semi + 1)
        return fields.end() if fields is not None else 0
    if comma > 0 and _leading_time(line, comma):
        return _csv_message(line, comma + 1)
    return 0


def _csv_message(line: str, pos: int) -> int:
    """The start of the column after a CSV record's level (and its code), from ``pos``."""
    for _ in range(MAX_CSV_FIELDS):
        m = _CSV_FIELD.match(line, pos)
        if m is None or m.end() == pos or m.end() >= len(line):
            return 0
        value = line[pos : m.end()].rstrip(",")
        pos = m.end()
        if value in _CSV_LEVELS:
            code = _CSV_FIELD.match(line, pos)
            if code is not None and _CODE.fullmatch(line[pos : code.end()].rstrip(",")):
                pos = code.end()
            return pos if pos < len(line) else 0
    return 0


_EXPORT_LEVELS = frozenset(
    ["information", "info", "warning", "warn", "error", "critical", "verbose", "debug", "notice"]
)
"""Severities an event export writes in its first column (``Information``, ``Warning``)."""
MAX_EXPORT_FIELDS = 6


def level_csv_header(line: str) -> int:
    """Where the message of an exported event record (``Level,<time>,Source,Id,Category,msg``)
    starts; 0 when ``line`` is not one."""
    comma = line.find(",", 0, 16)
    if comma <= 0 or line[:comma].lower() not in _EXPORT_LEVELS:
        return 0
    second = line.find(",", comma + 1, comma + 40)
    if second < 0 or not _leading_time(line[comma + 1 :], second - comma - 1):
        return 0
    pos = second + 1
    for _ in range(MAX_EXPORT_FIELDS):
        m = _CSV_FIELD.match(line, pos)
        if m is None or m.end() == pos:
            return 0
        value = line[pos : m.end()].removesuffix(",")
        if value.count(" ") >= 3 or value.startswith('"'):
            return pos  # a column of four words or a quoted one: the message
        if m.end() >= len(line):
            return 0
        pos = m.end()
    return 0
