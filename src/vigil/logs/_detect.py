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

The kind of each token (time, level, number, program...) is told by :mod:`vigil.logs._kinds`.
With none of these, only the leading timestamp tokens are header. Tokens that are not header
stay in the content: a misdetection costs a worse template, never a lost line.
"""

from __future__ import annotations

import re

from vigil.logs._afterlevel import (
    _FIELD,
    _LOCATION,
    _TIME,
    _after_level,
    _is_logger,
    _skip_space,
    _Tokens,
)
from vigil.logs._glued import glued_layout, located_program, tagged_output
from vigil.logs._kinds import (
    _COUNTED,
    _FACILITY,
    _LEVELS,
    _SHORT_LEVELS,
    _ZONE_NAME,
    BRACKET,
    CAPS,
    DASH,
    LEVEL,
    NAME,
    NODE,
    NUMBER,
    OTHER,
    PROGRAM,
    TIME,
    _is_level_colon,
    _is_program,
    _kind,
)
from vigil.logs._layouts import (
    epoch_colon,
    exported_columns,
    identified_program,
    prefix_layout,
    process_prefix,
    stamped_record,
)
from vigil.logs._records import delimited_header, level_csv_header

MAX_HEADER_TOKENS = 14
"""Headers seen in the wild have at most about ten tokens (BGL has nine)."""

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
_THREAD_PRIORITY = re.compile(r"\S+ +(?:0x)?(?=[0-9a-f]*[a-f])[0-9a-f]{8,16} +-?\d{1,2} +(?=\S)")
"""A time, a hexadecimal thread id and a small signed priority (the ``dout`` layout of C++
daemons: ``<time> 7f3a2b4c5700 -1 msg``): all three are header."""
_EPOCH_HEAD = re.compile(r"\d+ (?:[a-z][\w.\-]* ){1,4}\d{10} \d{1,3} +(?=\S)")
"""A record number, up to four lower-case identifier fields, a Unix time in seconds (ten digits,
whichever: the shape cache needs rules blind to digit values) and a small flag: the header
of cluster event logs; the message starts after it."""
_CLIENT = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)? ")
_SEPARATORS = frozenset(["->", "--", "-->", "=>", ">>", "|"])
"""An arrow, a double dash or a bar after the header fields ends the header (``0x02 -> msg``,
``[GIN] <date> - <time> | 200 | ...``: a bar-separated record whose first field is the time)."""
_ADDRESS = re.compile(r"^(?:[\w.\-@]+/)?\d{1,3}(?:\.\d{1,3}){3}(:\d+)?$")
"""An IPv4 address, with its port or not (``10.0.0.7:5100``, ``alice/10.0.0.7:5100``). With a
port, after the time, it is the message's first value (the peer a server logs about): a header
names its own host without a port. Without one, it is a syslog host only when a program
follows it; otherwise it is a record's field (access logs)."""
_SHOUTED = re.compile(r"^[A-Z][A-Z0-9_]+:$")
"""An upper-case tag with a colon (``MULTI:``, ``TLS:``) right after the time, with no host
before it: a subsystem prefix of the message, not a syslog program (which follows a host and
is written in lower case)."""
_ZONE_OFFSET = re.compile(r"^[+\-]\d\d:?\d\d$")
_MODULE_LEVEL = re.compile(r"^\[[\w.\-]+:[a-z]+\]$")
"""A module and its level in one bracket (Apache 2.4's ``[core:error]``, ``[ssl:warn]``)."""
_PROCESS_BRACKET = re.compile(r"^\[pid \d+(?::tid \d+)?\]$")
"""Apache 2.4's process field, ``[pid 1234:tid 140234]``, ``[pid 1234]``."""
_PAREN_CODE = re.compile(r"^\([A-Z?!*=+\-]{2}\)$")
"""A two-character message-type code in parentheses (``(II)`` information, ``(WW)`` warning,
``(EE)`` error, ``(--)`` probed, ``(**)`` from the configuration): a level written as a code."""
_FUNCTION_LINE = re.compile(r"^[A-Za-z_]\w*:\d+$")
"""A function name and a line, ``qemuMonitorIO:578``: a C program's source location."""
_CODE_LOCATION = re.compile(
    r"^[\w./\-]*\w\.(?:go|c|cc|cpp|cxx|h|hpp|py|rs|java|kt|scala|js|ts|rb|php|cs|swift|lua|erl|ex):\d+:$"
)
"""A source file of a programming language with its line and a colon (``daemon.go:247:``): a
program's own location. A file of another kind (``config.yaml:12:``) is what the message is
about."""
_CODE_FUNCTION = re.compile(_CODE_LOCATION.pattern[:-1] + r"[\w.*]+\(\)$")
"""A source file with its line and its function (``cmd/web.go:242:runWeb()``): after the time
and before a bracketed level (``<time> cmd/web.go:242:runWeb() [I] msg``) it is header."""
_NAMED_ARROW = re.compile(r"[A-Za-z][\w\-.]* \[[^\[\]]+\] +>> +(?=\S)")
"""A thread name and a bracketed component closed by ``>>`` after the time (``<time> Worker4
[Messaging (RPC)] >> msg``): the writer's identity, header like a logger."""
_CLOSING_LOCATION = re.compile(r"\w\.\w+:\d+\]:?$")
_CLOCK = re.compile(r"\d\d:\d\d:\d\d[^\]]* [^\]]*[A-Za-z][^\]\s]*\]$")
"""A clock inside a level's bracket and a name closing it (``[W <date> <clock> App]``,
``[<time>: INFO/MainProcess]``): the bracket holds the time, the level and the logger, the
whole header (a bracket closed by numbers, a pid and a thread, may have a logger after it)."""
_THREAD_TAG = re.compile(r"^\d{1,3}\[[A-Z]{2,8}\]$")
"""A thread number glued to a bracketed upper-case subsystem tag (``07[IKE]``, ``00[DMN]``)."""
"""A source location closing a bracket, ``socket.cpp:663]``."""


