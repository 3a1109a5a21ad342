"""Folding a line's runs of wildcards and widening a template to cover a line.

Called by :class:`vigil.logs._miner.TemplateMiner` (a line's words before any comparison, and a
cluster taking a line or absorbing another cluster) and by :mod:`vigil.logs._spans` (a cluster
taking a line whose value spans several words). Pure: it changes only the cluster it is given.
Split from :mod:`vigil.logs._cluster`, which decides whether a cluster may take a line.
"""

from __future__ import annotations

import re

from vigil.logs._cluster import ANY, FIRST_WORD_VARIABLE_POSITION, LOOSE, Cluster
from vigil.logs._compare import covers, generalise, loose
from vigil.logs._compound import whole_name
from vigil.logs._enclosed import angled, enclosed_name, generalise_angled, generalise_enclosed
from vigil.logs._jsonrun import run_pattern
from vigil.logs._options import option_pair, option_pattern
from vigil.logs._sizes import fold_sizes, unit_dropped
from vigil.logs._tokens import MONTHS, UNITS, WILDCARD
from vigil.logs._unquoted import command_pair

_ZONE = re.compile(r"^[+-]?<\*>\]$")


def collapse(words: list[str]) -> tuple[list[str], list[int]]:
    """Fold each run of wildcard words into one, remembering its length: a list of values
    ("delete blk_1 blk_2 blk_3") groups with a shorter one, while the template still shows a
    fixed-arity run ("softheader=<*> <*> <*>") as it is."""
    if WILDCARD not in words:
        return words, [1] * len(words)
    out: list[str] = []
    runs: list[int] = []
    for w in words:
        if out and out[-1] == WILDCARD and w.rstrip(",;)]}") in UNITS:
            # Ending a phrase ("took 14.9 GB", "of 79 GiB of which"), a clause before a comma
            # or a semicolon ("current 2 MB, peak", "filesize=1 MB;": Redis, Squid, HBase,
            # cuFile, SGLang, CockroachDB; branch masks22) or a bracket ("(12 parts, 18.21
            # MB)", "(1.2 KB) sent", "(stacks: 8.1 MiB)": VictoriaMetrics, Proxifier,
            # CockroachDB, Proxmox, JuiceFS, LMCache; branch units28) the unit stays, one
            # word "<*> GB)", while every line of the cluster has it, and folds once another
            # one shows up (_SIZED), with the template's other sizes (Spark's "(estimated
            # size <*>, free <*>)": one formatter picks every unit, :func:`_fold_sizes`).
            bare = w.rstrip(".,;)]}") in UNITS
            out[-1] += " " + w if runs[-1] == 1 and bare else w[len(w.rstrip(",;)]}")) :]
            continue
        if out and out[-1] in (WILDCARD, "/") and w.startswith("HTTP/<*>"):
            out[-1] = WILDCARD + w[8:]  # '"GET /a/b HTTP/1.1"', '"GET / HTTP/1.1"': '"GET <*>"'
            continue
        if out and out[-1][:1] == "[" and out[-1].endswith(WILDCARD) and _ZONE.match(w):
            out[-1] += "]"  # "[29/Nov/2026:10:00:01 +0000]": a time's zone offset is the time's
            continue
        if w == WILDCARD and out and out[-1] in MONTHS:
            out[-1] = WILDCARD  # "Jul 10": a date
        if w == WILDCARD and out and out[-1] == WILDCARD:
            runs[-1] += 1
        else:
            out.append(w)
            runs.append(1)
    return out, runs


def _rekey(pattern: str, have: str, new: str) -> str:
    """``pattern`` with the key name both words share put back where loosening masked it: a
    key with a digit in its name (``a0="cat"``/``a0="ls"`` -> ``a0="<*>"``, not ``<*>="<*>"``)
    is named, not a value. Only the template changes: grouping still compares loosened words."""
    if not pattern.startswith(LOOSE_KEY):
        return pattern
    key, eq, _ = have.partition("=")
    if not eq or not new.startswith(key + "=") or _KEY_NAME.match(key) is None:
        return pattern
    return key + pattern[len(LOOSE_KEY) - 1 :]


LOOSE_KEY = WILDCARD + "="
_KEY_NAME = re.compile(r"^[A-Za-z_][\w\-]*$")


def _loosened(a: str, b: str) -> str:
    """Two differing values of one JSON member, loosened as whole words are."""
    la, lb = loose(a), loose(b)
    return la if la == lb else generalise(la, lb)


def widen(cluster: Cluster, words: list[str], runs: list[int]) -> bool:
    """Widen ``cluster``'s template so that it covers ``words``; True if it changed."""
    changed = False
    for i, run in enumerate(runs):
        if run != cluster.runs[i] and cluster.runs[i] != 1:
            cluster.runs[i] = 1  # a list of varying length: show it as one <*>
            changed = True
    before = list(cluster.words)
    for i, new in enumerate(words):
        have, level = cluster.words[i], cluster.levels[i]
        if have == new or level == ANY:
            continue
        if level == LOOSE and covers(have, new):
            # widened already to cover it (``[<*>|task-0|offsets]`` over ``[b|task-0|offsets]``):
            # loosening it again would make the template depend on whether the line came by
            # the masked-line cache, which a restarted miner has lost (test_state_roundtrip)
            continue
        if command_pair(have, new):  # "command=python3 <*>" / "command=curl -sk <*>": one value
            cluster.words[i], cluster.levels[i], changed = generalise(have, new), LOOSE, True
            continue
        if option_pair(loose(have), loose(new)):  # "--<*>="<*>"": a dump's options (._options)
            cluster.words[i], cluster.levels[i] = option_pattern(loose(have), loose(new)), LOOSE
            changed = True
            continue
        members = run_pattern(have, new, _loosened)  # a compact JSON run: each member a word
        if members is not None:
            if members != have:
                cluster.words[i], cluster.levels[i], changed = members, LOOSE, True
            continue
        lhave, lnew = loose(have), loose(new)
        if lhave == lnew or covers(lhave, lnew):
            if level != LOOSE or have != lhave:
                cluster.words[i], cluster.levels[i] = _rekey(lhave, have, new), LOOSE
                changed = True
        elif covers(lnew, lhave):
            cluster.words[i], cluster.levels[i] = _rekey(lnew, have, new), LOOSE
            changed = True
        elif angled(lhave, lnew, cluster.words[i - 1] if i else ""):
            cluster.words[i], cluster.levels[i] = generalise_angled(lhave), LOOSE
            changed = True
        elif (whole := whole_name(lhave, lnew)) is not None:
            cluster.words[i] = whole
            cluster.levels[i] = ANY if whole == WILDCARD else LOOSE
            changed = True
        elif i < FIRST_WORD_VARIABLE_POSITION and enclosed_name(have, new):
            cluster.words[i], cluster.levels[i] = generalise_enclosed(have, new), LOOSE
            changed = True
        else:
            pattern = _rekey(generalise(lhave, lnew), have, new)
            cluster.words[i] = pattern
            cluster.levels[i] = ANY if pattern == WILDCARD else LOOSE
            changed = True
    if changed and any(map(unit_dropped, before, cluster.words)):
        for i in fold_sizes(cluster.words):  # one formatter prints every size (._sizes)
            cluster.levels[i] = LOOSE
    if changed:
        cluster._template = None
    return changed
