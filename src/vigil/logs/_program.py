"""What follows a syslog program field (``sshd[42]:``): more header, or the message.

Called by :func:`vigil.logs._leading.detect_tokens` once it has found a line's program token. A
daemon writing through syslog may put its own header after the program: a level in brackets and
a bracketed time (NetworkManager), the kernel's uptime, a facility tag (``%SYS-5-X:``), a source
location with its colon (``daemon.go:247:``), a trace record's prefix (``<...>-1338  [012]
0.001225:``, :mod:`vigil.logs._ftrace`), a level and a ``function:line`` each closed by a
spaced colon (libvirt), or its own time and level (hclog, log4j through the journal), after
which the rest is read as after any level (:mod:`vigil.logs._afterlevel`).
"""

from __future__ import annotations

import re

from vigil.logs._afterlevel import Tokens, after_level, skip_space
from vigil.logs._ftrace import ftrace_end
from vigil.logs._headerwords import CODE_LOCATION, FACILITY, LEVEL_WORDS
from vigil.logs._kinds import LEVEL, TIME, token_kind

_FUNCTION_LINE = re.compile(r"^[A-Za-z_]\w*:\d+$")
"""A function name and a line, ``qemuMonitorIO:578``: a C program's source location."""


def program_level(line: str, toks: Tokens, i: int, end: int) -> int:
    """After a syslog program field ending at ``end``: a level in angle or square brackets and a
    bracketed time after it are header too (a daemon writing its own level and time through
    syslog, ``NetworkManager[1123]: <info>  [1764410401.1234] msg``); so is a bracketed time
    alone (the kernel's ``kernel: [845120.334512] msg``), a facility tag (``%SYS-5-X:``) and a
    source location with its colon (``snapd[912]: daemon.go:247: msg``); a level and a
    ``function:line`` each closed by a spaced colon (``2211: error : virFoo:12 : msg``)."""
    start = skip_space(line, end)
    traced = ftrace_end(line, start) if "] " in line[start : start + 48] else 0
    if traced:
        # "<syslog> rasdaemon[1320]:   <...>-1338  [012]  0.001225: mc_event: msg": a trace
        # record's task, CPU and time relayed by a daemon are header (:mod:`vigil.logs._ftrace`)
        return traced
    if toks.has(i + 1) and toks[i][0][-1:] == ":" and CODE_LOCATION.match(toks[i][0]):
        # "<syslog> snapd[912]: daemon.go:247: msg": a program's own source location closed by
        # a colon right after the program is header, as it is after a time (Go's Lshortfile)
        return skip_space(line, toks[i][1])
    if toks.has(i + 2) and toks[i + 1][0] == ":" and toks[i][0].lower() in LEVEL_WORDS:
        # "<time>: 2211: error : virNetSocketReadWire:1791 : msg": a level and a function with
        # its line, each closed by a spaced colon, after a thread id are header
        end = toks[i + 1][1]
        if toks.has(i + 3) and toks[i + 3][0] == ":" and _FUNCTION_LINE.match(toks[i + 2][0]):
            end = toks[i + 3][1]
        return skip_space(line, end)
    stamped = _own_stamp(toks, i)
    if stamped:
        # "<syslog> nomad[2211]:     <time> [INFO]  client.gc: msg": a daemon's own time and
        # level after the program (hclog, log4j through the journal) are header, and what
        # follows the level is read as after any level (a padded logger, a dash)
        return after_level(line, toks, stamped, toks[stamped - 1][1])
    if line[start : start + 1] not in ("<", "[", "%") or not toks.has(i + 1):
        return start
    tok, tok_end = toks[i]
    if tok[0] == "%" and FACILITY.match(tok):
        return skip_space(line, tok_end)  # "<time> UTC: %LINK-3-UPDOWN: msg" (see FACILITY)
    if tok[0] == "[" and token_kind(tok, True) == TIME:
        # "<syslog> kernel: [845120.334512] msg": the kernel's own uptime stamp after the
        # program is header, as it is opening a dmesg line
        return skip_space(line, tok_end)
    if tok[0] not in "<[" or tok[-1] not in ">]" or tok[1:-1].strip().lower() not in LEVEL_WORDS:
        return skip_space(line, end)
    nxt, nxt_end = toks[i + 1]
    if nxt[0] == "[" and toks.has(i + 2) and token_kind(nxt, True) == TIME:
        return skip_space(line, nxt_end)
    return skip_space(line, tok_end)


def _own_stamp(toks: Tokens, i: int) -> int:
    """The index after a level when tokens from ``i`` are one or two unbracketed time tokens and
    a level with a message after it (a program's own stamp written through syslog); else 0."""
    j = i
    while (
        j < i + 2
        and toks.has(j)
        and toks[j][0][0].isdigit()
        and token_kind(toks[j][0], True) == TIME
    ):
        j += 1
    if j == i or not toks.has(j + 1) or token_kind(toks[j][0], True) != LEVEL:
        return 0
    return j + 1
