"""SeriesStore: ring buffers, incremental rollups, queries, and the limits it enforces."""

from __future__ import annotations

import math

import pytest

from vigil.collectors import Resent, Sample, SeriesKey, SeriesStore, key_of
from vigil.errors import InputError


def s(name: str, value: float, at: float, **labels: str) -> Sample:
    return Sample.of(name, value, at, labels)


def test_raw_points_come_back_in_order_within_the_range() -> None:
    store = SeriesStore(max_series=10, ring=100)
    for i in range(10):
        store.add(s("gpu.temp", 60 + i, 1000.0 + i, gpu="0"))
    assert store.query("gpu.temp", {"gpu": "0"}, start=1003, end=1005) == [
        (1003.0, 63.0),
        (1004.0, 64.0),
        (1005.0, 65.0),
    ]


def test_the_ring_keeps_only_the_most_recent_points() -> None:
    store = SeriesStore(max_series=10, ring=3)
    for i in range(5):
        store.add(s("m", i, float(i)))
    assert store.query("m") == [(2.0, 2.0), (3.0, 3.0), (4.0, 4.0)]


def test_minute_and_hour_rollups_keep_min_max_mean_count_last() -> None:
    store = SeriesStore(max_series=10, ring=2)
    for at, value in [(0, 5.0), (20, 1.0), (59, 3.0), (60, 10.0), (3599, 7.0), (3600, 2.0)]:
        store.add(s("m", value, float(at)))
    minutes = store.rollups(key_of("m"), 60)
    assert [(r.start, r.min, r.max, r.mean, r.count, r.last) for r in minutes[:2]] == [
        (0.0, 1.0, 5.0, 3.0, 3, 3.0),
        (60.0, 10.0, 10.0, 10.0, 1, 10.0),
    ]
    hours = store.rollups(key_of("m"), 3600)
    assert [(r.start, r.min, r.max, r.count, r.last) for r in hours] == [
        (0.0, 1.0, 10.0, 5, 7.0),
        (3600.0, 2.0, 2.0, 1, 2.0),
    ]
    assert hours[0].mean == pytest.approx(26.0 / 5)


def test_older_rollups_fall_off_their_ring() -> None:
    store = SeriesStore(max_series=1, ring=1, minutes=2, hours=1)
    for minute in range(5):
        store.add(s("m", minute, minute * 60.0))
    assert [r.start for r in store.rollups(key_of("m"), 60)] == [180.0, 240.0]
    assert [r.count for r in store.rollups(key_of("m"), 3600)] == [5]


def test_a_step_under_a_minute_averages_raw_points_per_bucket() -> None:
    store = SeriesStore(max_series=10, ring=100)
    for i in range(6):
        store.add(s("m", float(i), 100.0 + i))
    assert store.query("m", step=2) == [(100.0, 0.5), (102.0, 2.5), (104.0, 4.5)]


def test_a_step_of_minutes_reads_the_minute_rollups_even_after_the_ring_forgot() -> None:
    store = SeriesStore(max_series=10, ring=2)
    for i in range(240):  # 4 minutes at 1 Hz; the ring keeps 2 points
        store.add(s("m", 1.0 if i < 120 else 3.0, float(i)))
    assert store.query("m", step=120) == [(0.0, 1.0), (120.0, 3.0)]
    assert store.query("m", step=60, start=60, end=120) == [(60.0, 1.0), (120.0, 3.0)]


