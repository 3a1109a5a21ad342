"""In-memory series storage: a ring of recent points and 1-minute / 1-hour rollups per series.

Pure: no clock, no I/O; every sample carries its own time. The controller's metrics pipeline
adds the samples the agents push and the scrapes return; the series API
(``GET /api/v1/series``), ``vigil top`` and the rule engine query it. Persistence of the rollups
(with retention) belongs to :mod:`vigil.store`, which reads :meth:`SeriesStore.rollups`.

Rollups are kept incrementally: each series holds its open minute and hour bucket and closes it
when a sample of a later bucket arrives, so an add costs O(1) whatever the history.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from vigil.collectors._sample import Labels, Sample, freeze_labels
from vigil.errors import InputError

MINUTE, HOUR = 60.0, 3600.0
DEFAULT_MINUTES = 180
"""Minute rollups kept per series in memory (3 h): the dashboard's default range at 1-min step."""
DEFAULT_HOURS = 168
"""Hour rollups kept per series in memory (a week, for daily/weekly baselines)."""


class SeriesKey(NamedTuple):
    """A series: metric name and its sorted labels."""

    name: str
    labels: Labels


class Rollup:
    """Aggregate of one series over ``[start, start + width)``: min, max, mean, count, last."""

    __slots__ = ("count", "last", "max", "min", "start", "total")

    def __init__(self, start: float, value: float) -> None:
        self.start = start
        self.min = self.max = self.last = self.total = value
        self.count = 1

    def add(self, value: float) -> None:
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        self.total += value
        self.last = value
        self.count += 1

    @property
    def mean(self) -> float:
        return self.total / self.count

    def __repr__(self) -> str:
        return (
            f"Rollup(start={self.start!r}, min={self.min!r}, max={self.max!r}, "
            f"mean={self.mean!r}, count={self.count}, last={self.last!r})"
        )


class _Series:
    __slots__ = ("hours", "last_at", "minutes", "points")

    def __init__(self, ring: int, minutes: int, hours: int) -> None:
        self.points: deque[tuple[float, float]] = deque(maxlen=ring)
        self.minutes: deque[Rollup] = deque(maxlen=minutes)  # the last one is the open bucket
        self.hours: deque[Rollup] = deque(maxlen=hours)
        self.last_at = -math.inf

    def add(self, at: float, value: float) -> None:
        self.points.append((at, value))
        self.last_at = at
        for buckets, width in ((self.minutes, MINUTE), (self.hours, HOUR)):
            start = at - at % width
            if buckets and buckets[-1].start == start:
                buckets[-1].add(value)
            else:
                buckets.append(Rollup(start, value))


def _matches(labels: Labels, wanted: Mapping[str, str]) -> bool:
    have = dict(labels)
    return all(have.get(key) == value for key, value in wanted.items())


