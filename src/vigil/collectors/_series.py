"""In-memory series storage: a ring of recent points and 1-minute / 1-hour rollups per series.

Pure: no clock, no I/O; every sample carries its own time. The controller's metrics pipeline
adds the samples the agents push and the scrapes return; the series API
(``GET /api/v1/series``), ``vigil top`` and the rule engine query it. Persistence of the rollups
(with retention) belongs to :mod:`vigil.store`: the controller's flusher takes the closed
buckets from :meth:`SeriesStore.drain_closed` and queries pass older buckets back as ``history``.

Rollups are kept incrementally: each series holds its open minute and hour bucket and closes it
when a sample of a later bucket arrives, so an add costs O(1) whatever the history.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable, Mapping
from typing import NamedTuple, cast

from vigil.collectors import _rings as rings
from vigil.collectors._refusals import CardinalityError, Resent
from vigil.collectors._rings import Rollup
from vigil.collectors._sample import Labels, Sample, SampleBatch, freeze_labels
from vigil.errors import InputError

MINUTE, HOUR = 60.0, 3600.0
DEFAULT_MINUTES = 180
"""Minute rollups kept per series in memory (3 h): the dashboard's default range at 1-min step."""
DEFAULT_HOURS = 168
"""Hour rollups kept per series in memory (a week, for daily/weekly baselines)."""
MAX_RAW_POINTS = 50_000
"""Raw points a query reads at most. The query runs on the controller's event loop: the raw
points of one metric at 1,000 nodes (900 each) took ~0.7 s to merge and ~1.5 s to encode, 13 MB
of answer during which no heartbeat was read; 50,000 cost ~0.1 s. Beyond it the query is refused,
saying how to ask for less (labels, a shorter range, or a step that reads rollups)."""


class SeriesKey(NamedTuple):
    """A series: metric name and its sorted labels."""

    name: str
    labels: Labels


Closed = tuple[SeriesKey, float, Rollup]
"""A rollup bucket that will not change any more: its series, its width (60 or 3600), itself."""


class _Open:
    """Names of an open bucket's fields on :class:`_Series` (``m_*`` the minute, ``h_*`` the
    hour), for the few readers that are not the hot path."""

    MINUTE = ("m_start", "m_min", "m_max", "m_total", "m_count", "m_last")
    HOUR = ("h_start", "h_min", "h_max", "h_total", "h_count", "h_last")


