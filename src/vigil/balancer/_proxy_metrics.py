"""Per-replica Prometheus metrics of the data plane, cheap on the hot path.

The proxy (:mod:`vigil.balancer._proxy_exchange`) bumps plain integers on a per-upstream
:class:`UpstreamStats` object it looks up once per attempt; nothing locks, nothing allocates.
:class:`ProxyMetrics` is a ``prometheus_client`` collector registered in the registry passed in
(never the global one) that turns those integers into metric families at scrape time. This is
cheaper than pre-bound label children (each ``inc()``/``observe()`` there takes a lock) and
gives the same exposition. Built by ``vigil balance`` / ``vigil up``, one per worker process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Final

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry

from vigil.balancer._upstream import Upstream

if TYPE_CHECKING:
    from vigil.balancer._proxy_connpool import UpstreamPool
    from vigil.balancer._proxy_upstream import UpstreamConnection

# Latency buckets (seconds): from sub-millisecond proxy hops to multi-minute generations.
LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)
STATUS_CLASSES: Final = ("1xx", "2xx", "3xx", "4xx", "5xx")
# the label of answers the proxy gave itself (503 with no upstream, 400s)
NO_UPSTREAM: Final = "none"
# The buckets of a Histogram counted in native fields (its b0-b3, n0-n3)
FAST_BUCKETS: Final = 4


class Histogram:
    """Bucket counts and a sum; ``observe`` is a few unboxed compares and an int addition for a
    value in one of the first :data:`FAST_BUCKETS` buckets (a proxy's hops: 1-10 ms with the
    default bounds), a short scan otherwise."""

    __slots__ = ("b0", "b1", "b2", "b3", "bounds", "counts", "n0", "n1", "n2", "n3", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        # The first FAST_BUCKETS bounds and counts apart from the tuple and the list: compiled,
        # floats and ints held unboxed in the object, so such an observe boxes nothing (a list
        # item's += 1 is a generic add on a boxed int, ~300 instructions, and each bound
        # compared is unboxed from the tuple). Past the last bound the rest are infinite: a
        # value there is counted in the +Inf bucket (buckets() adds each n_i to counts[i]).
        fast = [*bounds[:FAST_BUCKETS], *[math.inf] * FAST_BUCKETS][:FAST_BUCKETS]
        self.b0, self.b1, self.b2, self.b3 = fast
        self.n0 = self.n1 = self.n2 = self.n3 = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.total += value
        if value <= self.b0:
            self.n0 += 1
        elif value <= self.b1:
            self.n1 += 1
        elif value <= self.b2:
            self.n2 += 1
        elif value <= self.b3:
            self.n3 += 1
        else:
            # the first bound >= value (bisect_left's answer), scanned from the first not
            # held apart: compiled this is a few compares where a call to bisect_left cost
            # more than the whole scan (NaN, which no compare takes, ends in the last bucket)
            bounds = self.bounds
            n = len(bounds)
            i = FAST_BUCKETS if n > FAST_BUCKETS else n
            while i < n and bounds[i] < value:
                i += 1
            counts = self.counts
            counts[i] = counts[i] + 1

    def buckets(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        fast = (self.n0, self.n1, self.n2, self.n3)
        counts = [n + (fast[i] if i < FAST_BUCKETS else 0) for i, n in enumerate(self.counts)]
        running = 0
        for bound, n in zip(self.bounds, counts, strict=False):
            running += n
            out.append((repr(bound), running))
        out.append(("+Inf", running + counts[-1]))
        return out


class UpstreamStats:
    """The counters of one upstream (or of :data:`NO_UPSTREAM`)."""

    __slots__ = (
        "duration",
        "errors",
        "idle",
        "idle_pool",
        "in_flight",
        "ok",
        "statuses",
        "ttfb",
        "upstream",
    )

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.statuses = [0, 0, 0, 0, 0]  # index = status // 100 - 1 (2xx: ``ok`` too)
        self.ok = 0  # 2xx answers (most): compiled, an unboxed int, no generic add per answer
        self.errors: dict[str, int] = {}
        self.in_flight = 0
        self.duration = Histogram(bounds)
        self.ttfb = Histogram(bounds)
        self.upstream: Upstream | None = None
        # the proxy's list of idle connections to the upstream (UpstreamPool.idle_list, never
        # replaced) and that pool's identity, kept by the exchanges: no key look-up per attempt
        self.idle: list[UpstreamConnection] | None = None
        self.idle_pool: UpstreamPool | None = None

    def status(self, code: int) -> None:
        if 200 <= code < 300:
            self.ok += 1
        else:
            self.statuses[min(max(code // 100, 1), 5) - 1] += 1

    def by_class(self) -> list[int]:
        """Answers per status class, 1xx to 5xx."""
        counts = list(self.statuses)
        counts[1] += self.ok
        return counts

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class ProxyMetrics:
    """The data plane's metrics; registered in ``registry`` when one is given.

    Series (label ``upstream`` is the replica id): ``<ns>_requests_total{code_class}``,
    ``<ns>_errors_total{kind}`` (an :class:`~vigil.balancer._upstream.Outcome` value),
    ``<ns>_request_duration_seconds`` and ``<ns>_time_to_first_byte_seconds`` histograms,
    ``<ns>_in_flight`` gauge, ``<ns>_ejections_total`` (read from the router's
    :class:`~vigil.balancer._upstream.Upstream`), and ``<ns>_retries_total{reason}``: ``not_sent``
    (the connection could not be opened), ``replayed`` (an idempotent request sent again after
    the replica closed before answering), ``unread`` (a request the replica reset unread, see
    ``ProxySettings.retry_on_reset``).
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "vigil_proxy",
        buckets: Iterable[float] = LATENCY_BUCKETS,
    ) -> None:
        self.namespace = namespace
        self._bounds = tuple(sorted(buckets))
        self._stats: dict[str, UpstreamStats] = {}
        self.retries: dict[str, int] = {}  # by reason (rare: only failed attempts count)
        if registry is not None:
            registry.register(self)

    def for_upstream(self, upstream: Upstream) -> UpstreamStats:
        stats = self._stats.get(upstream.id)
        if stats is None:
            stats = self._stats[upstream.id] = UpstreamStats(self._bounds)
        if stats.upstream is not upstream:
            stats.upstream = upstream
            stats.idle = None  # (an Upstream's address is never changed in place: a new one)
        return stats

    def retry(self, reason: str) -> None:
        """Count one attempt retried on another replica, for ``reason``."""
        self.retries[reason] = self.retries.get(reason, 0) + 1

    def unrouted(self) -> UpstreamStats:
        stats = self._stats.get(NO_UPSTREAM)
        if stats is None:
            stats = self._stats[NO_UPSTREAM] = UpstreamStats(self._bounds)
        return stats

    def describe(self) -> Iterator[Metric]:
        return self._families({})

    def collect(self) -> Iterator[Metric]:
        return self._families(dict(self._stats))

    def _families(self, stats: dict[str, UpstreamStats]) -> Iterator[Metric]:
        ns = self.namespace
        labels = ["upstream"]
        requests = CounterMetricFamily(
            f"{ns}_requests",
            "Responses sent, by replica and status class",
            labels=[*labels, "code_class"],
        )
        errors = CounterMetricFamily(
            f"{ns}_errors", "Failed attempts, by replica and outcome", labels=[*labels, "kind"]
        )
        duration = HistogramMetricFamily(
            f"{ns}_request_duration_seconds",
            "Attempt duration until the response ended",
            labels=labels,
        )
        ttfb = HistogramMetricFamily(
            f"{ns}_time_to_first_byte_seconds", "Attempt start to response head", labels=labels
        )
        in_flight = GaugeMetricFamily(f"{ns}_in_flight", "Attempts in flight", labels=labels)
        ejections = CounterMetricFamily(
            f"{ns}_ejections", "Outlier ejections reported by the pool", labels=labels
        )
        for uid, s in stats.items():
            for code_class, n in zip(STATUS_CLASSES, s.by_class(), strict=True):
                if n:
                    requests.add_metric([uid, code_class], n)
            for kind, n in s.errors.items():
                errors.add_metric([uid, kind], n)
            if uid == NO_UPSTREAM:
                continue
            duration.add_metric([uid], s.duration.buckets(), s.duration.total)
            ttfb.add_metric([uid], s.ttfb.buckets(), s.ttfb.total)
            in_flight.add_metric([uid], s.in_flight)
            if s.upstream is not None:
                ejections.add_metric([uid], s.upstream.ejections)
        retries = CounterMetricFamily(
            f"{ns}_retries", "Attempts retried on another replica, by reason", labels=["reason"]
        )
        for reason, n in self.retries.items():
            retries.add_metric([reason], n)
        yield from (requests, errors, duration, ttfb, in_flight, ejections, retries)
