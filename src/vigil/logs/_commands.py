"""A command line in a message is one value: its options, however many, are not the event's.

Called by :class:`vigil.logs._miner.TemplateMiner` on every line it masks word by word
(:func:`fold_masks`, in place of :func:`vigil.logs._tokens.fold_dates`), before the line is
bucketed by word count. Pure: plain words in, plain words out.

Why: a program that logs its command line or option list prints as many words as it was given
options (pgBackRest's ``backup command begin 2.54.0: --exec-id=... --stanza=main`` with 6 to 10
options, ntpd's ``Command line: /usr/sbin/ntpd -p /var/run/ntpd.pid -g -u 112:117``, a JVM's
``flags: [-Xms1g, -Xmx1g, ...]``). The miner buckets lines by word count, so each count made a
template of its own, and a command seen once kept every option as a constant. The labels of
every development directory that has one (fifteen label groups in eleven directories, none
the other way) write the command, program and arguments, as one ``<*>`` in whatever frames it:
``COMMAND=<*>``, ``cmdline=[<*>]``, ``process "<*>"``, ``(<*>)``, ``Command line: <*>``.

The rule: two or more option words (``-x``, ``--name``, ``--name=value``, ``-XX:+Flag``,
written bare or as a quoted or bracketed item) make the words around them one command:

- inside a frame opened before the first option (a bracket, a brace, a parenthesis, a double
  quote that does not close in its word, maybe after a ``key=``): the frame's inside, up to the
  word that closes it; the frame and its key are kept (``cmdline=[<*>]``, ``"<*>"``);
- otherwise from the word after a label (a word ending in ``:``, a prompt ``$>`` / ``$`` /
  ``#``, an upper-case instruction such as ``RUN``), or from a ``KEY=`` word (its key kept), to
  the end of the line or of the frame the label is in (``arguments: '/bin/x' '-w' '20%')``),
  with at most :data:`MAX_AFTER` words after the last option (its value). Without such a
  label there is no command: the first word names the event, and options in the middle of a
  sentence (``use --force or --check to see``) are the sentence's.
"""

from __future__ import annotations

import re

from vigil.logs._hostlists import HOST_LIST_HINT, fold_host_lists
from vigil.logs._tokens import WILDCARD, fold_dates

MAX_AFTER = 1
"""Words after the last option of a command with no frame of its own: the option's value
(``-u 112:117``, ``-r /app/requirements.txt``). More, and the options are likely a sentence's
(``run with --debug or --trace for details``)."""

_OPTION = re.compile(r"""[\[('"\u2039{]*--?[A-Za-z][\w.:+/-]*(?:=\S*)?""")
_OPTION_HINT = re.compile(r"""(?:^|[\s\['"\u2039(,{])--?[A-Za-z]""")
_KEY = re.compile(r"[A-Za-z_][\w.\-]*=")
_OPEN = {"[": "]", "(": ")", "{": "}"}
_CLOSE = {"]": "[", ")": "(", "}": "{"}
_ITEM_END = ",'\"\u203a])};"
_PROMPTS = frozenset(("$>", "$", "#", ">", ">>>"))


def _is_option(word: str) -> bool:
    m = _OPTION.match(word)
    if m is None:
        return False
    rest = word[m.end() :]
    return all(c in _ITEM_END for c in rest)


def _depth(word: str) -> int:
    """Brackets a word opens (positive) or closes (negative), counted over the word."""
    return sum(map(word.count, "([{")) - sum(map(word.count, ")]}"))


def _frame(word: str) -> tuple[str, str] | None:
    """(what is kept before the command, the closer to find) when ``word`` opens a frame that
    does not close in it: ``cmdline=["/usr/bin/ruby",`` -> (``cmdline=[``, ``]``),
    ``{cmdlinestr=/usr/sbin/glusterd`` -> (``{cmdlinestr=``, ``}``), ``"/bin/sh`` -> (``"``,
    ``"``); None otherwise."""
    key = _KEY.match(word)
    n = key.end() if key else 0
    if n < len(word) and word[n] in _OPEN and _depth(word) > 0:
        inner = _KEY.match(word, n + 1)  # a name of the value, not a variable of the shell's
        named = inner is not None and not inner.group(0)[:-1].isupper()
        return word[: inner.end() if named and inner else n + 1], _OPEN[word[n]]
    if n < len(word) and word[n] == '"' and word.count('"') == 1:
        return word[: n + 1], '"'
    return None


