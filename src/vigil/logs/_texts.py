"""Texts of several words that are one value: a key's quoted text, a reason, a command.

Called by :mod:`vigil.logs._miner` (:func:`split_words`, for every line it masks word by word)
and, on the miner's slow path, by :mod:`vigil.logs._cluster` and :mod:`vigil.logs._tokens`
(``reason_span``, ``quoted_span``). Pure string functions, no state. Split from
:mod:`vigil.logs._tokens`, which masks the words these join.

A program that prints a text it got from elsewhere (an error, a reason, a user agent, a
command) inside its own frame prints as many words as that text has; the miner compares lines
word by word and buckets them by word count, so each text would make a template of its own.
Where the frame says where the text starts and ends, the text is joined into one word (its
spaces kept as :data:`SPACE`) and compared as one value: a key's double-quoted value after the
message's first word (``error="failed to query data: EOF"``), a reason clause (``Wake reason:
RTC (Alarm)``) and cron's command in parentheses after ``CMD``."""

from __future__ import annotations

import re

SPACE = "\ue000"
"""Stands for a space inside a quoted value joined into one word (:func:`split_words`)."""
_QUOTED = re.compile(r'(?<=[\s,])[\w.\-]+="(?:[^"\\]|\\.)*"')
_SPAN_WORD = re.compile(r'^[\w.\-]+="[^"]*\ue000.*"[,;:.)\]}]*$')


def split_words(content: str) -> list[str]:
    """``content.split()``, except that a key's double-quoted value of several words after the
    first word is one word (its spaces kept as :data:`SPACE`): ``error="failed to query data:
    EOF"``, ``ua="Mozilla/5.0 (X11; Linux)"``. A key's quoted value is one value however many
    words it holds; the first word (``msg="shim disconnected"``) names the event and stays as
    it is, and so do quoted strings with no key (a request line, ``"GET /a HTTP/1.1"``, whose
    method tells events apart)."""
    if SPACE in content:
        return content.split()
    if '="' not in content:
        words = content.split()
        return _join_reason(words) if "eason:" in content or "CMD (" in content else words
    first = content.lstrip()
    start = len(content) - len(first)
    gap = min((first.find(c) for c in " \t" if c in first), default=-1)
    if gap < 0:
        return content.split()
    start += gap
    pieces, pos = [], 0
    for m in _QUOTED.finditer(content):
        if m.start() < start:
            continue
        text = m.group(0)
        if " " in text or "\t" in text:
            pieces.append(content[pos : m.start()])
            pieces.append(text.replace(" ", SPACE).replace("\t", SPACE))
            pos = m.end()
    if not pieces:
        words = content.split()
    else:
        pieces.append(content[pos:])
        words = "".join(pieces).split()
    return _join_reason(words) if "eason:" in content or "CMD (" in content else words


_REASON = re.compile(r"^[(\[{]?[Rr]eason:$")
_REASON_WORD = re.compile(r"^(?:[(\[{]?[Rr]eason:|CMD)\ue000")
MAX_REASON_WORDS = 12


def _join_reason(words: list[str]) -> list[str]:
    """``words`` with a free-text clause joined into one word (its spaces kept as
    :data:`SPACE`): a reason (``Wake reason: RTC (Alarm)``, ``(reason: Adding new member x with
    id None)``) or a command line in parentheses after ``CMD`` (cron's ``(root) CMD (run-parts
    /etc/cron.hourly)``). A program fills these with free text (an error, a trigger, a command
    and its arguments): one value however many words it has. A reason runs to the end of the
    line, to the bracket closing the one it opened in, or to a comma (``reason: Layer4 check
    passed, check duration: 5ms``); a command to its closing parenthesis. An empty reason
    (``reason: message:``) and a clause longer than :data:`MAX_REASON_WORDS` words are left as
    they are."""
    for i, word in enumerate(words[:-1]):
        if word == "CMD" and words[i + 1][:1] == "(":
            depth, first = 0, i + 1  # the command's own parenthesis opens in the next word
        elif _REASON.match(word) and not words[i + 1].endswith(":"):
            depth, first = 0, i + 1
        else:
            continue
        end = len(words)
        for j in range(first, len(words)):
            w = words[j]
            depth += sum(map(w.count, "([{")) - sum(map(w.count, ")]}"))
            closed = depth <= 0 if word == "CMD" else depth < 0
            if closed or (depth == 0 and w.endswith(",")):
                end = j + 1
                break
        if end - i - 1 > MAX_REASON_WORDS:
            return words
        return [*words[:i], SPACE.join(words[i:end]), *words[end:]]
    return words


def reason_span(word: str) -> bool:
    """True for a word :func:`split_words` joined from a reason or command clause."""
    return _REASON_WORD.match(word) is not None


def quoted_span(word: str) -> bool:
    """True for a word :func:`split_words` joined from a quoted value of several words."""
    return SPACE in word and _SPAN_WORD.match(word) is not None
