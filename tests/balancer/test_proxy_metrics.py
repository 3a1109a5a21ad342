"""The data plane's counters: histogram buckets and status classes as Prometheus reads them."""

from __future__ import annotations

import bisect
import random

from prometheus_client.registry import CollectorRegistry

from vigil.balancer._proxy_metrics import LATENCY_BUCKETS, Histogram, ProxyMetrics
from vigil.balancer._upstream import Upstream


def cumulative(bounds: tuple[float, ...], values: list[float]) -> list[float]:
    """The cumulative bucket counts, by bisect (a value on a bound is in that bound's bucket)."""
    counts = [0] * (len(bounds) + 1)
    for value in values:
        counts[bisect.bisect_left(bounds, value)] += 1
    running, out = 0, []
    for n in counts:
        running += n
        out.append(float(running))
    return out


def test_histogram_buckets_are_the_cumulative_counts_of_bisect() -> None:
    rng = random.Random(3)
    values = [rng.uniform(0, 0.004) for _ in range(500)]  # most in the first bucket
    values += [rng.uniform(0, 400) for _ in range(500)]  # some past the last bound
    values += [0.0, 0.001, 0.0025, 300.0, 1e-9, 0.0010001]  # on and next to the bounds
    hist = Histogram(LATENCY_BUCKETS)
    for value in values:
        hist.observe(value)
    got = hist.buckets()
    assert [label for label, _ in got] == [repr(b) for b in LATENCY_BUCKETS] + ["+Inf"]
    assert [n for _, n in got] == cumulative(LATENCY_BUCKETS, values)
    assert abs(hist.total - sum(values)) < 1e-6


def test_histogram_without_bounds_counts_everything_in_inf() -> None:
    hist = Histogram(())
    for value in (0.0, 1.0, 1e9):
        hist.observe(value)
    assert hist.buckets() == [("+Inf", 3)]


def test_status_classes_count_2xx_with_the_others() -> None:
    registry = CollectorRegistry()
    metrics = ProxyMetrics(registry)
    stats = metrics.for_upstream(Upstream("a", "127.0.0.1", 8001))
    for code in (200, 204, 299, 101, 301, 404, 499, 500, 503, 200):
        stats.status(code)
    assert stats.by_class() == [1, 4, 1, 2, 2]
    for code_class, n in zip(("1xx", "2xx", "3xx", "4xx", "5xx"), (1, 4, 1, 2, 2), strict=True):
        value = registry.get_sample_value(
            "vigil_proxy_requests_total", {"upstream": "a", "code_class": code_class}
        )
        assert value == n


def test_histogram_with_fewer_bounds_than_it_counts_natively() -> None:
    # the first FAST_BUCKETS buckets are native fields: with fewer bounds the rest are +Inf
    rng = random.Random(5)
    for bounds in ((0.5,), (0.001, 0.5), (0.001, 0.01, 0.1), (1.0, 2.0, 3.0, 4.0, 5.0)):
        values = [rng.uniform(0, 6) for _ in range(300)] + list(bounds) + [0.0, 1e9]
        hist = Histogram(bounds)
        for value in values:
            hist.observe(value)
        got = hist.buckets()
        assert [label for label, _ in got] == [repr(b) for b in bounds] + ["+Inf"]
        assert [n for _, n in got] == cumulative(bounds, values)
