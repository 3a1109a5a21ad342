"""Headers recognised by their first characters: layouts a whole-line pattern names at once.

Called by :func:`vigil.logs._detect.detect_header` before its token rules, for lines that open
with an upper-case letter (:func:`prefix_layout`) or hold ``=`` near their start
(:func:`stamped_record`). Each pattern is a logging library's default layout, not a product's:

- Python logging's ``basicConfig()`` format, ``%(levelname)s:%(name)s:%(message)s``
  (``WARNING:root:disk almost full``): the level, the logger and the colons that glue them;
- Ruby's ``Logger`` default format, ``I, [<time> #<pid>]  INFO -- <progname>: <message>``
  (Rails, Fluentd, Chef): everything up to the ``--`` and the program name's colon;
- Android logcat's ``brief`` format, a priority letter, a slash, the tag and the pid in
  parentheses (``W/ActivityManager( 1234): msg``): all three are header;
- logrus's text format on a terminal, a level cut to four letters glued to a bracket holding the
  seconds since start or the time (``WARN[0000] msg``, ``INFO[2026-11-29T10:00:01Z] msg``; Go
  command-line tools): the level and its bracket;
- a job launcher's process prefix (MPI runtimes, ``mpirun``'s children): a line that opens with
  ``[host:pid]`` and no time (``[node07:48213] *** Process received signal ***``), or with glued
  brackets closed by a source location with its function (``[node03][[31522,1],6][btl_tcp.c:626:
  recv_ack] msg``): the brackets are the writer's identity, the message follows;
- a system log exported as columns (the unified log's ``log show``): the time with its zone, a
  hexadecimal thread id, a type word, a hexadecimal activity id, the pid and a TTL, then the
  process with its colon, the sending library in parentheses and a ``[subsystem:category]``
  bracket when they are there (``<time>+0100 0x3f1a  Default  0x0  412  0  bluetoothd:
  (CoreBluetooth) [com.apple.bluetooth:Server] msg``): all of them are the header;
- a Unix time in seconds closed by a colon opening the line (``1764410401: New connection
  from ...``, small daemons writing their own log file): the time is the header;
- a program glued to a bracket of its ids with no colon (``unbound[812:0]``, ``kernel[0:1f4]``:
  the pid and a thread or instance number) right after the time, a one- or two-letter type code
  before it when there is one (``Df``, ``E``): the writer's identity, header like a syslog
  ``program[pid]:``; a library in parentheses, a ``[subsystem:category]`` bracket and a level
  word with its colon after it are header too (``unbound[812:0] info: msg``, ``<time> Df
  kernel[0:1f4] (AppleSMC) msg``, ``<time> I  bluetoothd[98:4e1] [com.apple.bluetooth:Core]
  msg``; the level is checked by the caller);
- an audit record stamp, ``key=value`` pairs and a ``msg=`` key whose value is a name with a
  Unix time and a serial number in parentheses closed by a colon (``type=SYSCALL
  msg=audit(1764416299.123:4567): arch=...``): the record's own fields follow.

Like the other header rules they look only at whether a character is a digit, never which one
(the raw-line cache of :mod:`vigil.logs._parser` relies on it).
"""

from __future__ import annotations

import re

Header = tuple[int, tuple[tuple[str, str], ...]]