class SeriesStore:
    """Recent points (``ring`` per series) and rollups for at most ``max_series`` series.

    A sample of a new series beyond ``max_series`` raises :class:`~vigil.errors.InputError` and is
    not stored (the existing series keep working); so do non-finite values and samples not newer
    than the series' last one.
    """

    def __init__(
        self,
        max_series: int,
        ring: int,
        *,
        minutes: int = DEFAULT_MINUTES,
        hours: int = DEFAULT_HOURS,
    ) -> None:
        if max_series < 1 or ring < 1 or minutes < 1 or hours < 1:
            raise ValueError("max_series, ring, minutes and hours must all be >= 1")
        self.max_series = max_series
        self._ring, self._minutes, self._hours = ring, minutes, hours
        self._series: dict[SeriesKey, _Series] = {}

    def __len__(self) -> int:
        return len(self._series)

    def add(self, sample: Sample) -> None:
        """Store one sample; raises InputError (storing nothing) when it cannot be stored."""
        key = SeriesKey(sample.name, sample.labels)
        if not math.isfinite(sample.value):
            raise InputError(
                f"{sample.name}{_show(sample.labels)}: value {sample.value} at "
                f"{sample.at} is not a finite number; not stored"
            )
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= self.max_series:
                raise InputError(
                    f"{sample.name}{_show(sample.labels)}: series limit of {self.max_series} "
                    "reached; new series are refused (drop a high-cardinality label such as a "
                    "request id, or raise max_series)"
                )
            series = self._series[key] = _Series(self._ring, self._minutes, self._hours)
        elif sample.at <= series.last_at:
            raise InputError(
                f"{sample.name}{_show(sample.labels)}: sample at {sample.at} is not newer than "
                f"the last one ({series.last_at}); out-of-order and duplicate samples are dropped"
            )
        series.add(sample.at, sample.value)

    def add_all(self, samples: Iterable[Sample]) -> list[InputError]:
        """Store every sample that can be stored; the errors of the others, in order."""
        errors: list[InputError] = []
        for sample in samples:
            try:
                self.add(sample)
            except InputError as exc:
                errors.append(exc)
        return errors

    def series(self) -> list[SeriesKey]:
        """Every stored series, sorted."""
        return sorted(self._series)

    def match(self, name: str, labels_filter: Mapping[str, str] | None = None) -> list[SeriesKey]:
        """The series named ``name`` whose labels include every pair of ``labels_filter``."""
        wanted = labels_filter or {}
        return sorted(k for k in self._series if k.name == name and _matches(k.labels, wanted))

    def rollups(self, key: SeriesKey, width: float) -> list[Rollup]:
        """The minute (``width=60``) or hour (``3600``) rollups of one series, oldest first."""
        series = self._series.get(key)
        if series is None:
            return []
        if width not in (MINUTE, HOUR):
            raise ValueError(f"rollup width must be {MINUTE} or {HOUR}, not {width}")
        return list(series.minutes if width == MINUTE else series.hours)

    def query(
        self,
        name: str,
        labels_filter: Mapping[str, str] | None = None,
        start: float = -math.inf,
        end: float = math.inf,
        step: float | None = None,
    ) -> list[tuple[float, float]]:
        """Points of the matching series in ``[start, end]``, oldest first.

        Without ``step``, the raw points of the ring. With ``step``, one point per step-aligned
        bucket that has data: ``(bucket start, mean)``, read from the raw points for steps under
        a minute, the minute rollups under an hour, and the hour rollups otherwise (a bucket
        starts where its first rollup starts). When several series match, each bucket is the
        mean over all of them (raw points of all of them are merged in time order).
        """
        keys = self.match(name, labels_filter)
        if not step:
            merged = [p for k in keys for p in self._series[k].points if start <= p[0] <= end]
            return sorted(merged, key=lambda point: point[0])
        if step < 0:
            raise InputError(f"query {name}: step must be > 0 (got {step})")
        sums: dict[float, list[float]] = {}
        for key in keys:
            for at, total, count in self._parts(self._series[key], step):
                if start <= at <= end:
                    bucket = sums.setdefault(at - at % step, [0.0, 0])
                    bucket[0] += total
                    bucket[1] += count
        return [(at, total / count) for at, (total, count) in sorted(sums.items())]

    @staticmethod
    def _parts(series: _Series, step: float) -> Iterable[tuple[float, float, int]]:
        if step < MINUTE:
            return ((at, value, 1) for at, value in series.points)
        rollups = series.minutes if step < HOUR else series.hours
        return ((r.start, r.total, r.count) for r in rollups)


def _show(labels: Labels) -> str:
    return "{" + ",".join(f'{key}="{value}"' for key, value in labels) + "}"


def key_of(name: str, labels: Mapping[str, str] | None = None) -> SeriesKey:
    """The :class:`SeriesKey` of ``name{labels}`` (labels given as a dict)."""
    return SeriesKey(name, freeze_labels(labels))
