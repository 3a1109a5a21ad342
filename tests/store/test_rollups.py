"""Persisted metric rollups: merge on save, label-filtered range reads, pruning, restarts."""

from __future__ import annotations

import pytest

from vigil.errors import InputError
from vigil.store import RollupRow, SqlStore

GPU0 = (("gpu", "0"), ("node", "gpu-01"))
GPU1 = (("gpu", "1"), ("node", "gpu-01"))
OTHER = (("gpu", "0"), ("node", "gpu-02"))


def row(
    labels: tuple[tuple[str, str], ...], start: float, *values: float, width: int = 60
) -> RollupRow:
    return RollupRow(
        name="gpu.temp",
        labels=labels,
        width=width,
        start=start,
        min=min(values),
        max=max(values),
        total=sum(values),
        count=len(values),
        last=values[-1],
    )


def test_saved_rollups_read_back_by_name_labels_width_and_range(store: SqlStore) -> None:
    store.save_rollups(
        [
            row(GPU0, 0, 50, 60),
            row(GPU0, 60, 70),
            row(GPU1, 60, 40),
            row(OTHER, 60, 30),
            row(GPU0, 0, 55, width=3600),
        ]
    )
    node01 = store.load_rollups("gpu.temp", {"node": "gpu-01"}, 60, 0, 1e12)
    assert [r.start for r in node01] == [0, 60, 60]  # oldest first
    assert sorted((r.labels, r.start, r.total, r.count) for r in node01) == [
        (GPU0, 0, 110, 2),
        (GPU0, 60, 70, 1),
        (GPU1, 60, 40, 1),
    ]
    assert [r.start for r in store.load_rollups("gpu.temp", {"gpu": "0"}, 60, 30, 90)] == [60, 60]
    hours = store.load_rollups("gpu.temp", {}, 3600, 0, 1e12)
    assert [(r.labels, r.total / r.count) for r in hours] == [(GPU0, 55)]
    assert store.load_rollups("gpu.power", {}, 60, 0, 1e12) == []


def test_saving_a_bucket_twice_merges_the_two_halves(store: SqlStore) -> None:
    store.save_rollups([row(GPU0, 120, 10, 90)])
    store.save_rollups([row(GPU0, 120, 5, 20)])  # the same minute, after a controller restart
    (merged,) = store.load_rollups("gpu.temp", {}, 60, 0, 1e12)
    assert (merged.min, merged.max, merged.total, merged.count, merged.last) == (5, 90, 125, 4, 20)


def test_pruning_deletes_only_older_buckets_of_that_width(store: SqlStore) -> None:
    store.save_rollups(
        [row(GPU0, t, 1.0) for t in (0, 60, 120, 180)] + [row(GPU0, 0, 1.0, width=3600)]
    )
    assert store.prune_rollups(60, before=120) == 2
    assert [r.start for r in store.load_rollups("gpu.temp", {}, 60, 0, 1e12)] == [120, 180]
    assert len(store.load_rollups("gpu.temp", {}, 3600, 0, 1e12)) == 1


def test_a_bad_width_or_empty_bucket_is_refused_by_name(store: SqlStore) -> None:
    with pytest.raises(InputError, match=r"gpu.temp: width must be one of \(60, 3600\), not 10"):
        store.save_rollups([row(GPU0, 0, 1.0, width=10)])
    empty = RollupRow("gpu.temp", GPU0, 60, 0, 0, 0, 0, 0, 0)
    with pytest.raises(InputError, match="count must be >= 1"):
        store.save_rollups([empty])
    with pytest.raises(InputError, match="width must be one of"):
        store.load_rollups("gpu.temp", {}, 5, 0, 1)


def test_rollups_outlive_the_store_object(durable_url: str) -> None:
    first = SqlStore(durable_url)
    first.save_rollups([row(GPU0, t, t / 60) for t in range(0, 6000, 60)])
    first.close()
    second = SqlStore(durable_url)
    try:
        second.save_rollups([row(GPU0, 6000, 100.0)])  # the series id is found, not duplicated
        rows = second.load_rollups("gpu.temp", {"gpu": "0"}, 60, 0, 1e12)
    finally:
        second.close()
    assert [r.start for r in rows] == list(range(0, 6060, 60))
    assert rows[-1].last == 100.0


def test_the_earliest_and_latest_bucket_of_each_width_are_known(store: SqlStore) -> None:
    assert store.earliest_rollup(60) is None
    assert store.latest_rollup(60) is None
    store.save_rollups([row(GPU0, 600, 1.0), row(GPU1, 120, 1.0), row(GPU0, 0, 1.0, width=3600)])
    assert store.earliest_rollup(60) == 120.0
    assert store.latest_rollup(60) == 600.0
    assert store.earliest_rollup(3600) == 0.0
    assert store.latest_rollup(3600) == 0.0


def test_a_read_of_rollups_stops_at_its_limit(store: SqlStore) -> None:
    store.save_rollups([row(GPU0, 60.0 * m, 1.0) for m in range(10)])
    assert len(store.load_rollups("gpu.temp", {}, 60, 0, 1e12, limit=4)) == 4
    assert len(store.load_rollups("gpu.temp", {}, 60, 0, 1e12, limit=11)) == 10
