"""Bursts: a template whose rate is far above its own baseline.

Pure: no I/O, no clock; :meth:`BurstDetector.observe` takes ``now`` (seconds, any origin).

Time is cut into buckets of ``bucket_seconds``. Each template keeps an EWMA of its count per
bucket, the baseline ``lam`` (empty buckets count as zeros)::

    lam <- lam + a (count - lam)      a = 2 / (span_buckets + 1)

(for its first ``1/a`` buckets ``a = 1/n``, the plain mean, so a young baseline is not biased
towards zero). Once a template has ``min_buckets`` closed buckets, a bucket whose count reaches
the smallest ``k`` with::

    P(X >= k | X ~ Poisson(max(lam, MIN_RATE))) < alpha       and      k >= min_count

is a burst, reported once, at the line that crosses it (no waiting for the bucket's end). The
p-value is computed in log space (:func:`poisson_log_sf`). ``k`` is looked up once per bucket
in a cache keyed by ``lam`` rounded up to a 1% geometric grid (``k`` grows with ``lam``, so the
rounding errs on the side of silence, by less than a 1% change of rate). Score::

    score = min(1, log p / (2 log alpha))     0.5 at the threshold, 1 at p = alpha^2

A burst bucket updates the baseline ``burst_slowdown`` times more slowly (``a / 10`` by
default) instead of being excluded: a short burst barely moves the baseline, while a new rate
that lasts becomes normal after about ``1 / (a / 10)`` buckets (about 300 buckets, 50 minutes
with the defaults; sooner in practice, since every bucket of the new rate that falls under the
threshold updates at full speed).

Real logs are burstier than Poisson (over-dispersed), hence the small default ``alpha``.
Memory: at most ``max_templates`` templates are tracked (least recently seen dropped; one that
comes back starts a new baseline), each with at most ``_blame.MAX_SOURCES`` per-source counters
per bucket (a heavy-hitters summary: a source with a large share of a bucket is counted however
late it starts) (see :data:`DEFAULT_MAX_TEMPLATES`).

Whom a burst is about (:mod:`vigil.logs.analysis._blame`): the lines of the open bucket are
counted per source too, and the finding names the sources whose lines rose, not the one whose
line crossed the threshold; on two nodes or more it is fleet-wide (source ``fleet``). A bucket
reported on one node that then rises on another is reported once more, fleet-wide; and while a
fleet-wide burst lasts (consecutive burst buckets) it stays fleet-wide even when one node's
lines alone cross the threshold first.

Merges: :meth:`BurstDetector.merged` folds the baseline of a template merged away (two templates
the miner found to be one) into its survivor's, rates added: the survivor is judged against the
rate of both at once, not from a fresh start (a burst just after a merge went unseen).

Restarts: :meth:`BurstDetector.to_dict` / :meth:`BurstDetector.restore` carry the baselines
(and the open bucket's marks: whom its burst was reported on, whether fleet-wide; and the
per-source counts of the open bucket and the one before, so a burst is blamed on the same nodes
as without the restart) over a restart of the controller, and
:meth:`BurstDetector.unobserved` skips the time it was down (nothing was counted then, so it
must not decay the baselines as empty buckets would: a baseline decayed to nothing makes the
first ordinary bucket after a restart look like a burst).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.logs.analysis import _blame
from vigil.logs.analysis._finding import (
    LogFinding,
    LogFindingKind,
    level_severity,
    raise_severity,
    severe_words,
    severity_rank,
)
from vigil.logs.analysis._poisson import poisson_log_sf, poisson_threshold
from vigil.model import Severity

DEFAULT_BUCKET_SECONDS = 10.0
"""Ten seconds: short enough to see a burst while it happens, long enough to hold counts."""

DEFAULT_SPAN_BUCKETS = 60
"""The baseline remembers about ten minutes (60 buckets of 10 s): the current hour's rhythm."""

DEFAULT_ALPHA = 1e-6
"""With 1000 busy templates and 8640 buckets a day, at most a few false bursts a day."""

DEFAULT_MIN_COUNT = 5
"""Fewer than five lines in a bucket is never a burst, however rare the template."""

