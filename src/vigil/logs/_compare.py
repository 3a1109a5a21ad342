"""Word comparisons on the template miner's slow path: how two words differ, and their pattern.

Called by :mod:`vigil.logs._cluster` (``generalise``, ``loose``, ``covers``, ``plain_difference``
when a line joins a cluster whose words it does not all share), :mod:`vigil.logs._slots` (the keys
and tails around a value, ``qualified`` names), :mod:`vigil.logs._spans`,
:mod:`vigil.logs._heads` and :mod:`vigil.logs._siblings`. Pure functions of their words; split
from :mod:`vigil.logs._tokens`, which masks a line's strong values before any of this runs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vigil.logs._jsonrun import member_pattern
from vigil.logs._marks import WILDCARD
from vigil.logs._models import model_word
from vigil.logs._texts import SPACE, common_prefix, other_text, reason_span
from vigil.logs._unquoted import command_pair, unquoted_pattern, unquoted_text

_ANY_DIGIT_PIECE = re.compile(r"(?<![\w-])[\w-]*\d[\w-]*")
_DIGIT = re.compile(r"\d")


def loose(word: str) -> str:
    """A masked word with its weak variables masked too: ``ssh2`` -> ``<*>``."""
    if _DIGIT.search(word) is None:
        return word
    if model_word(word):  # a model kept whole varies whole: "<*>", not "meta-llama/<*>.<*>"
        return WILDCARD
    return _ANY_DIGIT_PIECE.sub(WILDCARD, word)


def plain_difference(a: str, b: str) -> bool:
    """True when the parts in which two words differ hold no mask: ``deploy(uid=<*>)`` and
    ``alice(uid=<*>)`` differ in a plain name, ``<*>/FAILURE`` and ``<*>/n/a`` do not."""
    n = len(common_prefix(a, b))
    a, b = a[n:], b[n:]
    m = len(common_prefix(a[::-1], b[::-1]))
    if m:
        a, b = a[:-m], b[:-m]
    return WILDCARD not in a and WILDCARD not in b and "<" not in a + b and ">" not in a + b


# In ``covers``, a wildcard matches nothing, or text that starts like a value (not punctuation,
# so that "instruction...<*>" does not cover "instruction......<*>").
_COVER_ANY = r"(?:[\w<][^\s]*)?"


@lru_cache(maxsize=4096)
def _pattern(word: str) -> re.Pattern[str]:
    return re.compile(_COVER_ANY.join(re.escape(part) for part in word.split(WILDCARD)))


def covers(pattern: str, word: str) -> bool:
    """True when ``pattern`` (a word with ``<*>``) matches ``word``: ``(<*>)`` covers ``()``,
    ``rhost=<*>`` covers ``rhost=<*>.example``."""
    return WILDCARD in pattern and _pattern(pattern).fullmatch(word) is not None


KEY_END = re.compile(r"^.*[=:(\[{/,@\"'\\]")
KEY_START = re.compile(r"[=:()\[\]{},;@\"'].*$")
"""Where a word's key ends and its value starts (``rhost=`` / ``=<*>``): :func:`generalise`
and :func:`vigil.logs._slots.look_alike`. A Windows domain before its account (``LAB\\bob``)
qualifies the name as ``user@`` does: two accounts of one domain are two values, not look-alike
constants (holdout5's IIS log: ``LAB\\bob`` then ``LAB\\mlops`` made two clusters, merged at
the third account, so the second account's lines printed an id merged away)."""


def qualified(word: str) -> bool:
    """``com.android.launcher3/.Launcher``, ``org.foo.Bar``: a name of three or more parts."""
    return word.count(".") + word.count("/") >= 2


NAMED_ID = re.compile(r"^[A-Za-z_][\w\-]*(?:\.[\w\-]+)+\[<\*>\][:,.;]?$")
"""A dotted name with an id in brackets, ``tasks.embed[<*>]``: one named thing (a task, a job)
and its id; two of them in one place are one value, like two name pairs."""
NAME_PAIR = re.compile(r"^[A-Za-z][\w.\-]*/(?:[A-Za-z][\w.\-]*|<\*>)$")
"""Two names joined by a slash, ``backend/server``, ``namespace/pod`` (a weak digit masked):
a program's way to name one thing inside another, so two of them in one place are one value."""


def generalise(a: str, b: str) -> str:
    """The pattern for two different words: their shared key and tail kept around ``<*>``
    (``user=root``, ``user=git`` -> ``user=<*>``), ``<*>/<*>`` for two name pairs, or ``<*>``
    when they share none."""
    if NAME_PAIR.match(a) and NAME_PAIR.match(b) and a.split("/")[0] != b.split("/")[0]:
        return WILDCARD + "/" + WILDCARD
    if reason_span(a) and reason_span(b):
        # two reasons: the label, the brackets both open and close around the text, "<*>"
        label, _, va = a.partition(SPACE)
        vb = b.partition(SPACE)[2]
        opening = common_prefix(va, vb)
        opening = opening[: len(opening) - len(opening.lstrip("([{\"'"))]
        closing = common_prefix(va[::-1], vb[::-1])[::-1]
        closing = closing[len(closing.rstrip(")]}\"'.,;")) :]
        # only the closers of the brackets opened before the text: "(Alarm)"/"(User)" share a
        # ")" that is the text's own
        opened = sum(map((label + opening).count, "([{"))
        while sum(map(closing.count, ")]}")) > opened:
            closing = closing[1:]
        return label + SPACE + opening + WILDCARD + closing
    if (unquoted_text(a) and unquoted_text(b)) or command_pair(a, b):
        text = unquoted_pattern(a, b)  # two errors after one key: "error=<*>"
        if text is not None:
            return text
    if SPACE in a or SPACE in b:
        text = other_text(a, b)
        if text is not None:
            return text
        run = member_pattern(a, b, generalise)  # a compact JSON line's members, one by one
        if run is not None:
            return run
        # a quoted value of several words: word by word when both have as many, else the
        # whole words both share stay around the value ('error="failed to query data: <*>"')
        wa, wb = a.split(SPACE), b.split(SPACE)
        if len(wa) == len(wb):
            return SPACE.join(
                x if x == y else generalise(x, y) for x, y in zip(wa, wb, strict=True)
            )
        lead = common_prefix(a, b)
        lead = lead[: max(lead.rfind(SPACE), lead.find('"')) + 1]
        rest = common_prefix(a[len(lead) :][::-1], b[len(lead) :][::-1])[::-1]
        space = rest.find(SPACE)
        quote = rest.rfind('"')
        # the shared whole words after the value, or else its closing quote onwards
        rest = rest[space:] if space >= 0 else rest[quote:] if quote >= 0 else ""
        return lead + WILDCARD + rest
    pa, pb = _PIECES.split(a), _PIECES.split(b)
    if len(pa) == len(pb) > 1 and pa[1::2] == pb[1::2]:
        # the same punctuation around different values: "'root'@'<*>'" and "'app'@'localhost'"
        return "".join(
            x if x == y or i % 2 else WILDCARD for i, (x, y) in enumerate(zip(pa, pb, strict=True))
        )
    prefix = common_prefix(a, b)
    key = KEY_END.match(prefix)
    head = key.group(0) if key is not None else ""
    suffix = common_prefix(a[len(head) :][::-1], b[len(head) :][::-1])[::-1]
    tail = KEY_START.search(suffix)
    if tail is not None:
        return head + WILDCARD + tail.group(0)
    stop = _STOP.search(suffix)  # "deploy."/"root." -> "<*>.": the sentence's full stop stays
    return head + WILDCARD + (stop.group(0) if stop is not None else "")


_STOP = re.compile(r"[.!?]+$")


_PIECES = re.compile(r"([\"'@=:,;()\[\]{}]+)")
