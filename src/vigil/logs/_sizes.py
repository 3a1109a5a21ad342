"""Sizes written with their units in a template, and their folding once the units vary.

Called by :func:`vigil.logs._widening.widen`: :func:`vigil.logs._widening.collapse` keeps a
size's unit as one word with its number (``18.21 MB)`` -> ``<*> MB)``), before a closing
bracket as before a comma or at a phrase's end, as most labels do (VictoriaMetrics,
Proxifier, CockroachDB, Proxmox, JuiceFS, LMCache; Redis, Squid, HBase). Once one size of a
template shows a second unit (``384.0 B,`` / ``2.1 KB,``) that size's unit is the value's,
and the template's sizes closing a bracket fold with it: Spark's Loghub labels write
``(estimated size <*>, free <*>)`` although ``free`` is printed in KB in every line of the
2k (one formatter, ``bytesToString``, picks both units). A size ending a phrase or a clause
keeps its unit then (PyTorch's OOM message as vLLM prints it: ``<*> GiB`` beside a ``<*>``
whose units varied, the labels of ``vllm.tsv``). Pure functions on words; no state.
"""

from __future__ import annotations

import re

from vigil.logs._tokens import UNITS, WILDCARD

_WITH_UNIT = re.compile(r"^<\*> (?:" + "|".join(sorted(UNITS)) + r")([.,;)\]}]*)$")
"""A size with its unit, one word as :func:`vigil.logs._widening.collapse` writes it."""

_BARE = re.compile(r"^<\*>[.,;)\]}]*$")

_CLOSING = frozenset(")]}")


def unit_dropped(before: str, after: str) -> bool:
    """True when widening a template turned a size with its unit (``<*> B,``) into one
    without (``<*>,``): the units of that size varied."""
    return _WITH_UNIT.match(before) is not None and _BARE.match(after) is not None


def fold_sizes(words: list[str]) -> list[int]:
    """Write every size of ``words`` that closes a bracket and still shows its unit without
    it (``<*> KB)`` -> ``<*>)``), in place; returns the positions changed."""
    changed = []
    for i, word in enumerate(words):
        m = _WITH_UNIT.match(word)
        if m is not None and not _CLOSING.isdisjoint(m.group(1)):
            words[i] = WILDCARD + m.group(1)
            changed.append(i)
    return changed