class _Series:
    # points and closed buckets in flat arrays (see vigil.collectors._rings: the garbage
    # collector does not look into them); the open minute and hour buckets as plain fields
    # (m_* and h_*; a count of 0: none), not Rollup objects: 100,000 of them for 50,000
    # series, made anew at each minute boundary, made every full collection ~25 ms slower
    __slots__ = (
        "caps",
        "first_h",
        "first_m",
        "h_count",
        "h_last",
        "h_max",
        "h_min",
        "h_start",
        "h_total",
        "hours",
        "key",
        "last_at",
        "limit",
        "m_count",
        "m_last",
        "m_max",
        "m_min",
        "m_start",
        "m_total",
        "minute_end",
        "minutes",
        "points",
        "saved_h",
        "saved_m",
    )

    def __init__(self, key: SeriesKey, ring: int, minutes: int, hours: int) -> None:
        self.key = key
        self.points = array("d")  # at, value, at, value, ...
        self.limit = rings.limit(ring, rings.POINT)
        # the closed buckets: one less than the rollups kept, as the open bucket is the last
        self.minutes, self.hours = array("d"), array("d")
        self.caps = (ring, minutes - 1, hours - 1)
        self.last_at = -math.inf
        self.minute_end = -math.inf  # the end of the open minute: a sample before it falls in it
        self.m_start = self.m_min = self.m_max = self.m_total = self.m_last = 0.0
        self.h_start = self.h_min = self.h_max = self.h_total = self.h_last = 0.0
        self.m_count = self.h_count = 0
        # the start of the first minute and hour bucket this series opened in this process
        # (nan: none yet), and whether the store has it: a restart splits that bucket between
        # the store and memory (SeriesStore.query). Plain fields: no object for the GC to walk
        self.first_m = self.first_h = math.nan
        self.saved_m = self.saved_h = False

    def add(self, at: float, value: float, closed: list[Closed] | None) -> None:
        points = self.points
        points.append(at)
        points.append(value)
        if len(points) > self.limit:
            rings.trim(points, self.caps[0], rings.POINT)
        self.last_at = at
        if at < self.minute_end:  # the common case: the open minute (at > the last sample's
            # time, which is in it), so the open hour too; Rollup.add, inlined: this runs for
            # every sample (1,000 nodes x 50 series a second)
            if value < self.m_min:
                self.m_min = value
            elif value > self.m_max:
                self.m_max = value
            self.m_total += value
            self.m_last = value
            self.m_count += 1
            if value < self.h_min:
                self.h_min = value
            elif value > self.h_max:
                self.h_max = value
            self.h_total += value
            self.h_last = value
            self.h_count += 1
            return
        start = at - at % MINUTE
        if self.m_count:
            bucket = Rollup.of(
                self.m_start, self.m_min, self.m_max, self.m_total, self.m_count, self.m_last
            )
            self._close(self.minutes, self.caps[1], MINUTE, bucket, closed)
        else:
            self.first_m = start
        self.m_start, self.m_count = start, 1
        self.m_min = self.m_max = self.m_total = self.m_last = value
        self.minute_end = start + MINUTE
        start = at - at % HOUR
        if self.h_count and self.h_start == start:
            if value < self.h_min:
                self.h_min = value
            elif value > self.h_max:
                self.h_max = value
            self.h_total += value
            self.h_last = value
            self.h_count += 1
            return
        if self.h_count:
            bucket = Rollup.of(
                self.h_start, self.h_min, self.h_max, self.h_total, self.h_count, self.h_last
            )
            self._close(self.hours, self.caps[2], HOUR, bucket, closed)
        else:
            self.first_h = start
        self.h_start, self.h_count = start, 1
        self.h_min = self.h_max = self.h_total = self.h_last = value

    def _open(self, fields: tuple[str, ...]) -> Rollup | None:
        """The open bucket named by ``fields`` as a :class:`Rollup` (a copy), or None."""
        start, low, high, total, count, last = (getattr(self, f) for f in fields)
        if not count:
            return None
        return Rollup.of(start, low, high, rings.saturated(total), int(count), last)

    def _close(
        self,
        ring: array[float],
        cap: int,
        width: float,
        bucket: Rollup,
        closed: list[Closed] | None,
    ) -> None:
        """Keep ``bucket`` (the open one, now closed) in ``ring``; queue it in ``closed``."""
        bucket.total = rings.saturated(bucket.total)  # once a bucket, not on every sample
        rings.push(ring, cap, bucket)
        if closed is not None:
            closed.append((self.key, width, bucket))

    def open_buckets(self) -> list[tuple[float, Rollup]]:
        """The open minute and hour buckets (copies), with their widths."""
        out = []
        for width, fields in ((MINUTE, _Open.MINUTE), (HOUR, _Open.HOUR)):
            bucket = self._open(fields)
            if bucket is not None:
                out.append((width, bucket))
        return out

    def first(self, width: float) -> tuple[float, bool]:
        """The start of the first ``width`` bucket opened in this process (nan: none), and
        whether the store has it."""
        return (self.first_m, self.saved_m) if width == MINUTE else (self.first_h, self.saved_h)

    def _width(self, width: float) -> tuple[array[float], int, Rollup | None]:
        if width == MINUTE:
            return self.minutes, self.caps[1], self._open(_Open.MINUTE)
        return self.hours, self.caps[2], self._open(_Open.HOUR)

    def rollups(self, width: float) -> list[Rollup]:
        ring, cap, bucket = self._width(width)
        return rings.rollups(ring, cap) + ([] if bucket is None else [bucket])

    def parts(self, width: float) -> list[tuple[float, float, int]]:
        ring, cap, bucket = self._width(width)
        tail = [] if bucket is None else [(bucket.start, bucket.total, bucket.count)]
        return rings.parts(ring, cap) + tail

    def oldest(self, width: float) -> float | None:
        ring, cap, bucket = self._width(width)
        first = rings.first_start(ring, cap)
        return first if first is not None else None if bucket is None else bucket.start

    def count_in(self, start: float, end: float) -> int:
        """How many points of the ring lie in ``[start, end]`` (two bisections, no list)."""
        ats = self.points[max(0, len(self.points) - self.caps[0] * rings.POINT) :: rings.POINT]
        return bisect.bisect_right(ats, end) - bisect.bisect_left(ats, start)

    def recent(self) -> list[tuple[float, float]]:
        """The points of the ring, oldest first."""
        return rings.points(self.points, self.caps[0])

    def holds(self, at: float, value: float) -> bool:
        """Whether the ring holds the point ``(at, value)`` (a bisection; the refusal path only:
        a sample not newer than the last one). One older than the ring cannot be told apart
        from an out-of-order sample and stays refused."""
        first = max(0, len(self.points) - self.caps[0] * rings.POINT)
        ats = self.points[first :: rings.POINT]
        i = bisect.bisect_left(ats, at)
        return i < len(ats) and ats[i] == at and self.points[first + i * rings.POINT + 1] == value