DEFAULT_MIN_BUCKETS = 6
"""A baseline needs a minute of history (six buckets) before it judges anything."""

DEFAULT_BURST_SLOWDOWN = 10.0
"""A burst bucket moves the baseline ten times less than an ordinary one."""

DEFAULT_MAX_TEMPLATES = 10_000
"""Ten thousand baselines: far more templates than a service is active in. About 0.6 KB each
for a template one source logs, up to ~2.1 KB for one logged by 32 sources or more (the
per-source counts of the open bucket and the one before, capped by ``_blame.MAX_SOURCES``):
at most ~21 MB (``bench/burst_memory.py``)."""

MAX_FILLED = 360
"""Past buckets a backlog (:meth:`BurstDetector.backlog`) fills at most: an hour of 10 s
buckets; an older one would weigh less than ``(1 - a) ** 360`` in the baseline."""

_GRID = math.log(1.01)  # the threshold cache's step: 1% of rate, ~2000 entries from 1e-3 to 1e6

MIN_RATE = 1e-3
"""The baseline's floor per bucket: below one line in a thousand buckets the EWMA holds no
information, and the floor keeps ``log lam`` finite for a template that went quiet."""


@dataclass(slots=True)
class _Track:
    bucket: int
    count: int = 0
    rate: float = 0.0
    closed: int = 0
    threshold: int = 0  # the burst count for the open bucket, 0 while the baseline is young
    flagged: bool = False
    sources: _blame.Counters = field(default_factory=_blame.Counters)  # the open bucket's
    before: dict[str, int] = field(default_factory=dict)  # the bucket before's (if adjacent)
    before_total: int = 0
    blamed: str = ""  # the node a burst of the open bucket was reported on ("" if fleet-wide)
    fleet: bool = False  # the open bucket's burst was reported fleet-wide
    fleet_before: bool = False  # so was the bucket before's


