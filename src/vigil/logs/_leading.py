"""The token rules of header detection: the leading tokens of a raw line, read one by one.

Called by :func:`vigil.logs._detect.detect_header` (as :func:`detect_tokens`) for every line that
no whole-line layout (piped, RFC 5424, logfmt, the layouts of :mod:`vigil.logs._layouts`,
:mod:`vigil.logs._glued` and :mod:`vigil.logs._records`) claimed. It walks the tokens while they
are header kinds (times, numbers, node names, brackets, dashes, upper-case tags; the kind of each
is told by :mod:`vigil.logs._kinds`) and stops at the token that closes the header: a level (what
follows it is read by :mod:`vigil.logs._afterlevel`), a syslog program (what follows it is read by
:mod:`vigil.logs._program`), a separator, a source location or a writer's name. The rules, with
an example line each, are listed in :mod:`vigil.logs._detect`'s docstring and commented at each
test in :func:`detect_tokens`.
"""

from __future__ import annotations

import re

from vigil.logs._afterlevel import Tokens, after_level, is_logger, skip_space, source_end
from vigil.logs._aftertime import (
    Found,
    module_after_bracket,
    source_after_time,
    tabbed_source_level,
)
from vigil.logs._bracketsource import bracketed_source
from vigil.logs._glued import located_program
from vigil.logs._headerwords import (
    ANGLE_PID,
    CODE_LOCATION,
    COUNTED,
    FIELD_TOKEN,
    LEVEL_WORDS,
    SHORT_LEVELS,
    SOURCE_LOCATION,
    TIME_TOKEN,
    ZONE_NAME,
    ZONE_OFFSET,
)
from vigil.logs._kinds import (
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
    is_level_colon,
    is_program,
    token_kind,
)
from vigil.logs._layouts import process_prefix
from vigil.logs._program import program_level