def _label(word: str) -> bool:
    """A word after which a command may start: ``line:``, ``$>``, ``RUN``."""
    return (
        (word.endswith(":") and len(word) > 1)
        or word in _PROMPTS
        or (len(word) > 1 and word.isalpha() and word.isupper())
    )


def _closes(word: str, closer: str) -> int:
    """Where in ``word`` the frame's ``closer`` is (the index of the last one), -1 if not."""
    return word.rfind(closer)


def command_span(words: list[str]) -> tuple[int, int, str, str] | None:
    """The words ``[start, stop)`` of the command in ``words`` and what is kept of the first
    and last of them (a frame, a key, a closer), or None when the line has no command."""
    options = [i for i, w in enumerate(words) if _is_option(w)]
    if len(options) < 2:
        return None
    first, last = options[0], options[-1]
    start = first
    while start > 0:  # the first word names the event: no command starts there
        word = words[start]
        frame = _frame(word)
        if frame is not None:
            return _framed(words, start, frame, last)
        key = _KEY.match(word) if start < first else None
        if key is not None:
            return _unframed(words, start, key.group(0), last)
        if _label(words[start - 1]):
            return _unframed(words, start, "", last)
        start -= 1
    return None


def _framed(
    words: list[str], start: int, frame: tuple[str, str], last: int
) -> tuple[int, int, str, str] | None:
    opener, closer = frame
    depth = 0
    for stop in range(start, len(words)):
        word = words[stop]
        if closer == '"':
            at = _closes(word, '"') if stop > start else -1
        else:
            depth += _depth(word)
            at = _closes(word, closer) if depth <= 0 else -1
        if at >= 0:
            if stop < last:
                return None  # an option after the frame: not the frame's command
            return start, stop + 1, opener, word[at:]
    return None


def _unframed(
    words: list[str], start: int, key: str, last: int
) -> tuple[int, int, str, str] | None:
    depth = 0
    for stop in range(start, len(words)):
        depth += _depth(words[stop])
        if depth < 0:  # the frame the label is in closes here
            word = words[stop]
            cut = len(word)
            while depth < 0 and cut > 0:
                cut -= 1
                if word[cut] in _CLOSE:
                    depth += 1
            tail = word[cut:]
            return _bounded(start, stop + 1, key, tail, last)
    return _bounded(start, len(words), key, "", last)  # brackets it opens it closes


def _bounded(
    start: int, stop: int, key: str, tail: str, last: int
) -> tuple[int, int, str, str] | None:
    if stop - 1 - last > MAX_AFTER:
        return None
    return start, stop, key, tail


def fold_commands(words: list[str], masks: list[str]) -> tuple[list[str], list[str]]:
    """``words`` and their ``masks`` with a command (:func:`command_span`) made one word, its
    mask the kept frame around ``<*>``; both as they were when the line has none."""
    span = command_span(words)
    if span is None:
        return words, masks
    start, stop, head, tail = span
    slot = head + WILDCARD + tail
    return [*words[:start], slot, *words[stop:]], [*masks[:start], slot, *masks[stop:]]


def _may_hold_option(text: str) -> bool:
    """What :data:`_OPTION_HINT` looks for, as plain substrings: ``in`` tests cost a few
    instructions a character where the expression costs tens, and most lines hold no dash
    after a space, quote or bracket."""
    return "-" in text and (
        " -" in text
        or text[:1] == "-"
        or "'-" in text
        or '"-' in text
        or "[-" in text
        or "(-" in text
        or ",-" in text
        or "{-" in text
        or "\t-" in text
        or "\u2039-" in text
    )


def fold_masks(words: list[str], masks: list[str], text: str | None = None) -> list[str]:
    """The masks of a line as the miner compares them: a command made one value
    (:func:`fold_commands`) and a list of ``host:port`` addresses one value
    (:mod:`vigil.logs._hostlists`), then each written-out date-time one clock
    (:func:`vigil.logs._tokens.fold_dates`). ``text``: the line the words were cut from, if
    the caller has it (substring tests over it pass most lines by, which need neither
    fold)."""
    if text is None:
        text = " ".join(words)
    if "," in text and ":" in text and HOST_LIST_HINT.search(text) is not None:
        masks = fold_host_lists(words, masks)
    if len(words) >= 3 and _may_hold_option(text) and _OPTION_HINT.search(text) is not None:
        words, masks = fold_commands(words, masks)
    return fold_dates(words, masks)
