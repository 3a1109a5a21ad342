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

- a context in parentheses right after the time, closed by ``)`` and glued to a module name
  with its colon (``<time> cpu12:2098213)ScsiDeviceIO: 4124: msg``, ``cpu6:2099880
  opID=8c41d07e)Net: 2195:``: a CPU and a thread, then the kernel module and its source line):
  the context, a level word before the module, the module and its line (or ``function:line:``)
  are header;
- a launcher's output tag opening a line (``[1,0]<stderr>:``, the job and rank of the process
  that wrote it and the stream): header, and the rest of the line is read as a line of its own
  (:func:`tagged_output`);
- (:func:`located_program`, called from the token rules at a program name after the time) a
  program and its pid, a function with its file and line in parentheses, and a level closed by a
  colon (``node1 crmd  [2201] (do_state@fsa.c:544)<TAB>notice: msg``): all header.

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

_WORLD = re.compile(
    r"(\d\S*) ([A-Za-z]+\d+:\d+(?: [\w.\-]+=[^\s()]+)*)\)(?:([A-Z]{3,}): (?=[A-Za-z][\w\-]*: ))?"
    r"(?:([A-Za-z][\w\-]*): ((?:[A-Za-z_]\w*:)?\d+): +)?(?=\S)"
)
_RANK_TAG = re.compile(r"\[\d+,\d+\]<std(?:out|err|diag)>:")
_LOCATED = re.compile(
    r"([\w.\-]+(?: *\[\d+\])?) +\(([A-Za-z_][\w.]*(?:@[\w./\-]+:\d+)?)\)\s+([A-Za-z]+):\s+(?=\S)"
)


def located_program(line: str, start: int, levels: frozenset[str]) -> Header | None:
    """(message start, fields) when a program with its pid, a function location in parentheses
    and a level with its colon start at ``start`` (see the module's docstring), else None."""
    m = _LOCATED.match(line, start)
    if m is None or m.group(3).lower() not in levels or "[" not in m.group(1):
        return None
    return m.end(), (("Component", m.group(1)), ("Source", m.group(2)), ("Level", m.group(3)))


def tagged_output(line: str) -> tuple[int, str] | None:
    """(end of the tag, the tag) when ``line`` opens with a launcher's ``[job,rank]<stream>:``."""
    m = _RANK_TAG.match(line) if line[1:2].isdigit() else None
    return (m.end(), m.group(0)) if m is not None and m.end() < len(line) else None


def glued_layout(line: str, levels: frozenset[str]) -> Header | None:
    """(message start, header fields) when ``line`` opens with one of the module's layouts,
    else None; ``levels`` are the level words (checked for the glued layout)."""
    first = line[:1]
    if first.isdigit():
        m = _GLUED.match(line) if line[4:5] == "-" else None
        if m is not None and m.group(2).lower() in levels and m.end() < len(line):
            return m.end(), (("Time", m.group(1)), ("Level", m.group(2)), ("Component", m.group(3)))
        w = _WORLD.match(line) if ")" in line[20:80] else None
        if w is not None and w.end() < len(line):
            found = [("Time", w.group(1)), ("Component", w.group(2))]
            found += [(k, v) for k, v in (("Level", w.group(3)), ("Component", w.group(4))) if v]
            return w.end(), tuple(found)
    if first in _LETTERS and line[1:3] == " [":
        m = _LETTER_TIME.match(line)
        if m is not None and m.end() < len(line):
            return m.end(), (("Level", m.group(1)), ("Time", m.group(2)))
    if first == " " or first.isdigit() or first in "abcdefABCDEF":
        m = _NUMBERED_ROWS.match(line) if "|" in line[:12] else None
        if m is not None and m.end() < len(line):
            return m.end(), (("Time", m.group(1)), ("Time", m.group(2)))
    return None
