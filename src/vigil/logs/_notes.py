"""Which entries of the template miner's line caches point at which cluster, so that a merge
re-points the entries of the cluster merged away and no others.

Used by :class:`vigil.logs.TemplateMiner` (:mod:`vigil.logs._miner`), whose three line caches
(a masked line, a line's shape, a shape with its weak words -> the cluster) are dicts of up to
``max_signatures`` entries each: before these notes a merge walked all three (8 ms a merge with
10k cached lines, ``bench/miner_merges.py``). Pure: plain dicts in, plain dicts out.
"""

from __future__ import annotations

from typing import Any

from vigil.logs._cluster import Cluster

SLACK = 4_096
"""Notes kept past twice the live entries of the last rebuild before the stale ones (keys
overwritten or dropped since) are rebuilt away: a small miner does not rebuild on every note."""

CacheKey = str | bytes | tuple[bytes, tuple[str, ...]]
"""A key of one of the miner's three line caches: a masked line (str), a line's shape (bytes),
a shape with its weak words (tuple); each type is one cache's."""


class CacheNotes:
    """Cluster id -> the cache keys written with it (stale ones skipped when read)."""

    def __init__(self) -> None:
        self._keys: dict[int, list[CacheKey]] = {}
        self._count = 0
        self._limit = SLACK

    def clear(self) -> None:
        """The caches were dropped."""
        self._keys.clear()
        self._count = 0
        self._limit = SLACK

    def note(self, cluster_id: int, key: CacheKey) -> bool:
        """A cache entry ``key`` now points at cluster ``cluster_id``; True when the notes
        should be rebuilt (:meth:`rebuild`: past twice the live entries of the last one, so
        rebuilds are amortised O(1) a note and the notes stay under six caches' worth)."""
        self._keys.setdefault(cluster_id, []).append(key)
        self._count += 1
        return self._count > self._limit

    def rebuild(self, *caches: dict[Any, Any]) -> None:
        """Notes of the live entries of ``caches`` only."""
        keys: dict[int, list[CacheKey]] = {}
        for cache in caches:
            for k, c in cache.items():
                if isinstance(c, Cluster):
                    keys.setdefault(c.id, []).append(k)
        self._keys, self._count = keys, sum(map(len, keys.values()))
        self._limit = 2 * self._count + SLACK

    def repoint(
        self,
        gone: Cluster,
        survivor: Cluster,
        signatures: dict[Any, Any],
        shapes: dict[Any, Any],
        exact: dict[Any, Any],
    ) -> None:
        """Point the entries written with ``gone`` at ``survivor``: the work is those entries,
        not the caches' size (three full caches hold 300k)."""
        keys = self._keys.pop(gone.id, None)
        if not keys:
            return
        mine = self._keys.setdefault(survivor.id, [])
        caches: dict[type, dict[Any, Any]] = {str: signatures, bytes: shapes, tuple: exact}
        for key in keys:
            cache = caches[type(key)]
            if cache.get(key) is gone:
                cache[key] = survivor
                mine.append(key)