_NO_SERIES: dict[str, _Series] = {}


def _matches(labels: Labels, wanted: Mapping[str, str]) -> bool:
    # a pair lookup in the (short) label tuple: no dict per series, which at 1,000 nodes made
    # each ``GET /api/v1/series?labels=node=...`` build 1,000 of them
    return all(pair in labels for pair in wanted.items())


class SeriesStore:
    """Recent points (``ring`` per series) and rollups for at most ``max_series`` series.

    A sample of a new series beyond ``max_series`` (or beyond ``max_per_name`` series of one
    metric name) raises :class:`~vigil.errors.InputError` and is not stored (the existing series
    keep working); so do non-finite values and samples not newer than the series' last one. The
    cardinality errors name the setting to raise: ``settings_prefix`` + ``max_series``.

    With ``keep_closed``, every rollup bucket that closes is also queued for
    :meth:`drain_closed` (the controller persists them); without it nothing is queued.
    """

    def __init__(
        self,
        max_series: int,
        ring: int,
        *,
        minutes: int = DEFAULT_MINUTES,
        hours: int = DEFAULT_HOURS,
        max_per_name: int | None = None,
        keep_closed: bool = False,
        settings_prefix: str = "",
    ) -> None:
        if max_series < 1 or ring < 1 or minutes < 1 or hours < 1:
            raise ValueError("max_series, ring, minutes and hours must all be >= 1")
        if max_per_name is not None and max_per_name < 1:
            raise ValueError("max_per_name must be >= 1")
        self.max_series = max_series
        self.max_per_name = max_per_name
        self._prefix = settings_prefix
        self._ring, self._minutes, self._hours = ring, minutes, hours
        self._series: dict[SeriesKey, _Series] = {}
        self._by_name: dict[str, set[SeriesKey]] = {}
        # the same series again, by labels then name: a push's samples share one labels tuple,
        # so add_batch finds each series with one lookup by (interned) name
        self._by_labels: dict[Labels, dict[str, _Series]] = {}
        self._closed: list[Closed] | None = [] if keep_closed else None
        self.persisted_from = {MINUTE: -math.inf, HOUR: -math.inf}
        """Per rollup width, the start of the oldest bucket persisted outside (the controller's
        flusher keeps it; -inf: unknown). Queries skip the store for ranges that begin at or
        after it, where the store cannot hold anything memory lacks."""
        self.saved_before = {MINUTE: math.inf, HOUR: math.inf}
        """Per rollup width, the start of the newest bucket the store held when this process
        began (the controller's flusher reads it; -inf: none; inf: unknown). A series' first
        bucket in memory that starts at or before it may have its earlier part in the store:
        a clean stop saves the open buckets, and the next start opens them afresh."""

    def __len__(self) -> int:
        return len(self._series)

    def add(self, sample: Sample, *, not_after: float = math.inf) -> None:
        """Store one sample; raises InputError (storing nothing) when it cannot be stored.

        ``not_after``: the latest time accepted (the caller's clock plus a margin). A sample
        from further ahead would be stored, and then every later sample of its series refused
        as not newer than it, until the clock caught up with it: for a time in milliseconds,
        for ever."""
        # a plain tuple hashes and compares as a SeriesKey, and is cheaper to build
        key = cast(SeriesKey, (sample.name, sample.labels))
        if not math.isfinite(sample.value):
            raise InputError(
                f"{sample.name}{_show(sample.labels)}: value {sample.value} at "
                f"{sample.at} is not a finite number; not stored"
            )
        if not math.isfinite(sample.at):  # a NaN start reached the store's rollups, where the
            # database refused the whole transaction with it: every series' bucket was lost
            raise InputError(
                f"{sample.name}{_show(sample.labels)}: time {sample.at} is not a finite "
                "number; not stored"
            )
        if sample.at > not_after:
            raise InputError(
                f"{sample.name}{_show(sample.labels)}: sample at {sample.at} is in the future "
                f"(accepted up to {not_after:.3f}); check the sender's clock and that times are "
                "Unix seconds, not milliseconds; not stored"
            )
        series = self._series.get(key)
        if series is None:
            series = self._create(sample.name, sample.labels)
        elif sample.at <= series.last_at:
            if series.holds(sample.at, sample.value):
                raise Resent(
                    f"{sample.name}{_show(sample.labels)}: sample at {sample.at} is already "
                    "stored (sent again); not stored twice"
                )
            raise InputError(
                f"{sample.name}{_show(sample.labels)}: sample at {sample.at} is not newer than "
                f"the last one ({series.last_at}); out-of-order samples, and samples at a "
                "stored time with another value, are dropped"
            )
        series.add(sample.at, sample.value, self._closed)

    def _create(self, name: str, labels: Labels) -> _Series:
        """A new series ``name{labels}``; CardinalityError when a limit is reached."""
        if len(self._series) >= self.max_series:
            raise CardinalityError(
                f"{name}{_show(labels)}: series limit of {self.max_series} "
                "reached; new series are refused (drop a high-cardinality label such as a "
                f"request id, or raise {self._prefix}max_series)"
            )
        same_name = self._by_name.setdefault(name, set())
        if self.max_per_name is not None and len(same_name) >= self.max_per_name:
            raise CardinalityError(
                f"{name}{_show(labels)}: limit of {self.max_per_name} series "
                f"named {name} reached; new ones are refused (drop a "
                "high-cardinality label such as a request id, or raise "
                f"{self._prefix}max_series_per_metric)"
            )
        key = SeriesKey(name, labels)
        series = self._series[key] = _Series(key, self._ring, self._minutes, self._hours)
        same_name.add(key)
        self._by_labels.setdefault(labels, {})[name] = series
        return series

    def add_batch(
        self, batch: SampleBatch, *, not_after: float = math.inf
    ) -> list[tuple[int, InputError]]:
        """Store every sample of ``batch`` that can be stored, as :meth:`add` would one by one
        (``not_after`` as there); the index and error of each of the others, in order.

        A known series with a finite value newer than its last one, and a new series with a
        finite value, are done here without a :class:`Sample`; a refused sample goes through
        :meth:`add`, which says exactly what is wrong.
        """
        failed: list[tuple[int, InputError]] = []
        closed, by_labels = self._closed, self._by_labels
        values, ats, labels_of = batch.values, batch.ats, batch.labels
        labels: Labels | None = None
        named: dict[str, _Series] = {}
        for i, name in enumerate(batch.names):
            if labels_of[i] is not labels:
                labels = labels_of[i]
                named = by_labels.get(labels, _NO_SERIES)
            series = named.get(name)
            at, value = ats[i], values[i]
            if series is None and value - value == 0.0 and at - at == 0.0 and at <= not_after:
                try:
                    series = self._create(name, labels)
                except CardinalityError as exc:
                    failed.append((i, exc))
                    continue
                named = by_labels[series.key.labels]
            # value - value is 0.0 for a finite float, nan for nan and +-inf; a new series
            # with a finite value and time is made here, anything else is judged by add()
            elif series is None or not series.last_at < at <= not_after or value - value != 0.0:
                try:  # add says exactly what is wrong
                    self.add(Sample(name, labels, value, at), not_after=not_after)
                except InputError as exc:
                    failed.append((i, exc))
                continue
            series.add(at, value, closed)
        return failed

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
        return sorted(k for k in self._by_name.get(name, ()) if _matches(k.labels, wanted))

    def last(self, key: SeriesKey) -> tuple[float, float] | None:
        """The newest point of one series, or None (``vigil top`` reads one per node)."""
        series = self._series.get(key)
        return rings.last_point(series.points) if series is not None else None

    def drain_closed(self) -> list[Closed]:
        """The buckets closed since the last call, oldest first (empty without ``keep_closed``)."""
        if not self._closed:
            return []
        closed, self._closed = self._closed, []
        return closed

    def open_buckets(self) -> list[Closed]:
        """Every series' open minute and hour bucket (persisted on a clean shutdown)."""
        return [
            (key, width, bucket)
            for key, series in self._series.items()
            for width, bucket in series.open_buckets()
        ]

    def mark_saved(self, closed: Iterable[Closed]) -> None:
        """Note that these buckets are in the store now (the flusher, after writing them): a
        series' first bucket is then read from the store whole (:meth:`query`)."""
        for key, width, bucket in closed:
            series = self._series.get(key)
            if series is None:
                continue
            if width == MINUTE and bucket.start == series.first_m:
                series.saved_m = True
            elif width == HOUR and bucket.start == series.first_h:
                series.saved_h = True

    def split_end(self, keys: Iterable[SeriesKey], width: float) -> float:
        """The latest start of a bucket of ``keys`` that a restart may have split (-inf: none):
        each series' first bucket in this process, when the store held buckets as new before
        this process began (``saved_before``). A query reads the store up to it."""
        before = self.saved_before[width]
        firsts = (self._series[k].first(width)[0] for k in keys if k in self._series)
        return max((f for f in firsts if f <= before), default=-math.inf)

    def mark_persisted(self, width: float, start: float) -> None:
        """Note that buckets of ``width`` from ``start`` on are persisted (keeps the minimum)."""
        current = self.persisted_from[width]
        if current == -math.inf or start < current:
            self.persisted_from[width] = start

    def oldest(self, keys: Iterable[SeriesKey], width: float) -> float:
        """The start of the oldest ``width`` bucket held in memory for ``keys`` (inf: none)."""
        if width not in (MINUTE, HOUR):
            raise ValueError(f"rollup width must be {MINUTE} or {HOUR}, not {width}")
        starts = [
            start
            for start in (self._series[k].oldest(width) for k in keys if k in self._series)
            if start is not None
        ]
        return min(starts, default=math.inf)

    def rollups(self, key: SeriesKey, width: float) -> list[Rollup]:
        """The minute (``width=60``) or hour (``3600``) rollups of one series, oldest first."""
        series = self._series.get(key)
        if series is None:
            return []
        if width not in (MINUTE, HOUR):
            raise ValueError(f"rollup width must be {MINUTE} or {HOUR}, not {width}")
        return series.rollups(width)

    def query(
        self,
        name: str,
        labels_filter: Mapping[str, str] | None = None,
        start: float = -math.inf,
        end: float = math.inf,
        step: float | None = None,
        history: Iterable[tuple[SeriesKey, float, float, int]] = (),
        approximate: set[float] | None = None,
    ) -> list[tuple[float, float]]:
        """Points of the matching series in ``[start, end]``, oldest first.

        Without ``step``, the raw points of the ring. With ``step``, one point per step-aligned
        bucket that has data: ``(bucket start, mean)``, read from the raw points for steps under
        a minute, the minute rollups under an hour, and the hour rollups otherwise (a bucket
        starts where its first rollup starts). When several series match, each bucket is the
        mean over all of them (raw points of all of them are merged in time order).

        ``history`` adds older rollups of the resolution the step picks (see :func:`width_for`),
        as ``(series, bucket start, sum, count)``, read from the store: a bucket also held in
        memory is taken from memory, except a series' first bucket in this process, which a
        restart split (a clean stop saved its earlier part, open): the store's part is added
        to memory's until the store has the bucket whole (:meth:`mark_saved`), then the store's
        is taken.

        ``approximate``, when given, receives the starts of the buckets whose mean is not
        exact: a sum in them (a rollup's, or theirs added up) passed the largest double and was
        held there (:func:`~vigil.collectors._rings.saturated`), so the mean is off by what
        overflowed, either way (a sum held at +max then lowered by negative values ends above
        the true one). Only values near 1e308 do that.
        """
        keys = self.match(name, labels_filter)
        if not step or step < MINUTE:
            raw = sum(self._series[k].count_in(start, end) for k in keys)
            if raw > MAX_RAW_POINTS:
                raise InputError(
                    f"query {name}: {raw:,} raw points of {len(keys):,} series in the range, "
                    f"more than the {MAX_RAW_POINTS:,} read at once: narrow query.labels "
                    "(e.g. node=gpu-01), shorten query.from / query.to, or give a query.step of "
                    "60 or more (read from the minute rollups)"
                )
        if not step:
            merged = [p for k in keys for p in self._series[k].recent() if start <= p[0] <= end]
            return sorted(merged, key=lambda point: point[0])
        if step < 0:
            raise InputError(f"query {name}: step must be > 0 (got {step})")
        sums: dict[float, list[float]] = {}

        held_at: set[float] = set()  # buckets with a sum held at the largest double

        def take(at: float, total: float, count: int) -> None:
            if start <= at <= end:
                bucket = sums.setdefault(at - at % step, [0.0, 0])
                bucket[0] += total
                bucket[1] += count
                if abs(total) >= rings.LARGEST:
                    held_at.add(at - at % step)

        width = MINUTE if step < HOUR else HOUR
        held: set[tuple[SeriesKey, float]] = set()
        # each series' first bucket in this process, and whether the store has it whole
        firsts: dict[tuple[SeriesKey, float], tuple[float, int, bool]] = {}
        for key in keys:
            series = self._series[key]
            first, saved = series.first(width) if step >= MINUTE else (math.nan, False)
            for at, total, count in self._parts(series, step):
                if at == first:  # judged with the store's rows below
                    firsts[key, at] = (total, count, saved)
                    continue
                take(at, total, count)
                held.add((key, at))
        for key, at, total, count in history if step >= MINUTE else ():
            mine = firsts.pop((key, at), None)
            if mine is not None:
                # a restart split this bucket: the store has its part from before, then (once
                # saved) the whole of it; memory has its part since
                if not mine[2]:
                    total, count = total + mine[0], count + mine[1]
                take(at, total, count)
            elif (key, at) not in held:  # memory wins: it holds the bucket's newest figures
                take(at, total, count)
        for (_, at), (total, count, _) in firsts.items():  # the store has nothing before them
            take(at, total, count)
        if approximate is not None:  # the sum of several series' buckets may overflow too
            approximate.update(at for at, (total, _) in sums.items() if abs(total) >= rings.LARGEST)
            approximate.update(held_at)
        return [(at, rings.saturated(total) / count) for at, (total, count) in sorted(sums.items())]

    @staticmethod
    def _parts(series: _Series, step: float) -> Iterable[tuple[float, float, int]]:
        if step < MINUTE:
            return ((at, value, 1) for at, value in series.recent())
        return series.parts(MINUTE if step < HOUR else HOUR)


def width_for(step: float | None) -> float | None:
    """The rollup width a query ``step`` reads: None (raw points) under a minute, 60 under an
    hour, else 3600."""
    if not step or step < MINUTE:
        return None
    return MINUTE if step < HOUR else HOUR


def _show(labels: Labels) -> str:
    return "{" + ",".join(f'{key}="{value}"' for key, value in labels) + "}"


def key_of(name: str, labels: Mapping[str, str] | None = None) -> SeriesKey:
    """The :class:`SeriesKey` of ``name{labels}`` (labels given as a dict)."""
    return SeriesKey(name, freeze_labels(labels))
