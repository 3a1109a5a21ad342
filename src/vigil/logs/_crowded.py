"""A crowded bucket's words indexes: the bounded list of clusters a line there is compared with.

Called by :class:`vigil.logs._miner.TemplateMiner`, which keeps one :class:`WordsIndex` beside
its buckets, files each cluster of a crowded bucket in it (created or widened; all of them
again on load and on eviction, :meth:`TemplateMiner._reindex`) and asks it for a crowded
line's candidates (:meth:`WordsIndex.candidates`). Pure: clusters in, clusters out; the
indexes are rebuilt from the buckets alone, so a loaded miner answers as the one that saved it.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Mapping

from vigil.logs._cluster import Cluster
from vigil.logs._sharing import sharing
from vigil.logs._tokens import WILDCARD

CROWDED_BUCKET = 64
"""A bucket (one word count, one first word) holding more clusters than this is crowded: a
new line is compared with a bounded list of them (:meth:`WordsIndex.candidates`), not
all. The largest bucket in the six Loghub-2k sets and all 32 fixture directories holds 6
clusters, so every line there is still compared with its whole bucket; a stream whose lines
all open with one word and are otherwise new (JSON lines under one key, one program's
messages under one prefix) would otherwise compare each line with thousands of clusters.

A line filed in a crowded bucket is not remembered in the line caches, and every cache is
dropped when a bucket becomes crowded: its answer then depends on the saved state alone (the
bucket's order and the words index, both rebuilt on load), so a loaded miner answers as the
one that saved it, as the full comparison did. A cached answer could name a cluster that the
bounded list, after a restart, no longer offers."""

CROWDED_OLDEST = 16
"""Of a crowded bucket's candidates, this many are its oldest clusters (the templates a
stream opened with, which the eviction of the least recently seen has kept), the rest of
:data:`CROWDED_BUCKET` its newest ones."""

CROWDED_SECOND = 16
"""Of a crowded bucket's candidates, at most this many more: its newest clusters whose second
word is the line's (Drain's tree goes by the words after the first one the same way)."""

Key = tuple[int, str]
"""A bucket: its word count and first word."""


def by_id(cluster: Cluster) -> int:
    return cluster.id


def _entry_id(entry: tuple[Key, Cluster]) -> int:
    return entry[1].id


class WordsIndex:
    """The clusters of the crowded buckets by their words, by their second word and by each
    plain word after the first, in id order (stale entries skipped when read)."""

    def __init__(self) -> None:
        # a cluster's words, joined -> (its bucket, the cluster) for each cluster that had
        # them, by id (stale entries skipped when read): a crowded bucket's exact matches
        self.by_words: dict[str, list[tuple[Key, Cluster]]] = {}
        self.by_second: dict[str, list[tuple[Key, Cluster]]] = {}  # words[1]
        # (bucket, a plain word after the first) -> the clusters holding it, by id (a widened
        # one filed again; stale entries skipped when read)
        self.by_word: dict[tuple[Key, str], list[Cluster]] = {}
        self.word_filed: dict[int, tuple[str, ...]] = {}  # id -> the words filed there
        self.indexed = 0

    def clear(self) -> None:
        self.by_words.clear()
        self.by_second.clear()
        self.by_word.clear()
        self.word_filed.clear()
        self.indexed = 0

    def file(self, key: Key, cluster: Cluster) -> None:
        """File ``cluster`` of bucket ``key`` under its words now, in id order."""
        words = cluster.words
        for index, text in (
            (self.by_words, " ".join(words)),
            (self.by_second, words[1] if len(words) > 1 else ""),
        ):
            entries = index.setdefault(text, [])
            # an older cluster widened: into its place by id (a cluster filed twice under one
            # text is read once, :meth:`candidates`; the copies go at the next reindex)
            insort(entries, (key, cluster), key=_entry_id)
            self.indexed += 1
        now = tuple(words)
        if self.word_filed.get(cluster.id) != now:  # created or widened, not only seen
            self.word_filed[cluster.id] = now
            for word in set(now[1:]):
                if WILDCARD not in word:
                    insort(self.by_word.setdefault((key, word), []), cluster, key=by_id)

    def candidates(
        self, key: Key, words: list[str], bucket: list[Cluster], alive: Mapping[int, Cluster]
    ) -> list[Cluster]:
        """The clusters of a crowded ``bucket`` a line is compared with, oldest first as in
        the bucket: its :data:`CROWDED_OLDEST` oldest, its newest up to
        :data:`CROWDED_BUCKET`, the clusters whose words are the line's, wherever they are,
        the newest :data:`CROWDED_SECOND` whose second word is the line's (a template
        widened long ago, ``user <*>``, met by a new user), and those holding the most of
        the line's words (:func:`vigil.logs._sharing.sharing`). Drawn from the bucket's
        order (by id) and the words indexes, all rebuilt on load, so a loaded miner answers
        as the one that saved it."""
        cands = bucket[:CROWDED_OLDEST] + bucket[CROWDED_OLDEST - CROWDED_BUCKET :]
        extra = [
            hit
            for filed, hit in self.by_words.get(" ".join(words), ())
            if filed == key and hit.words == words and alive.get(hit.id) is hit
        ]
        second: list[Cluster] = []
        # newest first, up to CROWDED_SECOND distinct ones: a common second word's list is long
        for filed, hit in reversed(self.by_second.get(words[1] if len(words) > 1 else "", ())):
            if (
                filed == key
                and hit.words[1] == words[1]
                and alive.get(hit.id) is hit
                and (not second or second[-1] is not hit)
            ):
                second.append(hit)
                if len(second) == CROWDED_SECOND:
                    break
        extra += second
        extra += sharing(self.by_word, key, words, alive)
        if extra:
            listed = {id(c) for c in cands}
            for hit in extra:
                if id(hit) not in listed:
                    listed.add(id(hit))
                    cands.append(hit)
            cands.sort(key=by_id)
        return cands
