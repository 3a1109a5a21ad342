"""Headers whose fields are glued by punctuation or led by a record number: whole-line patterns.

Called by :func:`vigil.logs._detect.detect_header` before its token rules (the token reader
splits on spaces, and these headers are one token or open with a column it cannot place):

- a time, a level and a logger glued by colons (Python logging's
  ``%(asctime)s:%(levelname)s:%(name)s:%(message)s``, ``<date> <clock>,123:DEBUG:pkg.mod:msg``):
  all three are header, the message starts after the logger's colon;
- a one-letter level before a bracketed time (``I [29/Nov/2026:10:00:01 +0000] msg``, ``E
  [<time>] msg``: the CUPS-style and some embedded daemons' error logs): both are header;
- a bar-separated record opening with a record number, a date and a clock (``   1 |
  11/29/2026 | 10:00:01 | event | state``: an event list printed as a table): the three leading
  columns are header, the rest of the record is the message.

Like the other header rules they look only at whether a character is a digit, never which one
(the raw-line cache of :mod:`vigil.logs._parser` relies on it).
"""

from __future__ import annotations

import re

Header = tuple[int, tuple[tuple[str, str], ...]]

_GLUED = re.compile(
    r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?):([A-Za-z]+):([A-Za-z_][\w.\-]*):(?=\S)"
)
_LETTER_TIME = re.compile(r"([A-Za-z]) (\[[^\[\]]*\d\d:\d\d:\d\d[^\[\]]*\]) +(?=\S)")
_LETTERS = frozenset("DdIiNnWwEeCcAaXxTtFf")
"""Level letters: debug, info, notice, warning, error, critical, alert, emergency, trace, fatal."""
_NUMBERED_ROWS = re.compile(
    r" *[0-9A-Fa-f]+ +\| +(\d[\d/.\-]*\d) +\| +(\d\d?:\d\d(?::\d\d)?(?:[.,]\d+)?) +\| +(?=\S)"
)


def glued_layout(line: str, levels: frozenset[str]) -> Header | None:
    """(message start, header fields) when ``line`` opens with one of the module's layouts,
    else None; ``levels`` are the level words (checked for the glued layout)."""
    first = line[:1]
    if first.isdigit():
        m = _GLUED.match(line) if line[4:5] == "-" else None
        if m is not None and m.group(2).lower() in levels and m.end() < len(line):
            return m.end(), (("Time", m.group(1)), ("Level", m.group(2)), ("Component", m.group(3)))
    if first in _LETTERS and line[1:3] == " [":
        m = _LETTER_TIME.match(line)
        if m is not None and m.end() < len(line):
            return m.end(), (("Level", m.group(1)), ("Time", m.group(2)))
    if first == " " or first.isdigit() or first in "abcdefABCDEF":
        m = _NUMBERED_ROWS.match(line) if "|" in line[:12] else None
        if m is not None and m.end() < len(line):
            return m.end(), (("Time", m.group(1)), ("Time", m.group(2)))
    return None
