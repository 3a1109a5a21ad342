"""A compact JSON line's run of members after the message: compared member by member.

Called by :func:`vigil.logs._compare.generalise` when two words differ and one holds a text
of several words that :func:`vigil.logs._texts.split_words` joined (its spaces kept as
:data:`vigil.logs._marks.SPACE`). Pure string functions, no state.

A JSON encoder writes no space between members (zap's JSON encoder and so every
controller-runtime program: Karpenter, Gatekeeper, Knative; logrus's ``JSONFormatter``,
pino, bunyan, slog's ``JSONHandler``), so everything after the message's last word is one
word to the miner: ``status","audit_id":"<*>","error":"etcdserver: request timed out"}``.
When a member's text value of several words differs in length from line to line (an error,
a violation), the word pattern kept only what both words share at either end and wrote one
``<*>`` across every member between (``status"<*>"}``): the keys and the constant values
after the message were lost. Two such words with the same keys in the same order are one
run of members: each value is compared alone (:func:`member_pattern`), a differing text is
``"<*>"`` inside its quotes, and the keys, the constant values and the punctuation stay:
``status","audit_id":"<*>","error":"<*>"}``. Two runs with other keys, or another head
before the first key, are left to the word pattern as before.

The miner's template widening (:func:`vigil.logs._widening.widen`) asks :func:`run_pattern`
first for any two such runs: there every member is a word of its own. Loosening the whole run
(digits masked wherever they stand) turned a key into a value and a constant into a value
(Karpenter's ``"controllerKind":"<*>","<*>":{"name":"<*>"}`` for
``"controllerKind":"EC2NodeClass","EC2NodeClass":{...}``, ``karpenter.<*>.aws``); member by
member, a key is never a value and a member both lines share stays as printed. An array that
differs is one value, ``[<*>]``, whatever its length (Temporal's ``"addresses":[...]`` of one
and of two members, as :mod:`vigil.logs._literals` does for a Python container): zap's
``zap.Strings``, logrus and slog print a slice member as a JSON array.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from vigil.logs._marks import SPACE, WILDCARD

_KEY = re.compile(r'[,{]"[^"\\\s]+":')
"""A member's key after the comma or brace that opens it; a quote inside a string value is
escaped (``\\"``), so a key-like text inside a value (``{\\"cpu\\":``) is not one."""
_TEXT = re.compile(r'^"((?:[^"\\]|\\.)*)"(.*)$')
"""A string value and what closes after it (``"a b"}``)."""
_ARRAY = re.compile(r"^\[.*\]([}\]]*)$")
"""An array value and the brackets that close after it (``["a","b"]}``)."""


def _split(word: str) -> tuple[str, list[str], list[str]] | None:
    """The word's head before its first key, its keys and the value after each; None when it
    holds fewer than two members."""
    keys = list(_KEY.finditer(word))
    if len(keys) < 2:
        return None
    values = [word[k.end() : n.start()] for k, n in pairwise(keys)]
    values.append(word[keys[-1].end() :])
    return word[: keys[0].start()], [k.group(0) for k in keys], values


def member_pattern(a: str, b: str, generalise: Callable[[str, str], str]) -> str | None:
    """The pattern of two runs of JSON members with the same head and keys, value by value:
    a value both share stays, a string value of several words that differs is ``"<*>"``, any
    other differing value is ``generalise`` of the two values alone. None when the heads or the
    keys differ, or when no differing value holds a text of several words (the word pattern
    does as well there)."""
    sa, sb = _split(a), _split(b)
    if sa is None or sb is None or sa[0] != sb[0] or sa[1] != sb[1]:
        return None
    return _members(sa, sb, generalise, needed=True)


def run_pattern(a: str, b: str, generalise: Callable[[str, str], str]) -> str | None:
    """The pattern of two runs of JSON members with the same head and keys, each member a
    word: a value both share stays as printed, a key is never a value, a differing array is
    ``[<*>]``, a differing text of several words ``"<*>"``, any other differing value
    ``generalise`` of the two values alone (the caller loosens them). None when either word
    is no run of two members or more, or when the keys differ. Heads that differ (the
    message's last value glued to the first key, ``worker-0","type":``) are ``generalise`` of
    the two heads: a member after them is no less constant (branch ``apiver28``)."""
    if '":' not in a or '":' not in b:  # the miner's words are seldom JSON: no regex for them
        return None
    sa, sb = _split(a), _split(b)
    if sa is None or sb is None or sa[1] != sb[1]:
        return None
    if sa[0] != sb[0]:
        sa = (generalise(sa[0], sb[0]), sa[1], sa[2])
    return _members(sa, sb, generalise, needed=False)


_Run = tuple[str, list[str], list[str]]


def _members(
    sa: _Run, sb: _Run, generalise: Callable[[str, str], str], *, needed: bool
) -> str | None:
    """Two runs of the same keys member by member; with ``needed``, None unless a text or an
    array differed (the only values the word pattern gets wrong)."""
    parts, decisive = [sa[0]], False
    for key, va, vb in zip(sa[1], sa[2], sb[2], strict=True):
        parts.append(key)
        if va == vb:
            parts.append(va)
            continue
        aa, ab = _ARRAY.match(va), _ARRAY.match(vb)
        if aa is not None and ab is not None and aa.group(1) == ab.group(1):
            decisive = True
            parts.append("[" + WILDCARD + "]" + aa.group(1))
            continue
        ta, tb = _TEXT.match(va), _TEXT.match(vb)
        if ta is not None and tb is not None and (SPACE in va or SPACE in vb):
            if ta.group(2) != tb.group(2):
                return None
            decisive = True
            parts.append('"' + WILDCARD + '"' + ta.group(2))
        else:
            parts.append(generalise(va, vb))
    return "".join(parts) if decisive or not needed else None