_PY_BASIC = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL):([A-Za-z_][\w.\-]*):(?=\S)")
_RUBY = re.compile(r"([DIWEFAU]), \[([^\]]*)\] +([A-Z]+) -- ([^:\s]*): ?")
_LOGCAT_BRIEF = re.compile(r"([VDIWEFA])/([^\s():]+) *\( *(\d+)\): +(?=\S)")
_LOGRUS_TTY = re.compile(r"(PANI|FATA|ERRO|WARN|INFO|DEBU|TRAC)\[([^\]\s]*)\] +(?=\S)")
_HOST_PID = re.compile(r"\[[A-Za-z][\w.\-]*:\d+\] +(?=\S)")
_LOCATED_RUN = re.compile(
    r"(?:\[[^\[\]\s]*(?:\[[^\[\]\s]*\][^\[\]\s]*)*\])+"  # glued brackets, one level nested
    r"\[[\w./\-]+\.\w+:\d+:\w+\] +(?=\S)"  # closed by "[file.c:626:function]"
)
_EXPORTED_COLUMNS = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+[+\-]\d{4} +"  # the time with its zone
    r"0x[0-9a-f]+ +[A-Z][a-z]+ +0x[0-9a-f]+ +\d+ +\d+ +"  # thread, type, activity, pid, TTL
    r"[^\s:][^:]{0,60}?: +(?:\([^()\s]*\) +)?(?:\[[^\[\]\s]*\] +)?(?=\S)"
)
_EPOCH_COLON = re.compile(r"\d{10}(?:\.\d{1,9})?: +(?=\S)")
_IDENTIFIED = re.compile(
    r"(?:\[\d{9,10}(?:\.\d+)?\]|\d[\d:.,/\-+TZ]*(?: \d[\d:.,/\-+TZ]*)?) +"  # the time
    r"(?:[A-Z][a-z]? +)?"  # a type code: "Df", "E", "I", "Db"
    r"[A-Za-z_][\w.\-]*\[\d+:[0-9a-fA-F]+\] +"  # program[pid:thread], no colon after it
    r"(?:\([^()\s]*\) +)?(?:\[[^\[\]\s]*\] +)?"  # (library) [subsystem:category]
    r"(?=\S)"
)
_LEVEL_COLON = re.compile(r"([A-Za-z]+): +(?=\S)")
_STAMPED_KV = re.compile(r"(?:[a-z_]+=\S+ ){1,4}msg=[a-z_]*\(\d+(?:\.\d+)?:\d+\): *")


def prefix_layout(line: str) -> Header | None:
    """(message start, header fields) when ``line`` opens with a known layout, else None."""
    m = _PY_BASIC.match(line) if line[0] in "DIWEC" and ":" in line[:10] else None
    if m is not None and m.end() < len(line):
        return m.end(), (("Level", m.group(1)), ("Component", m.group(2)))
    m = _LOGCAT_BRIEF.match(line) if line[1:2] == "/" else None
    if m is not None and m.end() < len(line):
        return m.end(), (("Level", m.group(1)), ("Component", m.group(2)), ("Pid", m.group(3)))
    m = _LOGRUS_TTY.match(line) if line[4:5] == "[" else None
    if m is not None:
        return m.end(), (("Level", m.group(1)), ("Time", m.group(2)))
    m = _RUBY.match(line) if line[1:3] == ", " else None
    if m is not None and m.end() < len(line):
        return m.end(), (("Time", m.group(2)), ("Level", m.group(3)), ("Component", m.group(4)))
    return None


def process_prefix(line: str) -> Header | None:
    """(message start, header fields) of a line opening with a launcher's ``[host:pid]`` or a
    bracket run closed by ``[file.c:line:function]``, else None (called for lines opening with
    ``[`` whose first token no other rule took)."""
    m = _HOST_PID.match(line) or _LOCATED_RUN.match(line)
    if m is None:
        return None
    return m.end(), (("Fields", m.group(0).rstrip()),)


def stamped_record(line: str) -> Header | None:
    """(message start, header fields) of an audit-style record, else None."""
    m = _STAMPED_KV.match(line)
    if m is None:
        return None
    return m.end(), (("Fields", line[: m.end()].rstrip(": ")),)


def exported_columns(line: str) -> Header | None:
    """(message start, header fields) of a system log exported as columns, else None (called
    for lines opening with a digit that hold `` 0x`` near their start)."""
    m = _EXPORTED_COLUMNS.match(line)
    if m is None:
        return None
    return m.end(), (("Fields", m.group(0).rstrip()),)


def epoch_colon(line: str) -> Header | None:
    """(message start, header fields) of a line opening with a Unix time in seconds and a
    colon, else None (called for lines opening with a digit)."""
    m = _EPOCH_COLON.match(line)
    if m is None:
        return None
    return m.end(), (("Time", line[: m.end()].rstrip(": ")),)


def identified_program(line: str, levels: frozenset[str]) -> Header | None:
    """(message start, header fields) of a line whose time is followed by a program glued to a
    bracket of its ids (see the module's docstring), else None; a word of ``levels`` with its
    colon right after is the level, any other word with a colon the message's."""
    m = _IDENTIFIED.match(line)
    if m is None:
        return None
    end, fields = m.end(), [("Fields", m.group(0).rstrip())]
    level = _LEVEL_COLON.match(line, end)
    if level is not None and level.group(1).lower() in levels:
        fields.append(("Level", level.group(1)))
        end = level.end()
    return end, tuple(fields)