def detect_header(line: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """(index where the message starts, the header fields found) for a raw line; 0 if none."""
    if line[:1] == "[":
        tagged = tagged_output(line)  # "[1,0]<stderr>:<time>: I file.cc:12] msg" (mpirun)
        if tagged is not None:
            end, fields = detect_header(line[tagged[0] :])
            return tagged[0] + end, (("Component", tagged[1].rstrip(":")), *fields)
    piped = _piped(line)
    if piped:
        return piped
    glued = glued_layout(
        line, _LEVELS
    )  # "<time>:DEBUG:pkg.mod:msg", "I [<time>] msg", "1 | <date> |"
    if glued is not None:
        return glued
    if line.startswith("<"):
        rfc = _RFC5424.match(line)  # "<34>1 2026-11-29T10:00:01Z host app 1234 ID47 - msg"
        if rfc is not None:
            return rfc.end(), (("Fields", line[: rfc.end()].rstrip()),)
    if line[:1].isupper():
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
        known = identified_program(line, _LEVELS) if "[" in line[1:80] else None
        if known is not None:
            return known
    if line[:1].isdigit():
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
    end, fields = _detect_tokens(line)
    if end and "=" in line[end : end + 12]:
        # logfmt keys after a header: "<syslog> containerd[1]: time=... level=info msg=..."
        kv = _KV_HEAD.match(line, end)
        if kv is not None and kv.end() < len(line):
            cut = _to_message_key(line, kv.end())
            return cut, (*fields, ("Fields", line[end:cut].rstrip()))
    return end, fields


def _to_message_key(line: str, end: int) -> int:
    """Past the logfmt header keys at ``end``: up to a ``msg=`` key when only other
    ``key=value`` pairs come before it (``component=tsdb msg=...``), else ``end``."""
    if "msg=" not in line and "message=" not in line:
        return end
    more = _KV_TO_MSG.match(line, end)
    return more.end() if more is not None else end


def _detect_tokens(line: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """:func:`detect_header` for a line that is not piped, RFC 5424 or logfmt."""
    if line[:1].isdigit():
        dout = _THREAD_PRIORITY.match(line)
        if dout is not None and _TIME.match(line[: line.index(" ")]):
            # "<time> 7f3a2b4c5700 -1 osd.3 ...": the thread and priority fields end the header
            return dout.end(), (("Fields", dout.group(0).rstrip()),)
    epoch = _EPOCH_HEAD.match(line)
    if epoch is not None:
        # "<id> <node> <component> <state> <epoch seconds> <flag> msg" (HPC cluster event logs):
        # a Unix time after a few identifier fields ends the header, with the number after it
        return epoch.end(), (("Fields", epoch.group(0).rstrip()),)
    if _CLIENT.match(line):
        # an access log record opens with the client's address ("203.0.113.7 - - [time]
        # "GET / HTTP/1.1" 200"): the address and the time are the record's values, no header
        return 0, ()
    toks = _Tokens(line)
    fields: list[tuple[str, str]] = []
    timed = numbers = False
    time_end = clock_end = 0
    leading_time = True
    # The kernel ring buffer and many daemons ("[ 5.123] NVRM: ...", "[time] sched: ...")
    # write only a bracketed time: a "word:" after it is the message's own prefix, not a
    # syslog program (which follows a date and a host).
    bracketed = line.startswith("[")
    tabbed = "\t" in line
    for i in range(MAX_HEADER_TOKENS):
        if not toks.has(i):
            break
        tok, end = toks[i]
        kind = _kind(tok, numbers)
        if tok[0] in "+-APUGZECM" and kind != TIME and fields and fields[-1][0] == "Time":
            if _after_clock(tok):
                kind = TIME  # "10:00:01 AM", "10:00:01.1 +00:00", "UTC:": half or zone
        elif i == 0 and kind == PROGRAM and _COUNTED.match(tok) and toks.has(1):
            if _kind(toks[1][0], True) in (TIME, NAME):
                # "001203: Nov 29 10:14:02.331 UTC: ...": a sequence number before the date (a
                # numbered item of the message when no date follows, "28: Client ...")
                kind = NUMBER
        elif (
            tabbed
            and timed
            and kind != LEVEL
            and line.startswith("\t", end)
            and tok.lower() in _LEVELS
        ):
            kind = LEVEL  # "<time>\tinfo\tserver/main.go:42\tmsg": a tab-separated level column
        if i == 0 and tok[:1].isupper() and _is_level_colon(tok):
            # a level word with its colon opening a line with no time ("Notice: msg", "Error:
            # msg": configuration tools, Python's "WARNING:root:"): the level is the header
            kind = LEVEL
        elif (
            kind == LEVEL
            and tok[-1] == ":"
            and i > 0
            and _kind(toks[i - 1][0], numbers) == CAPS
            and fields[-1:] != [("Time", toks[i - 1][0])]  # "10:00:01 AM INFO: msg"
        ):
            # "SERVICE ALERT: ...", "HOST ALERT: ...": a level word with a colon after a
            # capitalised word ends a phrase of the message, not a header's level
            break
        if kind == LEVEL:
            fields.append(("Level", tok))
            if i > 1 and timed and _named_colon(toks[i - 1][0]) and toks.has(i + 1):
                # "<time> fail2ban.filter [1442]: INFO    maxLines: 1": the writer's name closed
                # by a colon came before the level; what follows the level is the message's
                return _skip_space(line, end), tuple(fields)
            if tok[0] == "[" and _MODULE_LEVEL.match(tok):
                # Apache 2.4's "[core:error] [pid 12:tid 34] [client ...] msg": the module's
                # level and the process brackets are header, the client is the message's
                while toks.has(i + 2) and _PROCESS_BRACKET.match(toks[i + 1][0]):
                    i, end = i + 1, toks[i + 1][1]
                return _skip_space(line, end), tuple(fields)
            if tok[0] == "[" and (_CLOSING_LOCATION.search(tok) or _CLOCK.search(tok)):
                # "[W1129 10:00:01.5 socket.cpp:663] [c10d] msg", "[W <time> Restarter] Name:
                # msg": a bracket holding the level, the time and the source location or the
                # logger is the whole header; brackets and names after it are the message's
                return _skip_space(line, end), tuple(fields)
            return _after_level(line, toks, i + 1, end), tuple(fields)
        if timed and kind in (PROGRAM, NODE) and toks.has(i + 1):
            tagged = _severity_facility(tok) if kind == PROGRAM else _THREAD_TAG.match(tok)
            if tagged:
                # "[<time>] information/ApiListener: msg" (a severity and a facility joined by a
                # slash), "<time> 07[IKE] msg" (a thread number glued to its subsystem tag)
                fields.append(("Component", tok.rstrip(":")))
                return _skip_space(line, end), tuple(fields)
        if kind == PROGRAM and bracketed and _channel_level(tok) and toks.has(i + 1):
            # Monolog's "[<time>] production.ERROR: msg": a channel and a level joined by a dot
            fields.append(("Level", tok.rstrip(":")))
            return _skip_space(line, end), tuple(fields)
        if kind == PROGRAM and bracketed and _logged_level(toks, i):
            # "[<time>] pkg.module: [INFO] msg" (Python's "[%(asctime)s] %(name)s:
            # [%(levelname)s] %(message)s"): the logger and the bracketed level after the
            # bracketed time are header; nothing else is (the message may open with brackets)
            fields += [("Component", tok.rstrip(":")), ("Level", toks[i + 1][0])]
            return _skip_space(line, toks[i + 1][1]), tuple(fields)
        address = _ADDRESS.match(tok) if timed and tok[-1:].isdigit() else None
        if address is not None and address.group(1):
            break  # "<time> 10.0.0.7:5100 TLS: Initial packet": a peer address opens the message
        if kind == PROGRAM and _SHOUTED.match(tok) and _after_bare_time(toks, i, fields):
            break  # "<time> MULTI: Learn: ...": a capitalised tag with no host is the message's
        if kind == PROGRAM and _SHOUTED.match(tok) and time_end and _pid_field(fields):
            # "<ctime> [pid 4821] [alice] OK LOGIN: msg" (vsftpd): after a process field and no
            # host, an upper-case tag is the message's; the header ends with the process field
            return _after_process(line, toks, time_end), tuple(
                f for f in fields if f[0] in ("Time", "Number")
            )
        if kind == PROGRAM and i > 0 and not numbers and fields and fields[0][0] == "Field":
            # "START RequestId: 8f5c Version: 3": a capitalised tag and a name with its colon
            # with no time before them open the message (a syslog program follows a time)
            break
        if kind == PROGRAM and i > 0 and not (bracketed and toks[0][0].startswith("[")):
            fields.append(("Component", tok.rstrip(":")))
            if fields[-2][0] == "Time" and toks.has(i + 1) and _is_level_colon(toks[i + 1][0]):
                # "<date> <time> queries: info: msg": a category and its severity right after
                # the time (no host between, so not syslog's "host sshd[1]: error: ...")
                fields.append(("Level", toks[i + 1][0].rstrip(":")))
                return _skip_space(line, toks[i + 1][1]), tuple(fields)
            return _program_level(line, toks, i + 1, end), tuple(fields)
        if timed and tok == "|" and toks.has(i + 2) and _kind(toks[i + 1][0], True) == LEVEL:
            # loguru's "<time> | INFO     | app.main:run:42 - msg": the level between bars
            fields.append(("Level", toks[i + 1][0]))
            return _after_level(line, toks, i + 2, toks[i + 1][1]), tuple(fields)
        if timed and tok in _SEPARATORS and (tok == "|" or _bracketed_field(fields)):
            # "<time> 770112 [58EF115D] 0x02 -> msg": an arrow closes header fields; after a
            # bare id ("<time> 1tGx4M-000DkJ-3q => bob@x R=local") it is the message's own
            return _skip_space(line, end), tuple(fields)
        if address is not None and not (toks.has(i + 1) and _is_program(toks[i + 1][0])):
            # "<time> 35237 10.0.1.157 TCP_MISS/200 ...", "<date> <time> 10.0.0.4 GET /x ...": an
            # address after the time with no program after it is a record's field (client,
            # server), not a syslog host; the record starts after the time itself
            return _skip_space(line, clock_end), tuple(f for f in fields if f[0] == "Time")
        if timed and kind == NODE and tok[-1] == ":" and _LOCATION.match(tok):
            # Go's log package with Lshortfile, "2026/11/29 10:00:01 worker.go:203: msg": a
            # source location closed by its colon right after the time ends the header
            fields.append(("Source", tok[:-1]))
            return _skip_space(line, end), tuple(fields)
        if kind in (TIME, NAME):
            clock_end = end
        if kind in (TIME, NAME, NUMBER):
            timed = timed or kind != NUMBER
            numbers = True
            if leading_time or kind == TIME:
                time_end = end  # "[rank0]:[2026-11-29 10:01:00] msg": a time after a field
            fields.append(("Time" if kind != NUMBER else "Number", tok))
            continue
        if timed and tok in ("stdout", "stderr") and toks.has(i + 1) and toks[i + 1][0] in "FP":
            return _skip_space(line, toks[i + 1][1]), tuple(fields)  # CRI: "<time> stdout F msg"
        if _between_dashes(toks, i, kind):
            fields.append(("Component", tok))  # Python: "<time> - app.db - INFO - msg"
            continue
        if tok[0] == "(" and i > 0 and time_end == toks[i - 1][1] and _PAREN_CODE.match(tok):
            # "[    22.989] (II) msg", "(WW)", "(EE)", "(--)": a two-character message-type code
            # in parentheses right after the time is the line's level
            fields.append(("Level", tok))
            return _skip_space(line, end), tuple(fields)
        if time_end == toks[i - 1][1] and i > 0 and tok in ("*", "#", "."):
            time_end = end  # Redis: "1:M 29 Nov 2026 10:00:01.123 * msg", a level as a symbol
            break
        leading_time = False
        if timed and tok[-1] == "|" and len(tok) > 1 and _FIELD.match(tok[:-1]):
            # "<date> <time> kid1| msg": a worker tag closed by a bar after the time ends the
            # header (a bar-separated field, as in "<time>|component|msg")
            fields.append(("Component", tok[:-1]))
            return _skip_space(line, end), tuple(fields)
        if kind == NODE and timed and "=" in tok and not _level_ahead(toks, i + 1):
            # "<time> H=(WIN-8QK2J1) [10.0.0.9] F=<a@b> rejected": a key=value after the time is
            # the message's, unless a level follows it (metadata, "<time> request_id=F1 [info]")
            break
        if (
            timed
            and tok[-1] == ")"
            and toks.has(i + 2)
            and _CODE_FUNCTION.match(tok)
            and _bracketed_level(toks[i + 1][0])
        ):
            fields += [("Source", tok), ("Level", toks[i + 1][0])]
            return _skip_space(line, toks[i + 1][1]), tuple(fields)
        if timed and kind == OTHER and tok[-1] != ":" and toks.has(i + 2):
            arrow = _NAMED_ARROW.match(line, end - len(tok))
            if arrow is not None:
                fields.append(("Component", line[end - len(tok) : arrow.end()].rstrip(" >")))
                return arrow.end(), tuple(fields)
        if (
            timed
            and kind in (OTHER, NODE)
            and (tok[-1] == "]" or line.startswith("[", _skip_space(line, end)))
        ):
            located = located_program(line, end - len(tok), _LEVELS)
            if located is not None:
                # "<time> node1 crmd  [2201] (do_state@fsa.c:544)\tnotice: msg": a program and
                # its pid, a function (and its file and line) in parentheses, a level and a colon
                return located[0], (*fields, *located[1])
        if kind in (DASH, BRACKET, NODE, CAPS):
            fields.append(("Field", tok))
            continue
        if (
            timed
            and kind == OTHER
            and not bracketed
            and toks.has(i + 1)
            and _is_program(toks[i + 1][0])
        ):
            fields.append(("Host", tok))  # syslog: "<time> host program[pid]: message"
            continue
        break
    if time_end and timed:
        start = _skip_space(line, time_end)
        if line.startswith("- ", start) and toks.has(i) and toks[i][1] > start + 1:
            start = _skip_space(line, start + 1)  # "<ctime> - msg": a dash after the time
        return start, tuple(f for f in fields if f[0] in ("Time", "Number"))
    if bracketed:
        known = process_prefix(line)  # "[node07:48213] msg", "[n3][[3152,1],6][tcp.c:626:f] msg"
        if known is not None:
            return known
    return 0, ()


def _bracketed_field(fields: list[tuple[str, str]]) -> bool:
    """True when one of the header fields found so far is in brackets."""
    return any(value[:1] == "[" for _, value in fields)


def _bracketed_level(tok: str) -> bool:
    """``[I]``, ``[W]``, ``[info]``: a level letter or word in brackets."""
    word = tok[1:-1]
    return tok[:1] == "[" and tok[-1:] == "]" and (word in _SHORT_LEVELS or word.lower() in _LEVELS)


def _level_ahead(toks: _Tokens, i: int) -> bool:
    """True when one of the three tokens from ``i`` on is a level."""
    return any(toks.has(j) and _kind(toks[j][0], True) == LEVEL for j in range(i, i + 3))


def _after_clock(tok: str) -> bool:
    """``AM``/``PM``, a zone offset (``+00:00``, ``-0500``) or a zone name (``UTC``, ``UTC:``)
    right after a clock."""
    return tok in ("AM", "PM") or bool(_ZONE_OFFSET.match(tok) or _ZONE_NAME.match(tok))


def _named_colon(tok: str) -> bool:
    """A name or a bracketed pid closed by a colon (``[1442]:``, ``app:``), not a clock's."""
    return tok[-1] == ":" and (tok[-2:] == "]:" or not tok[0].isdigit())


def _severity_facility(tok: str) -> bool:
    """``information/ConfigItem:``, ``warning/ApiListener:``: a severity word and a facility
    joined by a slash and closed by a colon, the whole level-and-logger of a line."""
    level, slash, facility = tok[:-1].partition("/")
    return bool(slash and facility) and level.lower() in _LEVELS and "/" not in facility


def _channel_level(tok: str) -> bool:
    """``production.ERROR:``, ``app.INFO:``: a channel name, a dot, an upper-case level."""
    channel, dot, level = tok[:-1].rpartition(".")
    return bool(dot and channel) and level.isupper() and level.lower() in _LEVELS


def _logged_level(toks: _Tokens, i: int) -> bool:
    """True when token ``i`` is a logger name with its colon and a bracketed level follows."""
    return (
        toks.has(i + 2)
        and _is_logger(toks[i][0])
        and toks[i + 1][0][0] == "["
        and _kind(toks[i + 1][0], True) == LEVEL
    )


def _program_level(line: str, toks: _Tokens, i: int, end: int) -> int:
    """After a syslog program field ending at ``end``: a level in angle or square brackets and a
    bracketed time after it are header too (a daemon writing its own level and time through
    syslog, ``NetworkManager[1123]: <info>  [1764410401.1234] msg``); so is a bracketed time
    alone (the kernel's ``kernel: [845120.334512] msg``), a facility tag (``%SYS-5-X:``) and a
    source location with its colon (``snapd[912]: daemon.go:247: msg``); a level and a
    ``function:line`` each closed by a spaced colon (``2211: error : virFoo:12 : msg``)."""
    start = _skip_space(line, end)
    if toks.has(i + 1) and toks[i][0][-1:] == ":" and _CODE_LOCATION.match(toks[i][0]):
        # "<syslog> snapd[912]: daemon.go:247: msg": a program's own source location closed by
        # a colon right after the program is header, as it is after a time (Go's Lshortfile)
        return _skip_space(line, toks[i][1])
    if toks.has(i + 2) and toks[i + 1][0] == ":" and toks[i][0].lower() in _LEVELS:
        # "<time>: 2211: error : virNetSocketReadWire:1791 : msg": a level and a function with
        # its line, each closed by a spaced colon, after a thread id are header
        end = toks[i + 1][1]
        if toks.has(i + 3) and toks[i + 3][0] == ":" and _FUNCTION_LINE.match(toks[i + 2][0]):
            end = toks[i + 3][1]
        return _skip_space(line, end)
    stamped = _own_stamp(toks, i)
    if stamped:
        # "<syslog> nomad[2211]:     <time> [INFO]  client.gc: msg": a daemon's own time and
        # level after the program (hclog, log4j through the journal) are header, and what
        # follows the level is read as after any level (a padded logger, a dash)
        return _after_level(line, toks, stamped, toks[stamped - 1][1])
    if line[start : start + 1] not in ("<", "[", "%") or not toks.has(i + 1):
        return start
    tok, tok_end = toks[i]
    if tok[0] == "%" and _FACILITY.match(tok):
        return _skip_space(line, tok_end)  # "<time> UTC: %LINK-3-UPDOWN: msg" (see _FACILITY)
    if tok[0] == "[" and _kind(tok, True) == TIME:
        # "<syslog> kernel: [845120.334512] msg": the kernel's own uptime stamp after the
        # program is header, as it is opening a dmesg line
        return _skip_space(line, tok_end)
    if tok[0] not in "<[" or tok[-1] not in ">]" or tok[1:-1].strip().lower() not in _LEVELS:
        return _skip_space(line, end)
    nxt, nxt_end = toks[i + 1]
    if nxt[0] == "[" and toks.has(i + 2) and _kind(nxt, True) == TIME:
        return _skip_space(line, nxt_end)
    return _skip_space(line, tok_end)


def _own_stamp(toks: _Tokens, i: int) -> int:
    """The index after a level when tokens from ``i`` are one or two unbracketed time tokens and
    a level with a message after it (a program's own stamp written through syslog); else 0."""
    j = i
    while j < i + 2 and toks.has(j) and toks[j][0][0].isdigit() and _kind(toks[j][0], True) == TIME:
        j += 1
    if j == i or not toks.has(j + 1) or _kind(toks[j][0], True) != LEVEL:
        return 0
    return j + 1


def _pid_field(fields: list[tuple[str, str]]) -> bool:
    """True when a header field is a ``[pid N]`` process field and none is a host."""
    return any(k == "Field" and _PROCESS_BRACKET.match(v) for k, v in fields) and not any(
        k == "Host" for k, _ in fields
    )


def _after_process(line: str, toks: _Tokens, time_end: int) -> int:
    """Where the message starts after the time ending at ``time_end`` and the ``[pid N]``
    process fields right after it."""
    end, j = time_end, 0
    while toks.has(j) and toks[j][1] <= time_end:
        j += 1
    while toks.has(j) and _PROCESS_BRACKET.match(toks[j][0]):
        end, j = toks[j][1], j + 1
    return _skip_space(line, end)


def _after_bare_time(toks: _Tokens, i: int, fields: list[tuple[str, str]]) -> bool:
    """True when token ``i`` directly follows the line's date and time, unbracketed (a pid in
    brackets, ``UTC [18231] LOG:``, is a header field the tag may follow)."""
    if len(fields) >= 2 and fields[-1] == ("Field", "-") and fields[-2][0] in ("Time", "Number"):
        return True  # "<ctime> - SIGPIPE: msg": a dash between the time and the tag
    return (
        i > 0
        and bool(fields)
        and fields[-1][0] in ("Time", "Number")
        and not toks[i - 1][0].startswith("[")
    )


def _between_dashes(toks: _Tokens, i: int, kind: int) -> bool:
    """A name between two ``-`` fields (Python's ``%(asctime)s - %(name)s - %(levelname)s``)."""
    return (
        kind == OTHER
        and i > 0
        and toks[i - 1][0] == "-"
        and toks.has(i + 1)
        and toks[i + 1][0] == "-"
        and _FIELD.match(toks[i][0]) is not None
    )


def _piped(line: str) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """``time|component|pid|message``: fields up to the pid after a component."""
    head = line[:200]
    bar = head.find("|")
    if bar <= 0 or not all(_TIME.match(p) for p in head[:bar].split(" ", 1)):
        return None  # "<time>|", "<date> <clock>|": a date and a clock may open the record
    parts = line.split("|", 4)
    fields = [("Time", parts[0])]
    pos = bar + 1
    named = False
    for part in parts[1:-1]:
        if not _FIELD.match(part.strip()):
            break  # a field padded to its column ("|  main|") is the field
        fields.append(("Number" if part.isdigit() else "Component", part.strip()))
        pos += len(part) + 1
        if part.isdigit() and named:
            break
        named = named or not part.isdigit()
    return pos, tuple(fields)
