"""Header fields right after a line's time that close the header with no level or program.

Called by :func:`vigil.logs._leading.detect_tokens` for each token it reads after a time (``i``
the token, ``time_end`` where the time ended). Each function returns the header's end (after
the spaces that follow it) and the fields it read, or ``None`` when its layout does not fit:

- a source location in parentheses right after the time, ``file.ext.line`` or ``file.ext:line``,
  and a level after it if one follows (lighttpd's ``<time>: (server.c.1513) msg``, ``(mod_x.c.9)
  WARNING: msg``, ``(server.c.2009) [note] msg``);
- a bracket right after the time, then a module name and a lone dash (ScyllaDB's ``<time> [shard
  0:main] storage_service - msg``, log4j's ``%d [%t] %c - %m`` with no level): the bracket, the
  name and the dash;
- a name and a level column each closed by a tab, after the time and a space (Prosody's ``Nov 29
  <time> portmanager<TAB>info<TAB>msg``, its source a module or a session id).
"""

from __future__ import annotations

import re

from vigil.logs._afterlevel import Tokens, skip_space
from vigil.logs._headerwords import LEVEL_WORDS
from vigil.logs._kinds import LEVEL, token_kind

_PAREN_SOURCE = re.compile(r"^\([A-Za-z_][\w\-]*\.[a-z]{1,4}[.:]\d+\)$")
"""A source file with its line in parentheses: ``(gw_backend.c.236)``, ``(server.c:42)``."""
_MODULE = re.compile(r"^[a-z][a-z0-9_]*$")
"""A lower-case module name, underscores allowed: ``init``, ``commitlog_replayer``."""

Found = tuple[int, tuple[tuple[str, str], ...]] | None


def source_after_time(line: str, toks: Tokens, i: int, time_end: int) -> Found:
    """A parenthesised source location right after the time, and a level right after it."""
    tok, end = toks[i]
    if not (toks[i - 1][1] == time_end and toks.has(i + 1) and _PAREN_SOURCE.match(tok)):
        return None
    nxt, nxt_end = toks[i + 1]
    if toks.has(i + 2) and token_kind(nxt, True) == LEVEL:
        return skip_space(line, nxt_end), (("Source", tok), ("Level", nxt.rstrip(":")))
    return skip_space(line, end), (("Source", tok),)


def module_after_bracket(line: str, toks: Tokens, i: int, time_end: int) -> Found:
    """A bracket right after the time, a module name and a lone dash (token ``i`` the name)."""
    if i < 2 or toks[i - 2][1] != time_end or not toks.has(i + 2):
        return None
    bracket, (tok, _), (dash, dash_end) = toks[i - 1][0], toks[i], toks[i + 1]
    if not (bracket[0] == "[" and bracket[-1] == "]" and dash == "-" and _MODULE.match(tok)):
        return None
    return skip_space(line, dash_end), (("Component", tok),)  # the bracket is a field already


def tabbed_source_level(line: str, toks: Tokens, i: int, time_end: int) -> Found:
    """A name closed by a tab after the time and a space, then a level closed by a tab."""
    tok, end = toks[i]
    if not (
        toks[i - 1][1] == time_end
        and line.startswith(" ", time_end)
        and line.startswith("\t", end)
        and toks.has(i + 2)
    ):
        return None
    level, level_end = toks[i + 1]
    if level.lower() not in LEVEL_WORDS or not line.startswith("\t", level_end):
        return None
    return skip_space(line, level_end), (("Component", tok), ("Level", level))
