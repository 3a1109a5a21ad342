"""A merge re-points the miner's line caches at the survivor by the entries the gone cluster
had, not by walking the caches: before branch ``review20`` each merge walked all three (up to
100k entries each) and a stream of new templates that merge cost a full walk per merge.
The work is counted (walks of a cache), not timed."""

from __future__ import annotations

from typing import Any

from vigil.logs import TemplateMiner


class _Walked(dict[Any, Any]):
    """A cache that counts how often it is walked."""

    walks = 0

    def items(self) -> Any:
        _Walked.walks += 1
        return super().items()

    def __iter__(self) -> Any:
        _Walked.walks += 1
        return super().__iter__()


def _watched(miner: TemplateMiner) -> None:
    miner._signatures = _Walked(miner._signatures)  # type: ignore[assignment]
    miner._shapes = _Walked(miner._shapes)  # type: ignore[assignment]
    miner._exact = _Walked(miner._exact)  # type: ignore[assignment]
    _Walked.walks = 0


def test_a_merge_does_not_walk_the_line_caches() -> None:
    miner = TemplateMiner()
    for i in range(500):  # many cached lines of other templates
        miner.add(f"service{chr(97 + i % 26)}{chr(97 + i // 26)} started in {i} ms")
    _watched(miner)
    merges = 0
    for head in ("cache flush", "queue drain", "index build"):
        for word in ("alpha", "beta", "gamma", "delta"):
            merges += len(miner.add(f"{head} {word} done on node7").remapped)
    assert merges >= 3
    assert _Walked.walks == 0


def test_a_line_cached_for_a_merged_cluster_finds_the_survivor() -> None:
    miner = TemplateMiner()
    first = miner.add("cache flush alpha done on node7")
    second = miner.add("cache flush beta done on node7")
    assert first.cluster_id != second.cluster_id
    merged = miner.add("cache flush gamma done on node7")
    assert merged.remapped  # the siblings became one cluster
    survivor = merged.cluster_id
    # each line's shape, signature and exact line were cached for its own cluster
    for line in ("cache flush alpha done on node7", "cache flush beta done on node7"):
        assert miner.add(line).cluster_id == survivor
    assert miner.add("cache flush beta done on node8").cluster_id == survivor  # weak word
    assert set(miner.clusters) == {survivor}
