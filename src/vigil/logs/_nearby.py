"""The clusters by first word and the shape of their second and last words: where the
nearby-bucket search (:func:`vigil.logs._spans.nearest`) looks.

Called by :class:`vigil.logs._miner.TemplateMiner`, which files here every cluster a slow-path
line went to (created, widened, merged into, moved by a span: every change of a cluster's
words is made on that path, or the miner files it again: a numbered name turned a value,
:mod:`vigil.logs._numbered`) and rebuilds the index from its buckets on load and on eviction;
:func:`vigil.logs._spans.nearest` reads it. The search needs two words agreeing beside the
first one, so a cluster is a candidate only when its second or last word has the line's shape
(digits aside), or is already a value (``<*>`` there, or a slot of several words): the index
hands it exactly those clusters of the first word, instead of every cluster of up to sixteen
buckets. Entries go stale when a cluster is widened or dies; they are skipped when read (the
search tests each candidate again) and dropped at the next rebuild, so the index holds at
most a few entries per live cluster. Pure: clusters in, clusters out.
"""

from __future__ import annotations

from collections.abc import Mapping

from vigil.logs._cluster import Cluster
from vigil.logs._shape import SHAPE
from vigil.logs._tokens import WILDCARD

Key = tuple[int, str]
"""A bucket: its word count and first word."""

_SECOND, _LAST = 1, -1


def _order(cluster: Cluster) -> tuple[int, int]:
    """The order of the search over buckets: word count, then id (each bucket is in id order)."""
    return len(cluster.words), cluster.id


class NearbyIndex:
    """(first word, 1 or -1, shape of the second or last word) -> clusters; first word -> the
    clusters whose second or last word is a value or that hold a slot of several words."""

    def __init__(self) -> None:
        self.by_end: dict[tuple[str, int, str], list[Cluster]] = {}
        self.loose: dict[str, list[Cluster]] = {}
        self.filed: dict[int, tuple[str, str, bool]] = {}  # id -> how it was filed last
        self.entries = 0

    def clear(self) -> None:
        self.by_end.clear()
        self.loose.clear()
        self.filed.clear()
        self.entries = 0

    def rebuild(self, buckets: Mapping[Key, list[Cluster]]) -> None:
        """File every cluster of ``buckets`` again, stale entries gone."""
        self.clear()
        for (_, first), bucket in buckets.items():
            for cluster in bucket:
                self.file(first, cluster)

    def file(self, first: str, cluster: Cluster) -> None:
        """File ``cluster`` of a bucket of ``first`` under its words now (once per change)."""
        words = cluster.words
        if len(words) < 2:
            return
        second, last = words[1].translate(SHAPE), words[-1].translate(SHAPE)
        loose = bool(cluster.spans) or WILDCARD in second or WILDCARD in last
        now = (second, last, loose)
        if self.filed.get(cluster.id) == now:
            return
        self.filed[cluster.id] = now
        if loose:
            self.loose.setdefault(first, []).append(cluster)
            self.entries += 1
            return
        self.by_end.setdefault((first, _SECOND, second), []).append(cluster)
        self.by_end.setdefault((first, _LAST, last), []).append(cluster)
        self.entries += 2

    def near(self, first: str, words: list[str], alive: Mapping[int, Cluster]) -> list[Cluster]:
        """The live clusters of ``first`` whose second or last word may agree with ``words``'
        (same shape, or a value there), each once, in the search's order (:func:`_order`);
        the caller still picks by word count and crowding, and tests each one."""
        get = self.by_end.get
        found: dict[int, Cluster] = {}
        for group in (
            get((first, _SECOND, words[1].translate(SHAPE)), ()),
            get((first, _LAST, words[-1].translate(SHAPE)), ()),
            self.loose.get(first, ()),
        ):
            for cluster in group:
                if alive.get(cluster.id) is cluster:
                    found[cluster.id] = cluster
        return sorted(found.values(), key=_order)
