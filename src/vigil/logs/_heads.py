"""Names opening a message: clusters that differ from a line in its first word alone, taken for
one event with a value there once a third distinct name has opened it.

Drain's prefix rule files a line under its first word (:func:`vigil.logs._cluster._bucket_key`),
so two lines that differ only there never meet in a bucket, and neither the cost nor the
siblings rule (:mod:`vigil.logs._siblings`) can see that the first word is a value: a program's
command or output named before the rest of one statement (``backup command end: completed
successfully (<*>)`` / ``expire command end: ...`` / ``archive-push command end: ...``,
``fast output device (regular) initialized: fast.log`` / ``eve-log ...`` / ``stats ...``).
This index files each cluster opened by a lower-case name under its word count and its second
and third words, where such a line looks for them.

The evidence is the siblings rule's, at the first word: three distinct names in that place,
everything else equal, are values; two are not (``created`` / ``started container: ...``,
``cached`` / ``reply <*> is <*>``: events named by their first word come in pairs with the
rest equal far more often than in threes). Only lower-case names, neither look-alike nor an
``-ing`` / ``-ed`` verb form: a capital opens the verb of a sentence (``Added`` / ``Aborted`` /
``Finished request <*>.``) or an event's CamelCase name (``NewArray`` / ``DegradedArray event
detected``), and ``acquiring`` / ``releasing lock`` are two events.

Called by :meth:`vigil.logs._miner.TemplateMiner._slow` (:meth:`HeadsIndex.group`) on the
new-cluster path only (no cluster of the line's bucket took it), so lines that find their
cluster pay nothing. Pure: clusters in,
clusters out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from vigil.logs._cluster import ANY, Cluster, joined_names
from vigil.logs._compare import covers, loose
from vigil.logs._siblings import MIN_SIBLINGS
from vigil.logs._slots import look_alike
from vigil.logs._tokens import WILDCARD

MIN_HEAD_WORDS = 4
"""A first word is compared across buckets only in a message of this many words or more: the
rest (three words at least) must say that the lines are one statement."""

_HEAD = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
"""A lower-case name, maybe kebab- or snake-case (``backup``, ``archive-push``, ``eve-log``),
with no punctuation of its own: no label (``Error:``) and no subject with its colon."""

_VERB_FORM = re.compile(r"(?:ing|ed)$")

Key = tuple[int, str, str]


def head_name(word: str) -> bool:
    """True when ``word``, a message's first word, may be a name the program put before one
    statement (:data:`_HEAD`), not an ``-ing`` / ``-ed`` verb form."""
    return (
        "a" <= word[:1] <= "z"  # (most first words: one comparison, no regex)
        and _HEAD.match(word) is not None
        and _VERB_FORM.search(word) is None
    )


def _key(words: list[str]) -> Key:
    return len(words), words[1], words[2]


class HeadsIndex:
    """(word count, second word, third word) -> the clusters opened by a head name
    (:func:`head_name`) or by a head already made a value. Entries go stale when a cluster is
    widened or dies; they are skipped when read and dropped at the next rebuild."""

    def __init__(self) -> None:
        self.by_rest: dict[Key, list[Cluster]] = {}
        self.entries = 0

    def clear(self) -> None:
        self.by_rest.clear()
        self.entries = 0

    def rebuild(self, clusters: Iterable[Cluster]) -> None:
        """File every cluster of ``clusters`` again, stale entries gone (in id order)."""
        self.clear()
        for cluster in sorted(clusters, key=lambda c: c.id):
            self.file(cluster)

    def file(self, cluster: Cluster) -> None:
        """File ``cluster`` (created, or its head made a value) when its first word may be one."""
        words = cluster.words
        if len(words) < MIN_HEAD_WORDS:
            return
        first = words[0]
        if not (head_name(first) or (first == WILDCARD and cluster.levels[0] == ANY)):
            return
        self.by_rest.setdefault(_key(words), []).append(cluster)
        self.entries += 1

    def near(self, words: list[str], alive: Mapping[int, Cluster]) -> list[Cluster]:
        """The live clusters filed under ``words``' word count, second and third word, each
        once, oldest first; the caller tests each one (:func:`head_group`)."""
        if len(words) < MIN_HEAD_WORDS:
            return []
        found = {c.id: c for c in self.by_rest.get(_key(words), ()) if alive.get(c.id) is c}
        return [found[i] for i in sorted(found)]

    def group(self, words: list[str], alive: Mapping[int, Cluster]) -> list[Cluster]:
        """:func:`head_group` of ``words`` among the live clusters filed for them; the index is
        rebuilt from ``alive`` first once its stale entries pass four times the clusters."""
        if self.entries > 4 * len(alive) + 1024:
            self.rebuild(alive.values())
        return head_group(words, self.near(words, alive))


def _rest_agrees(cluster: Cluster, words: list[str]) -> bool:
    """True when ``cluster`` takes ``words`` past their first word: every other word equal, a
    value, a weak variable of the same shape, or (once) two joined names of one skeleton (an
    output file named after the output: ``fast.log`` / ``eve.json``)."""
    joined = False
    for have, level, new in zip(cluster.words[1:], cluster.levels[1:], words[1:], strict=True):
        if have == new or level == ANY:
            continue
        lhave, lnew = loose(have), loose(new)
        if lhave == lnew or covers(lhave, lnew):
            continue
        if joined or not joined_names(lhave, lnew):
            return False
        joined = True
    return True


def head_group(words: list[str], near: list[Cluster]) -> list[Cluster]:
    """The clusters of ``near`` that ``words`` joins on its first word: the one whose head is
    already a value, or :data:`~vigil.logs._siblings.MIN_SIBLINGS` - 1 or more opened by
    other head names (three names in that place with the line's); else none."""
    if len(words) < MIN_HEAD_WORDS or not head_name(words[0]):
        return []
    first = words[0]
    group: list[Cluster] = []
    for cand in near:
        head = cand.words[0]
        if head == first or not _rest_agrees(cand, words):
            continue
        if head == WILDCARD:
            return [cand]
        if look_alike(head, first) or any(look_alike(head, c.words[0]) for c in group):
            continue
        group.append(cand)
    return group if len(group) >= MIN_SIBLINGS - 1 else []
