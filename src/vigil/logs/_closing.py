"""Header fields that close a header already found: read after the other rules have cut.

Called by :func:`vigil.logs._detect.detect_header` with the end and the fields its rules found;
returns them extended when the message still opens with one of three general constructs, or
unchanged:

- a date and a clock joined by one or two dashes, then a dash and a level in angle brackets (any
  word: a message class) or square brackets closed by a dash (``29/11/2026 -- 10:00:01 - <Info> -
  msg``: Suricata's ``%t - <%d> -``; Gin and Echo print the date and the clock around a lone dash,
  ``2026/12/01 - 10:00:00``), when the rules cut the date alone;
- a logger's name (words, a space allowed) glued to an upper-case level by colons after the time
  and a dash (Python logging's ``%(asctime)s - %(name)s:%(levelname)s: ...``: LiteLLM's
  ``10:00:01 - LiteLLM Router:INFO: msg``);
- a source location closed by a lone dash after a level or a logger (Python's ``%(filename)s:
  %(lineno)d - %(message)s`` after ``%(levelname)s``, seastar's ``logger - file.cc:42 - msg``:
  Redpanda, ScyllaDB): the writer's place, header as a bracketed ``[file.py:42]`` is.
"""

from __future__ import annotations

import re

from vigil.logs._headerwords import LEVEL_WORDS

Fields = tuple[tuple[str, str], ...]

_DASHED_CLOCK = re.compile(
    r"--? +(\d\d?:\d\d:\d\d(?:[.,]\d+)?)( +- +)(?:([<\[])([A-Za-z]{3,11})[>\]] +- +)?(?=\S)"
)
"""The clock after a date and one or two dashes, a dash, and a bracketed level with its dash."""
_NAMED_LEVEL = re.compile(r"((?:[A-Za-z][\w.\-]* ){0,2}[A-Za-z][\w.\-]*):([A-Z]{4,11}): +(?=\S)")
"""A logger's name, up to three words, glued to an upper-case level by colons."""
_DASHED_LOCATION = re.compile(r"([\w./\-]*[A-Za-z_][\w\-]*\.[A-Za-z]\w{0,5}:\d+) +- +(?=\S)")
"""A source file and its line closed by a lone dash: ``router.py:614 - ``, ``raft.cc:42 - ``."""
_DATE = re.compile(r"^\d{1,4}[/.\-]\d\d?[/.\-]\d{1,4}$")


def closing_fields(line: str, end: int, fields: Fields) -> tuple[int, Fields]:
    """``(end, fields)`` past the closing constructs the module names, or as given."""
    if end <= 1 or end >= len(line) or "- " not in line[end - 2 : end + 160]:
        return end, fields  # each construct has a lone dash, before the cut or after
    names = [name for name, _ in fields]
    if names == ["Time"] and _DATE.match(fields[0][1]):
        clock = _DASHED_CLOCK.match(line, end)
        if clock is None:
            return end, fields
        more: Fields = (("Time", clock.group(1)),)
        if clock.group(3) is not None and (clock.group(3) == "<" or _is_level(clock.group(4))):
            # "<Perf>", "<Config>": a class in angle brackets where the level stands is the
            # line's level (as "<RMT>" after a time); a square bracket holds a level word
            return clock.end(), (*fields, *more, ("Level", clock.group(4)))
        return clock.end(2), (*fields, *more)
    if "Level" not in names and "Time" in names and line[end - 2 : end] == "- ":
        named = _NAMED_LEVEL.match(line, end)
        if named is not None and _is_level(named.group(2)):
            end = named.end()
            fields = (*fields, ("Component", named.group(1)), ("Level", named.group(2)))
            names += ["Component", "Level"]
    if "Level" in names and line[end - 1 : end] == " " and ":" in line[end : end + 80]:
        located = _DASHED_LOCATION.match(line, end)
        if located is not None:
            return located.end(), (*fields, ("Source", located.group(1)))
    return end, fields


def _is_level(word: str) -> bool:
    return word.lower() in LEVEL_WORDS
