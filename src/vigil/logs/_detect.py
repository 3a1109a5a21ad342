"""Automatic header detection: where does the header of a raw log line end?

Called by :class:`vigil.logs._headers.LogFormat` (format ``auto``) for each line that is not
JSON. Stateless and general: it knows the *kinds* of header tokens, not any product's format.

The header is the longest run of leading tokens that are timestamps, dates, numbers (pids,
sequence numbers), node names (tokens with digits), ``-`` placeholders, bracketed fields and
upper-case tags, closed by one of:

- a **level** (``INFO``, ``warning``, ``[error]``, or a one-letter ``I``/``W``/``E`` after
  numbers), then the bracketed fields and ``-`` that follow it, and a logger name ending in
  ``:`` when it looks like one (``org.foo.Bar:``, ``WindowManager:``);
- a **program** token ending in ``:`` (``sshd[42]:``, ``kernel:``), possibly after one host name;
- a ``|``-separated run of fields (``time|component|pid|message``);
- an arrow or double dash after the fields (``<time> 512345 [7F1A] 0x02 -> msg``).

After a level, a source location closed by a dash or its own colon (``worker.py:12 --``, ``[t]
<time> Store.java:12 -``, ``(raylet) node.cc:42:``), tab-separated logger and caller columns, and a
Java class with its method (``org.x.Server.start``, JUL) are header too; logfmt keys (``time=...
level=...``) after any header are, and every other pair up to a ``msg=`` key; so are brackets glued
to a bracketed level and one spaced field after them (``[time][WARN ][logger] [node]``), a named
number in brackets (``[tid 12]``), and a time bracket holding the level (``[<time> W 81 92]``,
``[<time>: INFO/MainProcess]``). A line that opens with a bracketed time (kernel ring buffer,
daemons) has no program field: a ``word:`` after it is the message's own. A line that opens with an
IPv4 address (access logs) has no header; one that opens with a record number, identifier fields, a
Unix time and a flag (cluster event logs) has those as header, one that opens with a time, a
hexadecimal thread id and a signed priority (C++ daemons) those three. A bracketed source location
with its function (``[x.py:96:fn]``) is the last header field; a category and a severity right after
the time (``queries: info:``) are header. After a level, an Erlang process id (``<0.12.0>``), a
thread in parentheses after a bracketed logger (``[io.quarkus] (main)``), Rust ``tracing``
spans, target and source location (``span{a=1}: my_crate::server: src/x.rs:9:``) are header;
so are a level letter, a time and a logger in one bracket (tornado's ``[I <time> App]``) and a
bar after the time (``[GIN] <date> - <time> | 200 | ...``). An IPv4 address after the time with no
program after it (``<time> 35237 10.0.1.157 TCP_MISS/200``) is a record's field: the header
ends with the time, numbers after it included in the message. Semicolon and CSV records are
cut by :mod:`vigil.logs._records`; what follows a level is read by :mod:`vigil.logs._afterlevel`.

The kernel's bracketed uptime after a syslog ``kernel:`` is header; so are a sequence number
before a date and a zone name after the clock (``001203: Nov 29 10:14:02.331 UTC:``), a
facility-severity-mnemonic tag (``%LINK-3-UPDOWN:``), which is the level, and a message class in
angle brackets after the time (``<RMT>``); a line opening with a launcher's ``[host:pid]`` or glued
brackets closed by ``[file.c:line:function]`` has those as header (:mod:`vigil.logs._layouts`);
a day-month-year date and a zone name may fill a time bracket (``[29-Nov-2026 10:00:01 UTC]``),
a level may stand between stars (``*INFO*``) or in brackets closed by a colon (``[info]:``).

After the time, a severity and a facility joined by a slash (``information/ConfigItem:``), a
thread number glued to a bracketed subsystem tag (``07[IKE]``) and a program with its pid, a
function location in parentheses and a level (``crmd  [2201] (fn@fsa.c:544)<TAB>notice:``) end
the header; a launcher's ``[1,0]<stderr>:`` opening a line is header and the rest is read again.

An arrow right after the time, no field between (ClamAV's ``<ctime> -> msg``), ends the header: a
``word:`` after it is the message's own.
A level opening a line with a time after it has the rest read as a line of its own (Tinyproxy's
``INFO      Nov 29 <time> [pid]: msg``, CouchDB's ``[info] <time> node@host <0.248.0> --------
msg``, the request id or dashes after an Erlang pid included), unless a layout after a level
(glog's, vLLM's, ``[INFO] <time> - msg``) already reads it.
NFS-Ganesha's fields separated by `` : `` after the time, up to a component and a level each after
a space and a colon (``: host : prog-pid[thread] fn :NFS STARTUP :EVENT :msg``), are header.
After the time, a source location in parentheses (lighttpd's ``<time>: (server.c.1513) msg``), a
bracket, a module name and a lone dash (ScyllaDB's ``[shard 0:main] storage_service - msg``) and a
name and a level each closed by a tab (Prosody's ``portmanager<TAB>info<TAB>msg``) end the header
(:mod:`vigil.logs._aftertime`).

The kind of each token (time, level, number, program...) is told by :mod:`vigil.logs._kinds`;
the token rules are walked by :mod:`vigil.logs._leading`, and what follows a syslog program is
read by :mod:`vigil.logs._program`; this module holds the whole-line layouts tried first. With
none of these, only the leading timestamp tokens are header. A line opening with the kernel
tracer's record prefix (``<idle>-0  [003] d..1  42.500001: sched_switch: msg``) has it as header
(:mod:`vigil.logs._ftrace`). Tokens that are not header stay in
the content: a misdetection costs a worse template, never a lost line.
"""

