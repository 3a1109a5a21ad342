"""SeriesStore's rings are flat arrays: the newest points and buckets survive any number of
trims, and the objects the garbage collector visits do not grow with the points held."""

from __future__ import annotations

import gc

from vigil.collectors import Sample, SeriesStore, key_of


def test_the_newest_points_survive_many_trims_of_the_ring() -> None:
    store = SeriesStore(max_series=1, ring=5)
    for i in range(1000):
        store.add(Sample.of("m", float(i), float(i), {}))
        assert store.last(key_of("m")) == (float(i), float(i))
    assert store.query("m") == [(float(i), float(i)) for i in range(995, 1000)]


def test_the_newest_buckets_survive_many_trims_with_every_figure() -> None:
    store = SeriesStore(max_series=1, ring=1, minutes=4, hours=2)
    for minute in range(300):  # five hours of two samples a minute
        store.add(Sample.of("m", float(minute), minute * 60.0, {}))
        store.add(Sample.of("m", float(-minute), minute * 60.0 + 30, {}))
    minutes = [
        (r.start, r.min, r.max, r.total, r.count, r.last) for r in store.rollups(key_of("m"), 60.0)
    ]
    assert minutes == [(m * 60.0, -m, m, 0.0, 2, -m) for m in (296.0, 297.0, 298.0, 299.0)]
    hours = [(r.start, r.min, r.max, r.count) for r in store.rollups(key_of("m"), 3600.0)]
    assert hours == [(3 * 3600.0, -239.0, 239.0, 120), (4 * 3600.0, -299.0, 299.0, 120)]
    assert store.oldest([key_of("m")], 60.0) == 296 * 60.0
    assert store.query("m", step=60, start=298 * 60.0) == [(298 * 60.0, 0.0), (299 * 60.0, 0.0)]


def test_a_single_rollup_kept_is_the_open_one() -> None:
    store = SeriesStore(max_series=1, ring=1, minutes=1, hours=1)
    for minute in range(40):
        store.add(Sample.of("m", float(minute), minute * 60.0, {}))
    assert [r.start for r in store.rollups(key_of("m"), 60.0)] == [39 * 60.0]
    assert store.oldest([key_of("m")], 60.0) == 39 * 60.0


def reachable(root: object) -> int:
    """How many objects the garbage collector visits from ``root`` (its tp_traverse graph),
    numbers and strings apart (they change with the values; they hold no references)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, float, int, str)):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return len(seen)


def test_the_objects_the_collector_visits_do_not_grow_with_the_points_held() -> None:
    # a ring of (at, value) tuples made a full collection visit every point of every series:
    # seconds at 50,000 series x 900 points, with the controller's event loop stalled
    store = SeriesStore(max_series=10, ring=1000)
    for node in ("a", "b"):
        store.add(Sample.of("m", 0.0, 0.0, {"node": node}))
    before = reachable(store)
    for i in range(1, 500):  # all in the first minute: no new rollup bucket either
        for node in ("a", "b"):
            store.add(Sample.of("m", float(i), i / 10, {"node": node}))
    assert len(store.query("m")) == 1000
    assert reachable(store) == before
