"""A run of ``key=value`` fields: where a line is a record of named fields, each value a slot.

Called by :func:`vigil.logs._cluster._cost` on the miner's slow path (:func:`in_field_run`,
asked only for two words of one key whose values the older rules would refuse: one masked or
marked, the other a plain word). Pure string functions, no state.

Many programs print an event as a sentence or an event name followed by a run of
``key=value`` fields, one per property of the event: Falco's alerts (``| evt_type=execve
user=root process=bash parent=runc container_name=trainer``), the Linux audit records
(``type=SYSCALL ... comm="cat" exe="/usr/bin/cat" key=(null)``), netfilter's LOG target
(``IN=eth0 OUT= SRC=... PROTO=TCP``), logfmt bodies (Go's ``slog`` text handler, go-kit,
logrus, Grafana, Loki), Suricata and HDFS audit lines (``allowed=true ugi=bob cmd=open``).
The key names the slot: two lines whose keys are the same, in the same order, with the same
words around them, are one statement whatever the values under the keys, even when one value
is masked or marked (``gggparent=<NA>`` against ``gggparent=systemd``, ``user=<*>`` against
``user=root``) and the other a plain word. The older rule took a key's two values only when
both were plain words or both masked, which split such records on a value that is missing
or masked in one of them. A kind's key (``type=``, ``class=``, ``op=``) still tells events
apart (:func:`vigil.logs._slots.keyed` returns no key for it), and a value found to be a
constant of its event (``Cluster.pinned``, :func:`vigil.logs._cluster.settled`) still does.
"""

from __future__ import annotations

import re

MIN_FIELDS = 3
"""How many ``key=value`` words in a row make a record of fields: one or two ``key=`` words
are as often a sentence's own (``Setting mode=fast for``, ``retry=3 after error``); three or
more in a row are a record's fields in every program listed above."""

_FIELD = re.compile(r"^[A-Za-z_][\w.\-]*=")
"""A word that is a field: a key (a name, dots and dashes allowed: ``fd.name=``,
``k8s_pod_name=``, ``job-status=``) and ``=``."""


_WHOLE = re.compile(r"^[A-Za-z_][\w.\-]*=(?:<\*>|<[A-Za-z_]+>|\(null\))$")
"""A field whose value is masked whole (``user=<*>``) or marked absent (``gggparent=<NA>``,
``key=(null)``): a value of any shape. A value masked in part (``tty=:<*>``, an X display,
against ``tty=NODEVssh``) keeps a shape of its own, which may tell another event: the Loghub-2k
Linux labels keep ``tty=NODEVssh ... rhost=<*>`` and ``tty=:<*> ... rhost=`` apart."""


def field_value(words: list[str], i: int, have: str, new: str) -> bool:
    """True when ``have`` and ``new``, two values of one key at ``words[i]``, are one slot of a
    record of fields: one of them is masked whole or marked absent (:data:`_WHOLE`) and the
    word is inside a run of fields (:func:`in_field_run`)."""
    return (_WHOLE.match(have) is not None or _WHOLE.match(new) is not None) and in_field_run(
        words, i
    )


def in_field_run(words: list[str], i: int) -> bool:
    """True when ``words[i]`` is a ``key=value`` field inside a run of at least
    :data:`MIN_FIELDS` such words in a row (a joined text of several words counts as one)."""
    if _FIELD.match(words[i]) is None:
        return False
    start = i
    while start > 0 and _FIELD.match(words[start - 1]) is not None:
        start -= 1
    end = i + 1
    n = len(words)
    while end < n and end - start < MIN_FIELDS and _FIELD.match(words[end]) is not None:
        end += 1
    return end - start >= MIN_FIELDS
