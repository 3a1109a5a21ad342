"""Values a program encloses: a word in angle or square brackets, the second word of a pair.

Called by :func:`vigil.logs._cluster._cost` and :func:`vigil.logs._widening.widen` on the slow
path (a line compared with a cluster it differs from in a plain word). Pure string tests.

- A word wholly in angle brackets (``queue <normal>``, ``user <jlee>``, ``Host <cpu-n041>``) is
  a value the program marked as one, as a quoted word is: batch schedulers, mailers and DNS
  resolvers print their values so. Two of them in one place are one variable, however many
  the line holds. A word in square brackets after a plain word naming it is one too
  (``application [api]``, ``templates [logs-template]``, ``from [GREEN] to [YELLOW]``); after a
  value it qualifies that value (``<*>[<*>] [send]`` / ``[receive]``) and stays a constant.
- The last item of a parenthesised list opened by a value (``(54, com.apple.Safari)``,
  ``(61, Slack)``): a tuple's items are values, the masked first one shows it.
- A bracketed pair (``[pool www]``, ``(queue batch)``): a name opening the bracket and a word
  closing it; the word is the value the name names, as ``pool=www`` would be, even where a
  message's first two words are otherwise its verb and subject (the pair is a tag before
  them).
- A name enclosed in brackets inside one of a message's first two words, the rest of the
  word the same (``(id)=(<*>)`` / ``(email)=(<*>)``, ``[pg-orders|task-0]`` /
  ``[mysql-users|task-0]``, ``<site-b|<*>>`` / ``<site-c|<*>>``): which instance, key or
  resource the event is about, a value even where the first two words otherwise name the
  event (:func:`enclosed_name`; also :func:`enclosed_key`, the bucket such a first word is
  filed under).
"""

from __future__ import annotations

import re

from vigil.logs._tokens import WILDCARD

_ANGLED = re.compile(r"^(?:<([^<>\s*]+)>|\[([^\[\]\s*=]+)\])([,;:.)\]]*)$")
"""A word wholly in angle or square brackets. Not a ``[key=value]`` field (``[ServerName=proxy]``:
the bracketed fields of Milvus, TiDB, TiKV and PD, and of SSSD's debug lines): its key is a
constant and its value alone varies (:func:`vigil.logs._compare.generalise`)."""
_OPENING_NAME = re.compile(r"^[\[(][a-z][a-z_\-]*$")
_CLOSING = {"[": "]", "(": ")"}


def angled(a: str, b: str, before: str = "") -> bool:
    """True when ``a`` and ``b`` are two different words wholly in angle or square brackets,
    closed by the same punctuation (``<gpu>``/``<normal>``, ``[api]``/``[admin]``). A word in
    square brackets is a value only after a plain word naming it (``application [api]``, ``from
    [GREEN]``); after a value it qualifies that value (``<*>[<*>] [send]`` / ``[receive]``: a
    direction, a constant of the event)."""
    ma, mb = _ANGLED.match(a), _ANGLED.match(b)
    if ma is None or mb is None or a[0] != b[0] or ma.group(3) != mb.group(3):
        return False
    return a[0] == "<" or (before != "" and WILDCARD not in before)


def generalise_angled(a: str) -> str:
    """The pattern of an angled word: ``<<*>>`` and its closing punctuation."""
    m = _ANGLED.match(a)
    close = ">" if a[0] == "<" else "]"
    return a[0] + WILDCARD + close + (m.group(3) if m is not None else "")


def paired(before: str, a: str, b: str) -> bool:
    """True when ``before`` opens a bracket with a lower-case name and ``a`` and ``b`` are two
    words closing it (``[pool`` + ``www]``/``api]``)."""
    if _OPENING_NAME.match(before) is None:
        return False
    close = _CLOSING[before[0]]
    return (
        a.endswith(close)
        and b.endswith(close)
        and close not in a[:-1]
        and close not in b[:-1]
        and a[:1] not in "[(<"
        and b[:1] not in "[(<"
    )


