"""Siblings: clusters that differ from a line in one plain word at one place, taken together
for one event with a value there once a third distinct word has shown up in that place.

Called by :meth:`vigil.logs._miner.TemplateMiner._slow` when no cluster of the line's bucket
takes it (:func:`vigil.logs._cluster._cost` refused each). Split from
:mod:`vigil.logs._cluster`. Pure: no state, no I/O.
"""

from __future__ import annotations

import re

from vigil.logs._cluster import LITERAL, MIN_WORDS_FOR_SIBLINGS, Cluster
from vigil.logs._slots import event_words, key_label, names_kind
from vigil.logs._texts import common_prefix

MIN_SIBLINGS = 3
"""Events that differ in one plain word only, at one place, are taken for one event with a
value there once this many distinct words have shown up in that place."""


def siblings(words: list[str], bucket: list[Cluster]) -> list[Cluster]:
    """The clusters of ``bucket`` that differ from ``words`` in one plain word at one place,
    when at least :data:`MIN_SIBLINGS` - 1 of them differ at the same place.

    Two words alternating in one place may be two events (``SCREEN_ON``/``SCREEN_OFF``,
    ``stored as bytes``/``values``), so a pair never merges on this ground; a third distinct
    word in the same place, everything else equal, is a set of values (DNS record types
    ``IN A``/``IN AAAA``/``IN MX``, table names, interface names), not of events: constants
    that tell events apart seldom come three to a slot with the rest of the message equal.
    Except the keys of ``Key: value`` lines (:func:`vigil.logs._slots.key_label`): a dump of
    settings is many keys, one line each, with the rest of the line equal.
    """
    n = len(words)
    if n < MIN_WORDS_FOR_SIBLINGS or len(bucket) < MIN_SIBLINGS - 1:
        return []
    by_place: dict[int, list[Cluster]] = {}
    for cand in bucket:
        place = -1
        for i in range(1, n):
            if cand.words[i] != words[i]:
                if place >= 0 or cand.levels[i] != LITERAL:
                    place = -2
                    break
                place = i
        if (
            place > 0
            and place not in cand.pinned
            and not key_label(cand.words[place])  # "* AppPath: <*>" / "* WorkPath: <*>": keys
            and _word_values(cand.words[place], words[place])
            and not event_words(words, place, cand.words[place], words[place])
        ):
            by_place.setdefault(place, []).append(cand)
    for group in by_place.values():
        if len(group) >= MIN_SIBLINGS - 1:
            return group
    return []


_WORD_PART = re.compile(r"^\w*$")


def _word_values(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ in a run of word characters only (``IN A``/``IN MX``,
    ``'<*>/A/IN'``/``'<*>/NS/IN'``, ``of users:``/``of local:``), not followed by a sign: a
    letter with a sign (``x+``/``z-``) names a direction, a constant of the event."""
    head = len(common_prefix(a, b))
    tail = len(common_prefix(a[head:][::-1], b[head:][::-1]))
    da, db = a[head : len(a) - tail], b[head : len(b) - tail]
    if not (_WORD_PART.match(da) and _WORD_PART.match(db)) or not (da or db):
        return False
    if names_kind(a[:head]):
        return False  # "class=scrub_start"/"class=resilver_start": kinds of record, not values
    return not a[len(a) - tail :].startswith(("+", "-")) and "<" not in da + db
