"""Values a program encloses: a word in angle or square brackets, the second word of a pair.

Called by :func:`vigil.logs._cluster._cost` and :func:`vigil.logs._cluster._widen` on the slow
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
"""

from __future__ import annotations

import re

from vigil.logs._tokens import WILDCARD

_ANGLED = re.compile(r"^(?:<([^<>\s*]+)>|\[([^\[\]\s*]+)\])([,;:.)\]]*)$")
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