MAX_HEADER_TOKENS = 14
"""Headers seen in the wild have at most about ten tokens (BGL has nine)."""
_THREAD_PRIORITY = re.compile(r"\S+ +(?:0x)?(?=[0-9a-f]*[a-f])[0-9a-f]{8,16} +-?\d{1,2} +(?=\S)")
"""A time, a hexadecimal thread id and a small signed priority (the ``dout`` layout of C++
daemons: ``<time> 7f3a2b4c5700 -1 msg``): all three are header."""
_EPOCH_HEAD = re.compile(r"\d+ (?:[a-z][\w.\-]* ){1,4}\d{10} \d{1,3} +(?=\S)")
"""A record number, up to four lower-case identifier fields, a Unix time in seconds (ten digits,
whichever: the shape cache needs rules blind to digit values) and a small flag: the header
of cluster event logs; the message starts after it."""
_CLIENT = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)? ")
_ELOG_LEVEL = re.compile(
    r"\S[^\t]{0,100}? (LOG|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION|ERROR|WARNING|NOTICE|"
    r"INFO|FATAL|PANIC|DEBUG[1-5]?):  (?=\S)"
)
"""PostgreSQL's ``elog`` level, upper case, its colon and two spaces (``LOG:  msg``,
``DETAIL:  msg``), after a time and whatever ``log_line_prefix`` writes before it (pgpool-II's
``<time>: main pid 2211: LOG:  msg``, ``<time> [4821]: [3-1] user=bob,db=app LOG:  msg``):
everything before the level is the prefix, header."""
_SEPARATORS = frozenset(["->", "--", "-->", "=>", ">>", "|"])
"""An arrow, a double dash or a bar after the header fields ends the header (``0x02 -> msg``,
``[GIN] <date> - <time> | 200 | ...``: a bar-separated record whose first field is the time)."""
_ARROWS = frozenset(["->", "-->", "=>"])
"""An arrow right after the time, no other field between (ClamAV's ``<ctime> -> msg``), ends the
header: the writer's own separator; after an id it is the message's (Exim's ``=>``)."""
_REQUEST_ID = re.compile(r"(?:-{3,}|[0-9a-f]{8,32})(?= +\S)")
"""A request id, or the dashes written when there is none, after an Erlang process id."""
_ADDRESS = re.compile(r"^(?:[\w.\-@]+/)?\d{1,3}(?:\.\d{1,3}){3}(:\d+)?$")
"""An IPv4 address, with its port or not (``10.0.0.7:5100``, ``alice/10.0.0.7:5100``). With a
port, after the time, it is the message's first value (the peer a server logs about): a header
names its own host without a port. Without one, it is a syslog host only when a program
follows it; otherwise it is a record's field (access logs)."""
_SHOUTED = re.compile(r"^[A-Z][A-Z0-9_]+:$")
"""An upper-case tag with a colon (``MULTI:``, ``TLS:``) right after the time, with no host
before it: a subsystem prefix of the message, not a syslog program (which follows a host and
is written in lower case)."""
_MODULE_LEVEL = re.compile(r"^\[[\w.\-]+:[a-z]+\]$")
"""A module and its level in one bracket (Apache 2.4's ``[core:error]``, ``[ssl:warn]``)."""
_PROCESS_BRACKET = re.compile(r"^\[pid \d+(?::tid \d+)?\]$")
"""Apache 2.4's process field, ``[pid 1234:tid 140234]``, ``[pid 1234]``."""
_PAREN_CODE = re.compile(r"^\([A-Z?!*=+\-]{2}\)$")
"""A two-character message-type code in parentheses (``(II)`` information, ``(WW)`` warning,
``(EE)`` error, ``(--)`` probed, ``(**)`` from the configuration): a level written as a code."""
_CODE_FUNCTION = re.compile(CODE_LOCATION.pattern[:-1] + r"[\w.*]+\(\)$")
"""A source file with its line and its function (``cmd/web.go:242:runWeb()``): after the time
and before a bracketed level (``<time> cmd/web.go:242:runWeb() [I] msg``) it is header."""
_NAMED_ARROW = re.compile(r"[A-Za-z][\w\-.]* \[[^\[\]]+\] +>> +(?=\S)")
"""A thread name and a bracketed component closed by ``>>`` after the time (``<time> Worker4
[Messaging (RPC)] >> msg``): the writer's identity, header like a logger."""
_CLOSING_LOCATION = re.compile(r"\w\.\w+:\d+\]:?$")
"""A source location closing a bracket, ``socket.cpp:663]``."""
_CLOCK = re.compile(r"\d\d:\d\d:\d\d[^\]]* [^\]]*[A-Za-z][^\]\s]*\]$")
"""A clock inside a level's bracket and a name closing it (``[W <date> <clock> App]``,
``[<time>: INFO/MainProcess]``): the bracket holds the time, the level and the logger, the
whole header (a bracket closed by numbers, a pid and a thread, may have a logger after it)."""
_THREAD_TAG = re.compile(r"^\d{1,3}\[[A-Z]{2,8}\]$")
"""A thread number glued to a bracketed upper-case subsystem tag (``07[IKE]``, ``00[DMN]``)."""
_WORD = re.compile(r"^[A-Z][a-z]+$")
"""A capitalised word: a sentence's first, not a component's name."""
_NUMERIC_ID = re.compile(r"^(?:[\d.]{4,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$")
"""A pid, an IPv4 address or a UUID: an id, never a word."""


