"""SeriesStore's side of persistence: closed buckets handed out once, older buckets merged back
into queries, and the cardinality limits naming the setting to raise."""

from __future__ import annotations

import pytest

from vigil.collectors import Sample, SeriesStore, key_of, width_for
from vigil.errors import InputError


def s(name: str, value: float, at: float, **labels: str) -> Sample:
    return Sample.of(name, value, at, labels)


def test_a_bucket_is_handed_out_once_when_a_later_sample_closes_it() -> None:
    store = SeriesStore(max_series=10, ring=10, keep_closed=True)
    for at, value in ((0.0, 1.0), (30.0, 3.0), (61.0, 5.0)):
        store.add(s("m", value, at))
    (closed,) = store.drain_closed()
    key, width, rollup = closed
    assert (key, width) == (key_of("m"), 60.0)
    assert (rollup.start, rollup.min, rollup.max, rollup.count, rollup.last) == (0, 1, 3, 2, 3)
    assert store.drain_closed() == []
    store.add(s("m", 7.0, 3601.0))  # closes minute 60 and hour 0
    assert sorted((w, r.start, r.count) for _, w, r in store.drain_closed()) == [
        (60.0, 60.0, 1),
        (3600.0, 0.0, 3),
    ]
    assert sorted((w, r.start) for _, w, r in store.open_buckets()) == [
        (60.0, 3600.0),
        (3600.0, 3600.0),
    ]


def test_without_keep_closed_nothing_is_queued() -> None:
    store = SeriesStore(max_series=10, ring=10)
    for at in range(0, 600, 30):
        store.add(s("m", 1.0, float(at)))
    assert store.drain_closed() == []


def test_history_fills_the_buckets_memory_no_longer_holds() -> None:
    store = SeriesStore(max_series=10, ring=10, minutes=2)
    for at in (600.0, 660.0, 720.0):  # memory keeps the minutes 660 and 720 only
        store.add(s("m", at / 60, at, node="a"))
    key = key_of("m", {"node": "a"})
    history = [(key, 540.0, 18.0, 2), (key, 600.0, 10.0, 1), (key, 660.0, 999.0, 1)]
    assert store.query("m", {"node": "a"}, step=60, history=history) == [
        (540.0, 9.0),
        (600.0, 10.0),
        (660.0, 11.0),  # memory wins over the stored figure for a bucket it holds
        (720.0, 12.0),
    ]
    assert store.oldest([key], 60.0) == 660.0
    assert store.query("m", {"node": "a"}, step=10, history=history) == [
        (600.0, 10.0),
        (660.0, 11.0),
        (720.0, 12.0),
    ]  # steps under a minute read the raw ring only, never rollups


def test_the_step_picks_the_resolution() -> None:
    assert [width_for(step) for step in (None, 1, 59, 60, 300, 3599, 3600, 86400)] == [
        None,
        None,
        None,
        60.0,
        60.0,
        60.0,
        3600.0,
        3600.0,
    ]


def test_the_per_metric_limit_names_the_series_the_limit_and_the_setting() -> None:
    store = SeriesStore(max_series=100, ring=1, max_per_name=2, settings_prefix="metrics.")
    store.add(s("req.latency", 1, 1, id="a"))
    store.add(s("req.latency", 1, 1, id="b"))
    store.add(s("other", 1, 1, id="c"))  # another name has its own budget
    with pytest.raises(InputError) as caught:
        store.add(s("req.latency", 1, 1, id="c"))
    assert str(caught.value) == (
        'req.latency{id="c"}: limit of 2 series named req.latency reached; new ones are refused '
        "(drop a high-cardinality label such as a request id, or raise "
        "metrics.max_series_per_metric)"
    )
    store.add(s("req.latency", 2, 2, id="a"))  # existing series keep working
    assert len(store) == 3


def test_the_total_limit_names_its_setting() -> None:
    store = SeriesStore(max_series=1, ring=1, settings_prefix="metrics.")
    store.add(s("a", 1, 1))
    with pytest.raises(
        InputError,
        match=r'^b\{node="x"\}: series limit of 1 reached.*raise '
        r"metrics\.max_series\)$",
    ):
        store.add(s("b", 1, 1, node="x"))