def test_a_step_of_hours_reads_the_hour_rollups() -> None:
    store = SeriesStore(max_series=10, ring=2, minutes=1)
    for i in range(48):
        store.add(s("m", float(i // 24), i * 300.0))  # every 5 min for 4 hours
    assert store.query("m", step=7200) == [(0.0, 0.0), (7200.0, 1.0)]


def test_a_query_over_several_series_merges_points_and_averages_buckets() -> None:
    store = SeriesStore(max_series=10, ring=100)
    store.add(s("gpu.util", 10, 1.0, gpu="0", node="a"))
    store.add(s("gpu.util", 30, 2.0, gpu="1", node="a"))
    store.add(s("gpu.util", 99, 1.5, gpu="0", node="b"))
    assert store.query("gpu.util", {"node": "a"}) == [(1.0, 10.0), (2.0, 30.0)]
    assert store.query("gpu.util", {"node": "a"}, step=10) == [(0.0, 20.0)]
    assert store.query("gpu.util", {"node": "c"}) == []
    assert store.match("gpu.util", {"gpu": "0"}) == [
        key_of("gpu.util", {"gpu": "0", "node": "a"}),
        key_of("gpu.util", {"gpu": "0", "node": "b"}),
    ]


def test_series_lists_every_series_by_name_and_labels() -> None:
    store = SeriesStore(max_series=10, ring=10)
    store.add(s("b", 1, 1.0))
    store.add(s("a", 1, 1.0, x="1"))
    store.add(s("a", 2, 2.0, x="1"))
    assert store.series() == [SeriesKey("a", (("x", "1"),)), SeriesKey("b", ())]
    assert len(store) == 2


def test_a_new_series_beyond_the_limit_is_refused_with_the_metric_and_the_limit() -> None:
    store = SeriesStore(max_series=2, ring=10)
    store.add(s("req", 1, 1.0, id="1"))
    store.add(s("req", 1, 1.0, id="2"))
    with pytest.raises(InputError, match=r'req\{id="3"\}: series limit of 2 reached'):
        store.add(s("req", 1, 1.0, id="3"))
    store.add(s("req", 5, 2.0, id="1"))  # existing series keep working
    assert store.query("req", {"id": "1"}) == [(1.0, 1.0), (2.0, 5.0)]
    assert len(store) == 2


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused_and_not_stored(bad: float) -> None:
    store = SeriesStore(max_series=10, ring=10)
    with pytest.raises(InputError, match=r"m\{\}: value .* is not a finite number"):
        store.add(s("m", bad, 1.0))
    assert store.series() == []


def test_out_of_order_samples_and_another_value_at_a_stored_time_are_refused() -> None:
    store = SeriesStore(max_series=10, ring=10)
    store.add(s("m", 1, 10.0))
    for at in (9.0, 10.0):
        with pytest.raises(InputError, match="not newer than the last one") as caught:
            store.add(s("m", 2, at))
        assert not isinstance(caught.value, Resent)
    assert store.query("m") == [(10.0, 1.0)]


def test_a_stored_sample_sent_again_is_resent_and_not_stored_twice() -> None:
    # an agent whose heartbeat timed out sends its samples again with the next one, though the
    # controller had stored them: they were refused as "not newer", one error each in the answer
    store = SeriesStore(max_series=10, ring=4)
    for at in (1.0, 2.0, 3.0, 4.0, 5.0):
        store.add(s("m", at * 10, at))
    for at in (5.0, 3.0, 2.0):  # the last point and older ones the ring still holds
        with pytest.raises(Resent, match=f"m{{}}: sample at {at} is already stored"):
            store.add(s("m", at * 10, at))
    with pytest.raises(InputError, match="not newer") as caught:  # past the ring: unknown
        store.add(s("m", 10.0, 1.0))
    assert not isinstance(caught.value, Resent)
    with pytest.raises(InputError, match="not newer") as caught:  # a time never stored
        store.add(s("m", 25.0, 2.5))
    assert not isinstance(caught.value, Resent)
    assert store.query("m") == [(2.0, 20.0), (3.0, 30.0), (4.0, 40.0), (5.0, 50.0)]
    assert [r.count for r in store.rollups(key_of("m"), 60.0)] == [5]


def test_add_all_stores_what_it_can_and_returns_the_errors() -> None:
    store = SeriesStore(max_series=10, ring=10)
    errors = store.add_all([s("m", 1, 1.0), s("m", math.nan, 2.0), s("m", 3, 3.0)])
    assert len(errors) == 1
    assert store.query("m") == [(1.0, 1.0), (3.0, 3.0)]


def test_a_negative_step_is_an_input_error_and_bad_sizes_a_value_error() -> None:
    store = SeriesStore(max_series=1, ring=1)
    with pytest.raises(InputError, match="step must be > 0"):
        store.query("m", step=-1)
    with pytest.raises(ValueError, match=">= 1"):
        SeriesStore(max_series=0, ring=1)


def test_a_sample_later_than_not_after_is_refused_and_does_not_block_its_series() -> None:
    store = SeriesStore(max_series=10, ring=10)
    store.add(s("m", 1, 100.0), not_after=400.0)
    with pytest.raises(InputError, match=r"m\{\}: sample at 100000.0 is in the future"):
        store.add(s("m", 2, 100_000.0), not_after=400.0)  # milliseconds, say
    with pytest.raises(InputError, match="Unix seconds, not milliseconds"):
        store.add(s("new", 2, 100_000.0), not_after=400.0)
    store.add(s("m", 3, 101.0), not_after=401.0)  # the series goes on
    assert store.query("m") == [(100.0, 1.0), (101.0, 3.0)]
    assert store.series() == [SeriesKey("m", ())]