def detect_tokens(line: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """:func:`detect_header` for a line that is not piped, RFC 5424 or logfmt."""
    if line[:1].isdigit():
        elog = _ELOG_LEVEL.match(line) if ":  " in line[:160] else None
        if elog is not None and TIME_TOKEN.match(line[: line.index(" ")].rstrip(":")):
            # "<time>: main pid 2211: LOG:  msg": PostgreSQL's level closes its log_line_prefix
            return elog.end(), (("Level", elog.group(1)),)
        dout = _THREAD_PRIORITY.match(line)
        if dout is not None and TIME_TOKEN.match(line[: line.index(" ")]):
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
    toks = Tokens(line)
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
        kind = token_kind(tok, numbers)
        if tok[0] in "+-APUGZECM" and kind != TIME and fields and fields[-1][0] == "Time":
            if _after_clock(tok):
                kind = TIME  # "10:00:01 AM", "10:00:01.1 +00:00", "UTC:": half or zone
        elif i == 0 and kind == PROGRAM and COUNTED.match(tok) and toks.has(1):
            if token_kind(toks[1][0], True) in (TIME, NAME):
                # "001203: Nov 29 10:14:02.331 UTC: ...": a sequence number before the date (a
                # numbered item of the message when no date follows, "28: Client ...")
                kind = NUMBER
        elif (
            tabbed
            and timed
            and kind != LEVEL
            and line.startswith("\t", end)
            and tok.lower() in LEVEL_WORDS
        ):
            kind = LEVEL  # "<time>\tinfo\tserver/main.go:42\tmsg": a tab-separated level column
        if i == 0 and tok[:1].isupper() and is_level_colon(tok):
            # a level word with its colon opening a line with no time ("Notice: msg", "Error:
            # msg": configuration tools, Python's "WARNING:root:"): the level is the header
            kind = LEVEL
        elif (
            kind == LEVEL
            and tok[-1] == ":"
            and i > 0
            and token_kind(toks[i - 1][0], numbers) == CAPS
            and fields[-1:] != [("Time", toks[i - 1][0])]  # "10:00:01 AM INFO: msg"
        ):
            # "SERVICE ALERT: ...", "HOST ALERT: ...": a level word with a colon after a
            # capitalised word ends a phrase of the message, not a header's level
            break
        if kind == LEVEL and i == 0 and tok[-1] != ":" and _timed_after(toks):
            # "INFO      Nov 29 10:02:14.118 [2211]: msg" (Tinyproxy), "[info] <time> node@host
            # <0.248.0> -------- msg" (CouchDB): a level opening the line, a time after it and
            # nothing the layouts after a level know (glog's "I1129 <time> 42 file.go:12]",
            # "INFO 11-29 <time> file.py:4]", "[INFO] <time> - msg"): the rest is read as a line
            # of its own, its header the header after the level
            start = skip_space(line, end)
            if after_level(line, toks, 1, end) == start:
                rest, rest_fields = detect_tokens(line[start:])
                if rest:
                    return _past_request_id(line, start + rest), (("Level", tok), *rest_fields)
        if kind == LEVEL:
            fields.append(("Level", tok))
            if i > 1 and timed and _named_colon(toks[i - 1][0]) and toks.has(i + 1):
                # "<time> fail2ban.filter [1442]: INFO    maxLines: 1": the writer's name closed
                # by a colon came before the level; what follows the level is the message's
                return skip_space(line, end), tuple(fields)
            if tok[0] == "[" and _MODULE_LEVEL.match(tok):
                # Apache 2.4's "[core:error] [pid 12:tid 34] [client ...] msg": the module's
                # level and the process brackets are header, the client is the message's
                while toks.has(i + 2) and _PROCESS_BRACKET.match(toks[i + 1][0]):
                    i, end = i + 1, toks[i + 1][1]
                return skip_space(line, end), tuple(fields)
            if tok[0] == "[" and (_CLOSING_LOCATION.search(tok) or _CLOCK.search(tok)):
                # "[W1129 10:00:01.5 socket.cpp:663] [c10d] msg", "[W <time> Restarter] Name:
                # msg": a bracket holding the level, the time and the source location or the
                # logger is the whole header; brackets and names after it are the message's
                return skip_space(line, end), tuple(fields)
            return after_level(line, toks, i + 1, end), tuple(fields)
        if timed and kind in (PROGRAM, NODE) and toks.has(i + 1):
            tagged = _severity_facility(tok) if kind == PROGRAM else _THREAD_TAG.match(tok)
            if tagged:
                # "[<time>] information/ApiListener: msg" (a severity and a facility joined by a
                # slash), "<time> 07[IKE] msg" (a thread number glued to its subsystem tag)
                fields.append(("Component", tok.rstrip(":")))
                return skip_space(line, end), tuple(fields)
        if kind == PROGRAM and bracketed and _channel_level(tok) and toks.has(i + 1):
            # Monolog's "[<time>] production.ERROR: msg": a channel and a level joined by a dot
            fields.append(("Level", tok.rstrip(":")))
            return skip_space(line, end), tuple(fields)
        if kind == PROGRAM and bracketed and _logged_level(toks, i):
            # "[<time>] pkg.module: [INFO] msg" (Python's "[%(asctime)s] %(name)s:
            # [%(levelname)s] %(message)s"): the logger and the bracketed level after the
            # bracketed time are header; nothing else is (the message may open with brackets)
            fields += [("Component", tok.rstrip(":")), ("Level", toks[i + 1][0])]
            return skip_space(line, toks[i + 1][1]), tuple(fields)
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
            if fields[-2][0] == "Time" and toks.has(i + 1) and is_level_colon(toks[i + 1][0]):
                # "<date> <time> queries: info: msg": a category and its severity right after
                # the time (no host between, so not syslog's "host sshd[1]: error: ...")
                fields.append(("Level", toks[i + 1][0].rstrip(":")))
                return skip_space(line, toks[i + 1][1]), tuple(fields)
            return program_level(line, toks, i + 1, end), tuple(fields)
        if timed and tok == "|" and toks.has(i + 2) and token_kind(toks[i + 1][0], True) == LEVEL:
            # loguru's "<time> | INFO     | app.main:run:42 - msg": the level between bars
            fields.append(("Level", toks[i + 1][0]))
            return after_level(line, toks, i + 2, toks[i + 1][1]), tuple(fields)
        if (
            timed
            and tok in _SEPARATORS
            and (tok == "|" or _bracketed_field(fields) or _right_after(toks, i, time_end))
        ):
            # "<time> 770112 [58EF115D] 0x02 -> msg": an arrow closes header fields, and right
            # after the time (ClamAV's "<ctime> -> msg", a "word:" after it the message's own);
            # after a bare id ("<time> 1tGx4M-000DkJ-3q => bob@x R=local") it is the message's
            return skip_space(line, end), tuple(fields)
        if address is not None and not (toks.has(i + 1) and is_program(toks[i + 1][0])):
            # "<time> 35237 10.0.1.157 TCP_MISS/200 ...", "<date> <time> 10.0.0.4 GET /x ...": an
            # address after the time with no program after it is a record's field (client,
            # server), not a syslog host; the record starts after the time itself
            return skip_space(line, clock_end), tuple(f for f in fields if f[0] == "Time")
        located = None
        if timed and tok[0] == "[" and time_end == toks[i - 1][1]:
            located = bracketed_source(line, toks, i)
        if located is not None:
            # "[<time>] [oauthproxy.go:967] msg": a bracketed source location after the time
            return located[0], (*fields, *located[1])
        if timed and kind == NODE and tok[-1] == ":" and SOURCE_LOCATION.match(tok):
            # Go's log package with Lshortfile, "2026/11/29 10:00:01 worker.go:203: msg": a
            # source location closed by its colon right after the time ends the header
            fields.append(("Source", tok[:-1]))
            return skip_space(line, end), tuple(fields)
        if kind in (TIME, NAME):
            clock_end = end
        if kind in (TIME, NAME, NUMBER):
            timed = timed or kind != NUMBER
            numbers = True
            if leading_time or kind == TIME:
                time_end = end  # "[rank0]:[2026-11-29 10:01:00] msg": a time after a field
            fields.append(("Time" if kind != NUMBER else "Number", tok))
            continue
        if timed and i > 0 and time_end and (tabbed or tok[0] == "(" or toks[i - 1][0][-1] == "]"):
            after = _after_time(line, toks, i, time_end, kind)
            if after is not None:
                return after[0], (*fields, *after[1])
        if timed and tok in ("stdout", "stderr") and toks.has(i + 1) and toks[i + 1][0] in "FP":
            return skip_space(line, toks[i + 1][1]), tuple(fields)  # CRI: "<time> stdout F msg"
        if _between_dashes(toks, i, kind):
            fields.append(("Component", tok))  # Python: "<time> - app.db - INFO - msg"
            continue
        if tok[0] == "(" and i > 0 and time_end == toks[i - 1][1] and _PAREN_CODE.match(tok):
            # "[    22.989] (II) msg", "(WW)", "(EE)", "(--)": a two-character message-type code
            # in parentheses right after the time is the line's level
            fields.append(("Level", tok))
            return skip_space(line, end), tuple(fields)
        if time_end == toks[i - 1][1] and i > 0 and tok in ("*", "#", "."):
            time_end = end  # Redis: "1:M 29 Nov 2026 10:00:01.123 * msg", a level as a symbol
            break
        if timed and i > 0 and kind in (OTHER, NODE) and time_end == toks[i - 1][1]:
            dashed = _dashed_fields(line, toks, i) if "--" in line else 0
            if dashed:
                # "<time> controller 48300 -- proxy_state.py:448 - msg" (Ray Serve's "%(levelname)s
                # %(asctime)s %(component)s %(id)s -- %(message)s"): a name and its ids closed by
                # a lone double dash are the writer's identity, a source location after it too
                return dashed, (*fields, ("Component", tok))
            if _named_level(toks, i):
                # "<time> 1 kserve INFO [storage.py:download():66] msg", "[<time>] LMCache INFO:
                # msg" (Python's "%(asctime)s %(process)d %(name)s %(levelname)s ..."): a logger's
                # name right before an upper-case level is header; the level reads what follows
                fields.append(("Component", tok))
                continue
        leading_time = False
        if timed and tok[-1] == "|" and len(tok) > 1 and FIELD_TOKEN.match(tok[:-1]):
            # "<date> <time> kid1| msg": a worker tag closed by a bar after the time ends the
            # header (a bar-separated field, as in "<time>|component|msg")
            fields.append(("Component", tok[:-1]))
            return skip_space(line, end), tuple(fields)
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
            return skip_space(line, toks[i + 1][1]), tuple(fields)
        if timed and kind == OTHER and tok[-1] != ":" and toks.has(i + 2):
            arrow = _NAMED_ARROW.match(line, end - len(tok))
            if arrow is not None:
                fields.append(("Component", line[end - len(tok) : arrow.end()].rstrip(" >")))
                return arrow.end(), tuple(fields)
        if (
            timed
            and kind in (OTHER, NODE)
            and (tok[-1] == "]" or line.startswith("[", skip_space(line, end)))
        ):
            located = located_program(line, end - len(tok), LEVEL_WORDS)
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
            and is_program(toks[i + 1][0])
        ):
            fields.append(("Host", tok))  # syslog: "<time> host program[pid]: message"
            continue
        break
    if time_end and timed:
        start = skip_space(line, time_end)
        if line.startswith("- ", start) and toks.has(i) and toks[i][1] > start + 1:
            start = skip_space(line, start + 1)  # "<ctime> - msg": a dash after the time
        return start, tuple(f for f in fields if f[0] in ("Time", "Number"))
    if bracketed:
        known = process_prefix(line)  # "[node07:48213] msg", "[n3][[3152,1],6][tcp.c:626:f] msg"
        if known is not None:
            return known
    return 0, ()


