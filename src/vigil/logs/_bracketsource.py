"""A bracketed source location right after the time closes the header (``[<time>] [x.go:89] msg``).

Called by :func:`vigil.logs._leading.detect_tokens` for the token that follows a time. Loggers
that print the writing file and line in brackets between the time and the message: oauth2-proxy
(``[2026/12/02 04:10:01] [oauthproxy.go:967] msg``), Python's logging with a
``[%(asctime)s] [%(filename)s:%(lineno)d]`` format, spdlog's ``[%s:%#]`` flag. The location is
the writer's identity, header as Go's unbracketed ``Lshortfile`` (``<time> worker.go:203: msg``)
and a bracketed location with its function (``[x.py:96:fn]``) already are. What follows it is
the message's, a level written as a level (``INFO``, ``WARNING:``, ``[error]``) excepted: a
capitalised word (``Error loading cookied session``) opens the sentence and stays in it.
"""

from __future__ import annotations

import re

from vigil.logs._afterlevel import Tokens, skip_space
from vigil.logs._headerwords import SOURCE_FILE_LINE
from vigil.logs._kinds import LEVEL, token_kind

_BRACKETED_SOURCE = re.compile(rf"^\[({SOURCE_FILE_LINE})\]$")
"""A file with an extension and a line number, alone in brackets (``[proxy.go:89]``)."""
_SENTENCE_WORD = re.compile(r"^[A-Z][a-z]+$")
"""A capitalised word with no colon: the first word of a sentence, not a level."""


def bracketed_source(
    line: str, toks: Tokens, i: int
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """Where the header ends if token ``i`` is a bracketed source location, else ``None``."""
    tok, end = toks[i]
    found = _BRACKETED_SOURCE.match(tok)
    if found is None:
        return None
    fields: tuple[tuple[str, str], ...] = (("Source", found.group(1)),)
    if toks.has(i + 1):
        level, level_end = toks[i + 1]
        if token_kind(level, True) == LEVEL and not _SENTENCE_WORD.match(level):
            fields = (*fields, ("Level", level))
            end = level_end
    return skip_space(line, end), fields