class BurstDetector:
    """Reports a template whose count in a bucket is improbable under its own baseline."""

    def __init__(
        self,
        *,
        bucket_seconds: float = DEFAULT_BUCKET_SECONDS,
        span_buckets: int = DEFAULT_SPAN_BUCKETS,
        alpha: float = DEFAULT_ALPHA,
        min_count: int = DEFAULT_MIN_COUNT,
        min_buckets: int = DEFAULT_MIN_BUCKETS,
        burst_slowdown: float = DEFAULT_BURST_SLOWDOWN,
        max_templates: int = DEFAULT_MAX_TEMPLATES,
    ) -> None:
        if bucket_seconds <= 0:
            raise ValueError(f"bucket_seconds must be > 0 (got {bucket_seconds})")
        if span_buckets < 1:
            raise ValueError(f"span_buckets must be >= 1 (got {span_buckets})")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1) (got {alpha})")
        if burst_slowdown < 1:
            raise ValueError(f"burst_slowdown must be >= 1 (got {burst_slowdown})")
        if max_templates < 1:
            raise ValueError(f"max_templates must be >= 1 (got {max_templates})")
        self.bucket_seconds = bucket_seconds
        self.smoothing = 2.0 / (span_buckets + 1)
        self.alpha = alpha
        self.min_count = max(1, min_count)
        self.min_buckets = max(1, min_buckets)
        self.burst_slowdown = burst_slowdown
        self.max_templates = max_templates
        self._log_alpha = math.log(alpha)
        self._tracks: OrderedDict[int, _Track] = OrderedDict()
        self._thresholds: dict[int, int] = {}

    def __len__(self) -> int:
        """How many templates are tracked."""
        return len(self._tracks)

    def baseline(self, template_id: int) -> float | None:
        """The template's baseline count per bucket, ``None`` if it is not tracked."""
        track = self._tracks.get(template_id)
        return None if track is None else track.rate

    def to_dict(self) -> dict[str, Any]:
        """The baselines as JSON-ready data (most recently seen last)."""
        return {
            "bucket_seconds": self.bucket_seconds,
            "tracks": [
                [
                    *(tid, t.bucket, t.count, t.rate, t.closed, t.threshold, t.flagged),
                    *(t.blamed, t.fleet, t.fleet_before),
                    *(t.sources.as_dict(), t.before, t.before_total),
                ]
                for tid, t in self._tracks.items()
            ],
        }

    def restore(self, data: Mapping[str, Any]) -> bool:
        """Take the baselines of :meth:`to_dict`; False (nothing taken) when they were measured
        in buckets of another width. Raises ValueError / TypeError / KeyError on bad data.

        The open bucket's marks (whom its burst was reported on, whether fleet-wide, and whether
        the bucket before's was) come with it: without them a burst already reported fleet-wide
        was reported fleet-wide once more after a restart within its bucket. So do the per-source
        counts of the open bucket and of the bucket before (at most ``_blame.MAX_SOURCES`` each):
        without them the lines counted before a restart were nobody's and a node logging at its
        usual rate after it "rose" (the bucket before was empty), so one node's burst came out
        fleet-wide. A track saved before the marks were kept (seven fields) has none, and one
        saved before the counts were (ten fields) has no counts, as then."""
        if float(data["bucket_seconds"]) != self.bucket_seconds:
            return False
        tracks: OrderedDict[int, _Track] = OrderedDict()
        for saved in data["tracks"]:
            if len(saved) not in (7, 10, 13):
                raise ValueError(f"a burst track has 7, 10 or 13 fields (got {len(saved)})")
            tid, bucket, count, rate, closed, threshold, flagged = saved[:7]
            blamed, fleet, fleet_before = saved[7:10] if len(saved) >= 10 else ("", False, False)
            if not isinstance(blamed, str):
                raise TypeError(f"a burst track's blamed node is a string (got {blamed!r})")
            track = _Track(
                int(bucket),
                int(count),
                float(rate),
                int(closed),
                int(threshold),
                bool(flagged),
                blamed=blamed,
                fleet=bool(fleet),
                fleet_before=bool(fleet_before),
            )
            if len(saved) == 13:
                for source, lines in _source_counts(saved[10]).items():
                    track.sources.add(source, lines)
                track.before = _source_counts(saved[11])
                track.before_total = int(saved[12])
            tracks[int(tid)] = track
        while len(tracks) > self.max_templates:
            tracks.popitem(last=False)
        self._tracks = tracks
        return True

    def unobserved(self, since: float, until: float) -> None:
        """Nothing was observed from ``since`` to ``until`` (the controller was down): the open
        buckets resume at ``until`` as if no time had passed, empty. What an open bucket held
        was counted before ``since``, in part of a bucket: added to the lines of the bucket
        ``until`` falls in, it would make up to two buckets' worth of lines, a burst of any
        busy template; it is left out (the baseline is not fed a part of a bucket either)."""
        skip = math.floor(until / self.bucket_seconds) - math.floor(since / self.bucket_seconds)
        if skip > 0:
            for track in self._tracks.values():
                track.bucket += skip
                track.count, track.flagged = 0, False
                track.sources, track.before, track.before_total = _blame.Counters(), {}, 0
                track.blamed, track.fleet, track.fleet_before = "", False, False

    def backlog(
        self,
        template_id: int,
        now: float,
        first: float,
        last: float,
        count: int,
        *,
        template: str = "",
        level: str | None = None,
        source: str = "",
    ) -> LogFinding | None:
        """``count`` lines logged evenly from ``first`` to ``last``, received at ``now``: the
        backlog of a source that was cut off (an agent's batch spanning its outage).

        The lines count in the buckets of the time they were logged: each bucket from the
        template's open one (at most :data:`MAX_FILLED` back) takes its share, unjudged (it is
        the past), so the baseline does not decay over the outage as if nothing had been logged
        (a baseline decayed to nothing makes an ordinary rate a burst); only the share of the
        bucket of ``now`` is judged. The share of buckets the template has closed already (other
        sources' lines moved it on) is counted by none: the baseline cannot take it back.
        """
        if not last > first:
            return self.observe(
                template_id, now, template=template, level=level, source=source, count=count
            )
        width = self.bucket_seconds
        current = math.floor(now / width)
        track = self._tracks.get(template_id)
        start = max(first, (current - MAX_FILLED) * width)
        if track is not None:
            start = max(start, track.bucket * width)
        end = min(last, (current + 1) * width)  # a later line (clocks apart) is one of now
        per_second = count / (last - first)
        found: LogFinding | None = None
        at, carried = start, 0.0
        while at < end:
            bucket = math.floor(at / width)
            upto = end if bucket >= current else min(end, (bucket + 1) * width)
            exact = per_second * (upto - at) + carried
            lines = int(exact)
            carried = exact - lines
            if lines:
                when = now if bucket >= current else bucket * width
                finding = self.observe(
                    template_id, when, template=template, level=level, source=source, count=lines
                )
                if bucket >= current:
                    found = finding
            at = upto
        return found

    def observe(
        self,
        template_id: int,
        now: float,
        *,
        template: str = "",
        level: str | None = None,
        source: str = "",
        count: int = 1,
    ) -> LogFinding | None:
        """Count ``count`` lines of ``template_id`` at ``now``; a finding when they make a burst.

        A line older than the template's open bucket (out of order) is counted in that bucket.
        """
        bucket = math.floor(now / self.bucket_seconds)
        track = self._tracks.get(template_id)
        if track is None:
            track = self._tracks[template_id] = _Track(bucket)
            if len(self._tracks) > self.max_templates:
                self._tracks.popitem(last=False)
        else:
            self._tracks.move_to_end(template_id)
            if bucket > track.bucket:
                self._close(track, bucket)
        track.count += count
        track.sources.add(source, count)
        if track.flagged:
            return self._widened(template_id, track, now, template, level, source)
        if not track.threshold or track.count < track.threshold:
            return None
        track.flagged = True
        return self._finding(template_id, track, now, template, level, source)

    def _widened(
        self,
        template_id: int,
        track: _Track,
        now: float,
        template: str,
        level: str | None,
        source: str,
    ) -> LogFinding | None:
        """A burst reported on one node that rises on another too: once more, fleet-wide."""
        if track.fleet or _blame.node_of(source) == track.blamed:
            return None
        lam = max(track.rate, MIN_RATE)
        args = (track.sources, track.before, track.before_total, lam, self.min_count)
        if not _blame.is_involved(source, *args):
            return None
        involved = _blame.involved(*args)
        if _blame.nodes_of(involved) < 2:  # the first was named after the line that crossed
            return None
        return self._finding(template_id, track, now, template, level, source)

    def _close(self, track: _Track, bucket: int) -> None:
        """Fold the open bucket and the empty ones after it into the baseline; open ``bucket``."""
        a = self.smoothing
        step = max(a, 1.0 / (track.closed + 1))
        if track.flagged:
            step /= self.burst_slowdown
        track.rate += step * (track.count - track.rate)
        track.closed += 1
        gap = bucket - track.bucket - 1
        while gap > 0 and (track.closed + 1) * a < 1.0:  # young baseline: a plain mean of the zeros
            track.rate -= track.rate / (track.closed + 1)
            track.closed += 1
            gap -= 1
        if gap > 0:
            track.rate *= (1.0 - a) ** gap
            track.closed += gap
        adjacent = bucket == track.bucket + 1
        track.fleet_before = adjacent and track.flagged and track.fleet
        track.before = track.sources.as_dict() if adjacent else {}
        track.before_total = track.count if adjacent else 0
        track.sources, track.blamed, track.fleet = _blame.Counters(), "", False
        track.bucket, track.count, track.flagged = bucket, 0, False
        self._judge(track)

    def _judge(self, track: _Track) -> None:
        """Set the burst count of ``track``'s open bucket from its baseline (0 while young)."""
        track.threshold = 0
        if track.closed >= self.min_buckets:
            grid = math.ceil(math.log(max(track.rate, MIN_RATE)) / _GRID)
            threshold = self._thresholds.get(grid)
            if threshold is None:
                lam = math.exp(grid * _GRID)
                threshold = poisson_threshold(lam, self._log_alpha, floor=self.min_count)
                self._thresholds[grid] = threshold
            track.threshold = threshold

    def merged(self, remapped: Iterable[tuple[int, int]]) -> None:
        """Fold the baseline of each merged-away template into its survivor's (``(old, new)``
        pairs): both brought to the later open bucket, then the rates (lines per bucket of
        the one template both now are) and the open bucket's counts added; the survivor has
        the longer history of the two (``closed``), and a burst flagged on either stays one."""
        for old, new in remapped:
            gone = self._tracks.pop(old, None)
            if gone is None or old == new:
                continue
            keep = self._tracks.get(new)
            if keep is None:
                self._tracks[new] = gone
                continue
            if gone.bucket < keep.bucket:
                self._close(gone, keep.bucket)
            elif keep.bucket < gone.bucket:
                self._close(keep, gone.bucket)
            keep.rate += gone.rate
            keep.closed = max(keep.closed, gone.closed)
            keep.count += gone.count
            for source, count in gone.sources.as_dict().items():
                keep.sources.add(source, count)
            for source, count in gone.before.items():
                keep.before[source] = keep.before.get(source, 0) + count
            keep.before_total += gone.before_total
            keep.flagged = keep.flagged or gone.flagged
            keep.fleet = keep.fleet or gone.fleet
            keep.fleet_before = keep.fleet_before or gone.fleet_before
            self._judge(keep)

    def _finding(
        self,
        template_id: int,
        track: _Track,
        now: float,
        template: str,
        level: str | None,
        source: str,
    ) -> LogFinding:
        lam = max(track.rate, MIN_RATE)
        log_p = poisson_log_sf(track.count, lam)
        words = severe_words(template)
        base = max(level_severity(level), Severity.WARNING, key=severity_rank)
        severity = raise_severity(base) if words else base
        ratio = track.count / lam
        args = (track.sources, track.before, track.before_total, lam, self.min_count)
        involved = _blame.involved(*args)
        nodes = _blame.nodes_of(involved)
        track.fleet = nodes >= 2 or track.fleet_before
        if track.fleet:
            source = _blame.FLEET_SOURCE
        elif involved:
            source = involved[0][0]  # the one that rose, not whichever line crossed
        track.blamed = "" if track.fleet else _blame.node_of(source)
        where = f" on {nodes} nodes" if track.fleet else ""
        return LogFinding(
            kind=LogFindingKind.TEMPLATE_BURST,
            template_id=template_id,
            template=template,
            at=now,
            severity=severity,
            score=min(1.0, log_p / (2.0 * self._log_alpha)),
            summary=(
                f"log burst{where}: {track.count} lines in {self.bucket_seconds:g}s "
                f"({_figure(ratio, 2)}x the baseline {_figure(lam, 3)}): {template}"
            ),
            evidence={
                "count": track.count,
                "baseline": lam,
                "log10_p": log_p / math.log(10.0),
                "bucket_start": track.bucket * self.bucket_seconds,
                "bucket_seconds": self.bucket_seconds,
                "severe_words": words,
                "fleet_wide": track.fleet,
                "nodes": nodes,
                "sources": [list(item) for item in involved[: _blame.MAX_LISTED]],
            },
            source=source,
        )


def _source_counts(saved: Any) -> dict[str, int]:
    """A saved bucket's per-source counts, checked: at most ``_blame.MAX_SOURCES`` of them
    (what a bucket holds; a file with more was not written by :meth:`BurstDetector.to_dict`)."""
    if not isinstance(saved, dict):
        raise TypeError(f"a burst track's per-source counts are an object (got {saved!r})")
    if len(saved) > _blame.MAX_SOURCES:
        raise ValueError(
            f"a burst track holds at most {_blame.MAX_SOURCES} per-source counts (got {len(saved)})"
        )
    counts: dict[str, int] = {}
    for source, lines in saved.items():
        if not isinstance(source, str) or not isinstance(lines, int) or lines < 0:
            raise TypeError(f"a burst track's count of {source!r} is not a count: {lines!r}")
        counts[source] = lines
    return counts


def _figure(value: float, digits: int) -> str:
    """``value`` for the reader: ``digits`` significant digits, and whole numbers from there
    on (a busy template bursts at 1.2x its baseline, which ``:.0f`` printed as "1x", and
    ``:.3g`` printed a baseline of 1000 as "1e+03")."""
    if value >= 10 ** (digits - 1):
        return f"{value:.0f}"
    return f"{value:.{digits}g}"