def _after_time(line: str, toks: Tokens, i: int, time_end: int, kind: int) -> Found:
    """The layouts of :mod:`vigil.logs._aftertime` at token ``i``, read after a time."""
    if kind == NODE:
        return source_after_time(line, toks, i, time_end) or tabbed_source_level(
            line, toks, i, time_end
        )
    if kind == OTHER:
        return module_after_bracket(line, toks, i, time_end) or tabbed_source_level(
            line, toks, i, time_end
        )
    return None


def _dashed_fields(line: str, toks: Tokens, i: int) -> int:
    """The header end when token ``i`` (right after the time) opens a name and one or two ids
    closed by a lone ``--`` and more text: a numeric id (a pid, an address, a request's UUID) or
    a source location right after the ``--`` (``replica.py:12 -``, header too) tells the fields
    from a message's words (``copied file1 file2 -- ok``); a capitalised name is a sentence's
    first word (``Step 3021 -- done``). 0 when the line has no such fields."""
    name = toks[i][0]
    if not FIELD_TOKEN.match(name) or _WORD.match(name):
        return 0
    ids = False
    for j in range(i + 1, i + 4):
        if not toks.has(j + 1):
            return 0
        tok = toks[j][0]
        if tok == "--" and j > i + 1:
            located = source_end(line, toks, j + 1)
            return located or (skip_space(line, toks[j][1]) if ids else 0)
        if not FIELD_TOKEN.match(tok):
            return 0
        ids = ids or _NUMERIC_ID.match(tok) is not None
    return 0