from __future__ import annotations

import re

from vigil.logs._closing import closing_fields
from vigil.logs._ftrace import ftrace_end
from vigil.logs._glued import glued_layout, tagged_output
from vigil.logs._headerwords import FIELD_TOKEN, LEVEL_WORDS, TIME_TOKEN
from vigil.logs._layouts import (
    epoch_colon,
    exported_columns,
    identified_program,
    prefix_layout,
    stamped_record,
)
from vigil.logs._leading import detect_tokens
from vigil.logs._records import delimited_header, level_csv_header

_RFC5424 = re.compile(r"<\d{1,3}>\d? ?(?:\S+ ){5}(?:-|\[[^\]]*\])+ ?")
"""RFC 5424 syslog: priority and version, time, host, app, process id, message id, structured
data (``-`` when empty)."""
_KV_HEAD = re.compile(
    r'(?:(?:time|ts|timestamp|date|t|level|lvl|severity|caller|logger|source)=(?:"[^"]*"|\S+)\s+)+'
)
"""logfmt header keys (``time=... level=info caller=x.go:12``): the message starts after them."""
_KV_TO_MSG = re.compile(
    r'(?:[A-Za-z_][\w.\-]*=(?:"(?:[^"\\]|\\.)*"|[^\s"]*)\s+){1,12}(?=(?:msg|message)=)'
)
"""More ``key=value`` pairs between the header keys and a ``msg=`` key (``component=tsdb``,
``logger=context userId=1``): in a logfmt line every pair before the message is header."""


_COLON_LEVEL = re.compile(
    r"\d\S* \S+ : (?:[^:]{1,60} : ){1,4}[^:]{1,120}? "
    r":([A-Z][A-Z0-9_ ]{0,30}) :([A-Z][A-Z_]{2,11}) :"
)
"""NFS-Ganesha's ``<date> <time> : epoch 6749a1b2 : host : prog-pid[thread] function :COMPONENT
:LEVEL :msg``: fields separated by `` : `` after the time, then a component and a level each
after a space and a colon; the message follows the level's colon."""
_CRDB = re.compile(
    r"[IWEF]\d{6} \d\d:\d\d:\d\d\.\d+ \d+ (?:\d+@)?[\w./\-]+\.go:\d+ +(?:⋮ +)?"
    r"(?:\[[^\]\s]*\] +)?(?:\d+ +(?=\S))?"
)
"""CockroachDB's ``crdb-v2``: a level letter glued to a ``yymmdd`` date, the clock, the goroutine,
an optional channel and the source file, the redaction mark ``⋮``, the context tags in brackets
and the entry counter: ``I261129 <time> 412 server/node.go:533 ⋮ [T1,n1] 31  msg``."""
_COLON_LEVELS = LEVEL_WORDS | {"event", "maj", "mid_debug", "full_debug"}
"""Ganesha's level names: the common ones, and its ``EVENT``, ``MAJ`` and debug grades."""


