"""A batch in columns is stored exactly as its samples one by one: same series, points, rollups
and errors (the lean heartbeat path stores pushes this way)."""

from __future__ import annotations

import contextlib
import math
import random

import pytest

from vigil.collectors import (
    CardinalityError,
    Sample,
    SampleBatch,
    SeriesStore,
    freeze_labels,
)
from vigil.errors import InputError

NODE = freeze_labels({"node": "n1"})
GPU = freeze_labels({"node": "n1", "gpu": "0"})


def batch_of(samples: list[Sample]) -> SampleBatch:
    return SampleBatch(
        [s.name for s in samples],
        [s.labels for s in samples],
        [s.value for s in samples],
        [s.at for s in samples],
    )


def state(store: SeriesStore) -> list[object]:
    out: list[object] = []
    for key in store.series():
        out.append((key, store.query(key.name, dict(key.labels))))
        for width in (60.0, 3600.0):
            out.append(
                [
                    (r.start, r.min, r.max, r.total, r.count, r.last)
                    for r in store.rollups(key, width)
                ]
            )
    out.append([(k, w, r.start, r.count, r.total) for k, w, r in store.drain_closed()])
    return out


def stores() -> tuple[SeriesStore, SeriesStore]:
    def make() -> SeriesStore:
        return SeriesStore(max_series=6, ring=50, max_per_name=4, keep_closed=True)

    return make(), make()


def test_a_random_stream_of_pushes_stores_the_same_as_sample_by_sample() -> None:
    rng = random.Random(7)
    one, batched = stores()
    errors_one: list[str] = []
    errors_batched: list[str] = []
    at = 3590.0  # crosses minutes and an hour
    for _ in range(300):
        at += rng.choice([0.5, 1.0, 7.0, 61.0])
        push = []
        for name in ("m.a", "m.b", "m.c"):
            labels = rng.choice([NODE, GPU, freeze_labels({"node": f"n{rng.randrange(4)}"})])
            when = at - rng.choice([0.0, 0.0, 0.0, 2.0])  # now and then out of order
            value = rng.choice([rng.uniform(-5, 5)] * 8 + [math.nan, math.inf])
            push.append(Sample(name, labels, value, when))
        push.append(push[0])  # a duplicate within the push
        errors_one += [str(e) for e in one.add_all(push)]
        batch = batch_of(push)
        failed = batched.add_batch(batch)
        errors_batched += [str(e) for _, e in failed]
        assert all(isinstance(e, InputError) for _, e in failed)
        assert sorted(i for i, _ in failed) == [i for i, _ in failed]
    assert errors_batched == errors_one
    assert any("series limit" in e for e in errors_one)  # the stream did reach every case
    assert any("not a finite" in e for e in errors_one)
    assert any("not newer" in e for e in errors_one)
    assert state(batched) == state(one)


def test_a_refused_sample_is_named_by_its_index_and_the_rest_are_stored() -> None:
    store = SeriesStore(max_series=1, ring=10)
    batch = batch_of([Sample("a", NODE, 1.0, 10.0), Sample("b", NODE, 2.0, 10.0)])
    ((index, error),) = store.add_batch(batch)
    assert index == 1 and isinstance(error, CardinalityError)
    assert store.query("a") == [(10.0, 1.0)]


def test_a_batch_is_a_sequence_of_its_samples() -> None:
    samples = [Sample("a", NODE, 1.0, 10.0), Sample("b", GPU, 2.5, 11.0)]
    batch = batch_of(samples)
    assert len(batch) == 2
    assert list(batch) == samples
    assert batch[1] == samples[1] and batch[-1] == samples[1]
    assert batch[0:1] == samples[:1]


def test_columns_of_different_lengths_are_refused_naming_each() -> None:
    with pytest.raises(ValueError, match="2 names, 1 labels"):
        SampleBatch(["a", "b"], [NODE], [1.0, 2.0], [1.0, 2.0])


def test_a_batch_refuses_samples_later_than_not_after_as_add_does() -> None:
    by_batch, by_sample = stores()
    samples = [
        Sample("gpu.temp", GPU, 50.0, 100.0),
        Sample("gpu.temp", GPU, 51.0, 9e12),  # a time in milliseconds
        Sample("host.cpu", NODE, 5.0, 9e12),  # a new series from the future
        Sample("gpu.temp", GPU, 52.0, 101.0),
    ]
    failed = by_batch.add_batch(batch_of(samples), not_after=500.0)
    assert [i for i, _ in failed] == [1, 2]
    assert all("in the future" in str(exc) for _, exc in failed)
    for sample in samples:
        with contextlib.suppress(InputError):
            by_sample.add(sample, not_after=500.0)
    assert state(by_batch) == state(by_sample)
    assert by_batch.query("gpu.temp") == [(100.0, 50.0), (101.0, 52.0)]


@pytest.mark.parametrize("at", [math.nan, math.inf, -math.inf])
def test_a_time_that_is_not_a_finite_number_is_refused_one_by_one_and_in_a_batch(
    at: float,
) -> None:
    # a NaN time was stored (every comparison with it is false): its rollup's start was NaN
    for known in (False, True):
        one, many = SeriesStore(10, 10, keep_closed=True), SeriesStore(10, 10, keep_closed=True)
        if known:
            for store in (one, many):
                store.add(Sample("m", NODE, 1.0, 5.0))
        odd = Sample("m", NODE, 2.0, at)
        with pytest.raises(InputError, match=r"m\{node=\"n1\"\}: time .* is not a finite number"):
            one.add(odd, not_after=1e9)
        [(index, error)] = many.add_batch(batch_of([odd]), not_after=1e9)
        assert index == 0 and "not a finite number" in str(error)
        later = Sample("m", NODE, 3.0, 70.0)  # the next minute: closes whatever is open
        one.add(later)
        many.add_batch(batch_of([later]))
        for store in (one, many):
            assert all(math.isfinite(r.start) for _, _, r in store.drain_closed())
            assert store.query("m") == ([(5.0, 1.0)] if known else []) + [(70.0, 3.0)]