def _named_level(toks: Tokens, i: int) -> bool:
    """True when token ``i`` is a name (not a capitalised word, ``Disk ERROR: full``) and an
    upper-case level word follows it, bare or with its colon, then more text."""
    if not toks.has(i + 2) or not toks[i + 1][0].isupper():
        return False
    name, level = toks[i][0], toks[i + 1][0]
    return (
        level.rstrip(":").lower() in LEVEL_WORDS
        and bool(FIELD_TOKEN.match(name))
        and not _WORD.match(name)
    )


def _right_after(toks: Tokens, i: int, time_end: int) -> bool:
    """True when token ``i`` is an arrow right after the time (no field between) and more
    follows it."""
    return (
        toks[i][0] in _ARROWS
        and toks[i - 1][1] == time_end
        and token_kind(toks[i - 1][0], True) in (TIME, NAME, NUMBER)
        and toks.has(i + 1)
    )


def _timed_after(toks: Tokens) -> bool:
    """True when the token after the first (a level) is a date or a time and more follows."""
    return toks.has(2) and token_kind(toks[1][0], True) in (TIME, NAME)


def _past_request_id(line: str, cut: int) -> int:
    """``cut``, or past the request id after it when the header ends with an Erlang process id
    (CouchDB's ``<0.4821.0> 8a1b2c3d4e msg``, ``--------`` when there is no request)."""
    pid = line.rfind(" ", 0, cut - 1) + 1
    if not ANGLE_PID.match(line[pid:cut].rstrip()):
        return cut
    rid = _REQUEST_ID.match(line, cut)
    return skip_space(line, rid.end()) if rid is not None else cut