def detect_header(line: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """(index where the message starts, the header fields found) for a raw line; 0 if none."""
    end, fields = _detect(line)
    return closing_fields(line, end, fields)  # "<date> -- <clock> - <Info> -", "x.cc:42 -"


def _detect(line: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """:func:`detect_header` before the closing fields of :mod:`vigil.logs._closing`."""
    if line[:1] == "[":
        tagged = tagged_output(line)  # "[1,0]<stderr>:<time>: I file.cc:12] msg" (mpirun)
        if tagged is not None:
            end, fields = detect_header(line[tagged[0] :])
            return tagged[0] + end, (("Component", tagged[1].rstrip(":")), *fields)
    piped = _piped(line)
    if piped:
        return piped
    glued = glued_layout(
        line, LEVEL_WORDS
    )  # "<time>:DEBUG:pkg.mod:msg", "I [<time>] msg", "1 | <date> |"
    if glued is not None:
        return glued
    if line.startswith("<"):
        rfc = _RFC5424.match(line)  # "<34>1 2026-11-29T10:00:01Z host app 1234 ID47 - msg"
        if rfc is not None:
            return rfc.end(), (("Fields", line[: rfc.end()].rstrip()),)
    if line[:1].isupper():
        if line[7:8] == " " and line[:1] in "IWEF" and line[1:7].isdigit():
            crdb = _CRDB.match(line)  # "I261129 <time> 412 server/node.go:533 ⋮ [T1] 31  msg"
            if crdb is not None and crdb.end() < len(line):
                return crdb.end(), (("Level", line[:1]), ("Fields", line[1 : crdb.end()].rstrip()))
        known = prefix_layout(line)  # "WARNING:root:msg", "I, [<time> #1]  INFO -- : msg"
        if known is not None:
            return known
        cut = level_csv_header(line)  # "Information,11/29/2026 5:28:32 AM,Source,7036,None,msg"
        if cut:
            return cut, (("Fields", line[:cut].rstrip(",")),)
    if "=" in line[:12]:
        stamp = stamped_record(line)  # "type=USER_LOGIN msg=audit(<time>:<serial>): pid=1"
        if stamp is not None:
            return stamp
        kv = _KV_HEAD.match(line)
        if kv is not None and kv.end() < len(line):
            cut = _to_message_key(line, kv.end())
            return cut, (("Fields", line[:cut].rstrip()),)
    if line[:1].isdigit() or line[:1] == "[":
        # "<time> Df kernel[0:1f4] (AppleSMC) msg", "[<epoch>] unbound[812:0] info: msg"
        known = identified_program(line, LEVEL_WORDS) if "[" in line[1:80] else None
        if known is not None:
            return known
    if line[:1].isdigit():
        if line.find(" : ", 0, 40) > 0:
            colons = _COLON_LEVEL.match(line)
            if colons is not None and colons.group(2).lower() in _COLON_LEVELS:
                # "<date> <time> : epoch X : host : prog[thread] fn :COMPONENT :LEVEL :msg"
                fields = (("Component", colons.group(1)), ("Level", colons.group(2)))
                return _skip_spaces(line, colons.end()), fields
        if line[10:11] in (":", "."):
            known = epoch_colon(line)  # "1764410401: New connection from 10.20.3.41:51234"
            if known is not None:
                return known
        columns = exported_columns(line) if " 0x" in line[:48] else None
        if columns is not None:
            return columns  # "<time>+0100 0x3f1a  Default  0x0  412  0  proc: (Lib) [sub:c] msg"
        cut = delimited_header(line)  # "<time>;code;source;...;msg", "<time>,f,...,LEVEL,msg"
        if cut:
            return cut, (("Fields", line[:cut].rstrip()),)
    if "] " in line[:64]:
        traced = ftrace_end(line)  # "  <idle>-0  [003] d..1  42.5: sched_switch: msg" (ftrace)
        if traced:
            return traced, (("Fields", line[:traced].strip().rstrip(":")),)
    end, fields = detect_tokens(line)
    if end and "=" in line[end : end + 12]:
        # logfmt keys after a header: "<syslog> containerd[1]: time=... level=info msg=..."
        kv = _KV_HEAD.match(line, end)
        if kv is not None and kv.end() < len(line):
            cut = _to_message_key(line, kv.end())
            return cut, (*fields, ("Fields", line[end:cut].rstrip()))
    return end, fields


def _skip_spaces(line: str, end: int) -> int:
    """Past the spaces at ``end`` (a padded message, ``:EVENT :      NFS SERVER INITIALIZED``)."""
    return len(line) - len(line[end:].lstrip(" ")) if end < len(line) else end


def _to_message_key(line: str, end: int) -> int:
    """Past the logfmt header keys at ``end``: up to a ``msg=`` key when only other
    ``key=value`` pairs come before it (``component=tsdb msg=...``), else ``end``."""
    if "msg=" not in line and "message=" not in line:
        return end
    more = _KV_TO_MSG.match(line, end)
    return more.end() if more is not None else end


def _piped(line: str) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """``time|component|pid|message``: fields up to the pid after a component."""
    head = line[:200]
    bar = head.find("|")
    if bar <= 0 or not all(TIME_TOKEN.match(p) for p in head[:bar].split(" ", 1)):
        return None  # "<time>|", "<date> <clock>|": a date and a clock may open the record
    parts = line.split("|", 4)
    fields = [("Time", parts[0])]
    pos = bar + 1
    named = False
    for part in parts[1:-1]:
        if not FIELD_TOKEN.match(part.strip()):
            break  # a field padded to its column ("|  main|") is the field
        fields.append(("Number" if part.isdigit() else "Component", part.strip()))
        pos += len(part) + 1
        if part.isdigit() and named:
            break
        named = named or not part.isdigit()
    return pos, tuple(fields)