def listed(before: str, a: str, b: str) -> bool:
    """True when ``a`` and ``b`` close a parenthesised list that ``before`` opens with a value
    (``(<*>,`` + ``Safari)``/``Slack)``): the items of a tuple a program prints are values of
    one kind, the first masked shows it."""
    return (
        before[:1] == "("
        and before.endswith(WILDCARD + ",")
        and a.endswith(")")
        and b.endswith(")")
        and "(" not in a + b
    )


_NAME = re.compile(r"[A-Za-z][\w.\-]*")
"""A name a program puts between brackets: a letter first, then word characters, dots, dashes."""
_BRACKET = re.compile(r"[(\[<{]")
"""An opening bracket: a word without one holds no enclosed name (as :func:`enclosed_key`)."""
has_bracket = _BRACKET.search
"""Whether a word holds an opening bracket (a compiled search: callers on the hot path test it
before :func:`enclosed_name`)."""
_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]+")
"""A name written as a constant's (``ERROR``, ``SCREEN_ON``): a level or a kind of event."""
_NAME_TAIL = re.compile(r"[\w.\-]*")


def enclosed_name(a: str, b: str) -> bool:
    """True when :func:`enclosed_span` finds the one enclosed name ``a`` and ``b`` differ in."""
    return enclosed_span(a, b) is not None


def generalise_enclosed(a: str, b: str) -> str:
    """``a`` with the enclosed name it differs from ``b`` in written ``<*>`` (``(<*>)=(<*>)``);
    ``a`` itself when they do not so differ."""
    span = enclosed_span(a, b)
    return a if span is None else a[: span[0]] + WILDCARD + a[span[1] :]


def enclosed_span(a: str, b: str) -> tuple[int, int] | None:
    """True when ``a`` and ``b`` differ in one name enclosed in brackets and are the same
    around it (``(id)=(<*>)`` / ``(email)=(<*>)``, ``<*>[main]<*>[nginx]<*>:`` /
    ``<*>[main]<*>[chronyd]<*>:``): the part a program fills in between its brackets. Not a
    name glued to a bracket (``DHCPOFFER(<*>)``, ``joined[<*>]:`` name the event) nor a call's
    arguments: the differing part must be a whole name between an opening bracket (or a
    ``|``) and a closing one (or a ``|``), neither written as a constant's name (``[ERROR]`` /
    ``[NOTICE]``: a level). The name's (start, end) in ``a``, or None."""
    if a == b or not _BRACKET.search(a) or not _BRACKET.search(b):
        return None  # (most pairs compared hold no bracket: one scan, no loop)
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[-1 - s] == b[-1 - s]:
        s += 1
    start = p
    while start > 0 and (a[start - 1].isalnum() or a[start - 1] in "_.-"):
        start -= 1  # back to the name's start: "[in_tail_" + "syslog]"
    if start == 0 or a[start - 1] not in "([<{|":
        return None
    tail = _NAME_TAIL.match(a, len(a) - s)  # on to the name's end: "[site-" + "b" + "|<*>>"
    grown = tail.end() - (len(a) - s) if tail is not None else 0
    end_a, end_b = len(a) - s + grown, len(b) - s + grown
    if end_a >= len(a) or a[end_a] not in ")]>}|":
        return None
    if _NAME.fullmatch(a, start, end_a) is None or _NAME.fullmatch(b, start, end_b) is None:
        return None
    if _CONSTANT.fullmatch(a, start, end_a) or _CONSTANT.fullmatch(b, start, end_b):
        return None  # "[ERROR]" / "[NOTICE]": a level or a kind, written as a constant's name
    return start, end_a


def enclosed_key(word: str) -> str:
    """``word`` with every name enclosed in brackets written ``<>`` (``[pg-orders|task-0]`` ->
    ``[<>|<>]``): the bucket key of a first word, so that two lines whose first words differ
    only there are compared (:func:`enclosed_name` then decides)."""
    return _ENCLOSED_ANY.sub("<>", word) if _BRACKET.search(word) else word


_ENCLOSED_ANY = re.compile(r"(?<=[(\[<{|])[A-Za-z][\w.\-]*(?=[)\]>}|])")
