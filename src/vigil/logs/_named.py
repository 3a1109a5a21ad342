"""Values the words before them name: a user or host name is a value from its first line.

Called by :meth:`vigil.logs._wordmasks.WordMasks.mask_list` on every line the miner masks word
by word (the slow path: a line shape not seen before), after the word masks of
:mod:`vigil.logs._tokens`.

A name a template shows with one value only (one line, or a burst from one account) is still a
value where the words before it say what it is. The Loghub labels write it so: OpenSSH's
``Accepted password for <*> from`` (one line, ``fztu``), ``session opened for user <*> by``
(Linux, OpenSSH), Spark's ``Starting executor ID <*> on host <*>`` (one host); the miner alone
keeps such a word literal until a second value shows up, which a log seen for a few lines never
gives it. Three contexts, each wildcarded in every Loghub and fixture label that has it
(branch ``meaning16``'s table in ``docs/benchmarks.md``):

- an account after ``for user``, ``as user``, ``invalid user`` (``session closed for user
  fztu``, ``initially as user alice``, ``Invalid user test from``);
- an account between ``for`` and ``from`` an address (sshd's ``Accepted publickey for carol
  from 10.0.0.5``, gitea's ``attempt for alice from``);
- a host after ``on host`` (``finished on host node017.cluster``);
- a ``true`` or ``false`` ending the line after a space (``isScreenOn true``).

Not ``user=X`` (Linux's labels keep ``user=guest`` apart from ``user=<*>``, a burst of one
account) nor a bare ``user X`` (``returning control to user process``, ``check pass; user
unknown``): there the word is a constant as often as a value.
"""

from __future__ import annotations

import re

from vigil.logs._tokens import WILDCARD

_NAME = re.compile(r"^[A-Za-z_][\w.\-]*?([,;:.)]*)$")
"""A name, with the punctuation that ends a clause kept after it (``alice,`` -> ``<*>,``)."""
_NOT_NAMES = frozenset(
    ["or", "and", "not", "is", "was", "has", "does", "name", "id", "account", "from", "by", "to"]
)
"""Words that follow ``user`` in a sentence without being an account (mysql's ``Invalid user or
password``): a name is not a function word."""
_USER_BEFORE = frozenset(["for", "For", "as", "As", "invalid", "Invalid"])
_CONTEXT_WORDS = frozenset(["user", "for", "host"])
_STATES = frozenset(["true", "false"])
"""A boolean that ends a line after a space (``isScreenOn true``, ``Sync state: true``) is the
state the message reports, a value: HealthApp's labels wildcard all 14 such lines, the
fixtures' all 3, and none keeps one. Inside a line or glued to a key (``optimize=false``,
``setLightsOn(true)``, ``udp 34 false 512``) the labels keep it as often as not: left alone."""


def named_values(words: list[str], masks: list[str]) -> list[int]:
    """Mask, in place, the names ``words`` holds in the contexts above; the positions masked.

    ``masks`` is the word-by-word mask of ``words`` (as long); a name masked in part
    (``node017.cluster`` -> ``<*>.cluster``) becomes one value."""
    done: list[int] = []
    n = len(words)
    if words[-1] in _STATES and n > 1:
        masks[-1] = WILDCARD
        done.append(n - 1)
    if _CONTEXT_WORDS.isdisjoint(words):
        return done
    for i in range(1, n):
        before = words[i - 1]
        if before == "user":
            named = i >= 2 and words[i - 2] in _USER_BEFORE
        elif before == "for":
            named = i + 2 < n and words[i + 1] == "from" and WILDCARD in masks[i + 2]
        elif before == "host":
            named = i >= 2 and words[i - 2] == "on"
        else:
            continue
        if not named or masks[i] == WILDCARD or words[i].rstrip(",;:.)") in _NOT_NAMES:
            continue
        m = _NAME.match(words[i])
        if m is not None:
            masks[i] = WILDCARD + m.group(1)
            done.append(i)
    return done