def _bracketed_field(fields: list[tuple[str, str]]) -> bool:
    """True when one of the header fields found so far is in brackets."""
    return any(value[:1] == "[" for _, value in fields)


def _bracketed_level(tok: str) -> bool:
    """``[I]``, ``[W]``, ``[info]``: a level letter or word in brackets."""
    word = tok[1:-1]
    return (
        tok[:1] == "[" and tok[-1:] == "]" and (word in SHORT_LEVELS or word.lower() in LEVEL_WORDS)
    )


def _level_ahead(toks: Tokens, i: int) -> bool:
    """True when one of the three tokens from ``i`` on is a level."""
    return any(toks.has(j) and token_kind(toks[j][0], True) == LEVEL for j in range(i, i + 3))


def _after_clock(tok: str) -> bool:
    """``AM``/``PM``, a zone offset (``+00:00``, ``-0500``) or a zone name (``UTC``, ``UTC:``)
    right after a clock."""
    return tok in ("AM", "PM") or bool(ZONE_OFFSET.match(tok) or ZONE_NAME.match(tok))


def _named_colon(tok: str) -> bool:
    """A name or a bracketed pid closed by a colon (``[1442]:``, ``app:``), not a clock's."""
    return tok[-1] == ":" and (tok[-2:] == "]:" or not tok[0].isdigit())


def _severity_facility(tok: str) -> bool:
    """``information/ConfigItem:``, ``warning/ApiListener:``: a severity word and a facility
    joined by a slash and closed by a colon, the whole level-and-logger of a line."""
    level, slash, facility = tok[:-1].partition("/")
    return bool(slash and facility) and level.lower() in LEVEL_WORDS and "/" not in facility


def _channel_level(tok: str) -> bool:
    """``production.ERROR:``, ``app.INFO:``: a channel name, a dot, an upper-case level."""
    channel, dot, level = tok[:-1].rpartition(".")
    return bool(dot and channel) and level.isupper() and level.lower() in LEVEL_WORDS


def _logged_level(toks: Tokens, i: int) -> bool:
    """True when token ``i`` is a logger name with its colon and a bracketed level follows."""
    return (
        toks.has(i + 2)
        and is_logger(toks[i][0])
        and toks[i + 1][0][0] == "["
        and token_kind(toks[i + 1][0], True) == LEVEL
    )


def _pid_field(fields: list[tuple[str, str]]) -> bool:
    """True when a header field is a ``[pid N]`` process field and none is a host."""
    return any(k == "Field" and _PROCESS_BRACKET.match(v) for k, v in fields) and not any(
        k == "Host" for k, _ in fields
    )


def _after_process(line: str, toks: Tokens, time_end: int) -> int:
    """Where the message starts after the time ending at ``time_end`` and the ``[pid N]``
    process fields right after it."""
    end, j = time_end, 0
    while toks.has(j) and toks[j][1] <= time_end:
        j += 1
    while toks.has(j) and _PROCESS_BRACKET.match(toks[j][0]):
        end, j = toks[j][1], j + 1
    return skip_space(line, end)


def _after_bare_time(toks: Tokens, i: int, fields: list[tuple[str, str]]) -> bool:
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


def _between_dashes(toks: Tokens, i: int, kind: int) -> bool:
    """A name between two ``-`` fields (Python's ``%(asctime)s - %(name)s - %(levelname)s``)."""
    return (
        kind == OTHER
        and i > 0
        and toks[i - 1][0] == "-"
        and toks.has(i + 1)
        and toks[i + 1][0] == "-"
        and FIELD_TOKEN.match(toks[i][0]) is not None
    )
