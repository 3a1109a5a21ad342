"""Association rules: templates that precede incidents, with support, confidence and lift.

Pure: no I/O, no clock; every method takes ``now`` (seconds, any origin). Fed two streams in
time order: template occurrences (:meth:`AssociationMiner.occurrence`) and incident openings
(:meth:`AssociationMiner.incident`). A rule reads "template T -> an incident within W"::

    support(T)    = incidents with a line of T in the W before them / incidents
    confidence(T) = lines of T followed by an incident within W / lines of T (resolved ones)
    lift(T)       = confidence(T) / base rate
    base rate     = fraction of time points followed by an incident within W
                  = |union of [t_i - W, t_i)| / observed time

so a template logged at random times has a lift near 1 and one logged just before incidents a
lift near ``1 / base rate``. A line (and a time point) is *resolved* once W has passed after it
or an incident came: lines of the last W still waiting are left out of both ratios.

Memory is bounded: per template a few counters and its recent lines as at most
``resolution + 1`` sub-buckets of ``W / resolution`` seconds (a line's time is known to that
precision: an edge error of 5% of W by default); at most ``max_templates`` templates (least
recently seen dropped). Incidents are counters only. Rules are global across subjects; a caller
wanting rules per subject keeps one miner per subject.

An incident can be taken back (:meth:`AssociationMiner.retract`: it turned out not to be a
fault) for ``settle`` seconds after it was recorded: what it added is kept that long (the lines
it took as followed stay resolved and not followed, as if it had never come).

Merges: :meth:`AssociationMiner.merged` folds the counts of a template merged away into its
survivor's (the miner found the two to be one template).

Restarts: :meth:`AssociationMiner.to_dict` / :meth:`AssociationMiner.restore` carry the counts
over a restart of the controller; :meth:`AssociationMiner.unobserved` leaves the time it was
down out of the observed time (no incident was seen then, which is no evidence of none: counted,
it would lower the base rate and inflate every lift) and out of the windows of the incidents
just after it (covered but not observed, it would raise the base rate).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_WINDOW = 300.0
"""Five minutes: log precursors of a crash or a hang (OOM, NCCL timeouts, ECC errors) come
seconds to minutes before the process dies or a probe fails."""

DEFAULT_RESOLUTION = 20
"""Twenty sub-buckets per window: line times known to 5% of W, 22 counters per template."""

DEFAULT_MAX_TEMPLATES = 10_000
"""Ten thousand templates, about 2 KB each at most."""


@dataclass(frozen=True, slots=True)
class AssociationRule:
    """``template_id -> incident within window``, with its measures and raw counts."""

    template_id: int
    support: float
    confidence: float
    lift: float
    incidents_preceded: int
    lines: int
    lines_followed: int
    last_subject: str


@dataclass(slots=True)
class _Taught:
    """What one recent incident added, kept ``settle`` seconds to take it back."""

    at: float
    subject: str
    since: float | None  # the latest incident before it (None: the first)
    added: float  # the time its window added to the covered time
    changes: dict[int, tuple[int, str]]  # template -> (lines followed, the last_subject before)


@dataclass(slots=True)
class _Stats:
    last_seen: float
    lines: int = 0
    followed: int = 0
    preceded: int = 0
    last_subject: str = ""
    pending: deque[list[float]] = field(default_factory=deque)  # [sub-bucket, last time, lines]


class AssociationMiner:
    """Mines ``template -> incident within window`` rules from the two streams."""

    def __init__(
        self,
        *,
        window: float = DEFAULT_WINDOW,
        resolution: int = DEFAULT_RESOLUTION,
        max_templates: int = DEFAULT_MAX_TEMPLATES,
        settle: float = 0.0,
    ) -> None:
        if window <= 0:
            raise ValueError(f"window must be > 0 (got {window})")
        if resolution < 1:
            raise ValueError(f"resolution must be >= 1 (got {resolution})")
        if max_templates < 1:
            raise ValueError(f"max_templates must be >= 1 (got {max_templates})")
        self.window = window
        self.max_templates = max_templates
        self._width = window / resolution
        self._stats: OrderedDict[int, _Stats] = OrderedDict()
        self.start: float | None = None
        """Time of the first event, ``None`` before it."""
        self.incidents = 0
        self._covered = 0.0
        self._last_incident: float | None = None
        self._gaps: list[tuple[float, float]] = []  # unobserved spans (one per restart)
        self.settle = settle
        self._recent: deque[_Taught] = deque()  # what each recent incident added, in order

    def __len__(self) -> int:
        """How many templates are tracked."""
        return len(self._stats)

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data (templates most recently seen last)."""
        return {
            "window": self.window,
            "width": self._width,
            "start": self.start,
            "incidents": self.incidents,
            "covered": self._covered,
            "last_incident": self._last_incident,
            "gaps": [list(g) for g in self._gaps],
            "stats": [
                [tid, s.last_seen, s.lines, s.followed, s.preceded, s.last_subject, list(s.pending)]
                for tid, s in self._stats.items()
            ],
        }

    def restore(self, data: Mapping[str, Any]) -> bool:
        """Take the counts of :meth:`to_dict`; False (nothing taken) when they were made with
        another window or resolution. Raises ValueError / TypeError / KeyError on bad data."""
        if float(data["window"]) != self.window or float(data["width"]) != self._width:
            return False
        stats: OrderedDict[int, _Stats] = OrderedDict()
        for tid, last_seen, lines, followed, preceded, subject, pending in data["stats"]:
            stats[int(tid)] = _Stats(
                float(last_seen),
                int(lines),
                int(followed),
                int(preceded),
                str(subject),
                deque([float(b), float(t), float(n)] for b, t, n in pending),
            )
        while len(stats) > self.max_templates:
            stats.popitem(last=False)
        start, last = data["start"], data["last_incident"]
        self.start = None if start is None else float(start)
        self._last_incident = None if last is None else float(last)
        self.incidents = int(data["incidents"])
        self._covered = float(data["covered"])
        self._gaps = [(float(a), float(b)) for a, b in data["gaps"]]
        self._stats = stats
        return True

    def unobserved(self, since: float, until: float) -> None:
        """Nothing was observed from ``since`` to ``until`` (the controller was down)."""
        if self.start is not None and until > since:
            self._gaps.append((max(since, self.start), until))

    def occurrence(self, template_id: int, now: float, *, count: int = 1) -> None:
        """Record ``count`` lines of ``template_id`` at ``now``."""
        if self.start is None:
            self.start = now
        stats = self._stats.get(template_id)
        if stats is None:
            stats = self._stats[template_id] = _Stats(now)
            if len(self._stats) > self.max_templates:
                self._stats.popitem(last=False)
        else:
            self._stats.move_to_end(template_id)
            stats.last_seen = max(stats.last_seen, now)
        stats.lines += count
        pending = stats.pending
        while pending and pending[0][1] < now - self.window:
            pending.popleft()  # a whole window without an incident: resolved, not followed
        bucket = float(math.floor(now / self._width))
        if pending and pending[-1][0] == bucket:
            pending[-1][1] = max(pending[-1][1], now)
            pending[-1][2] += count
        else:
            pending.append([bucket, now, float(count)])

    def merged(self, remapped: Iterable[tuple[int, int]]) -> None:
        """Fold the counts of each merged-away template into its survivor's (``(old, new)``
        pairs): lines, lines followed and pending lines add up (lines are the one template's
        now); incidents preceded take the larger of the two, a lower bound of the union's
        (which of them both preceded is not kept; siblings mostly log together), so support
        is never inflated."""
        for old, new in remapped:
            gone = self._stats.pop(old, None)
            if gone is None or old == new:
                continue
            for taught in self._recent:  # what an incident added, to take back, moves too
                if old in taught.changes:
                    followed, before = taught.changes.pop(old)
                    have = taught.changes.get(new)
                    taught.changes[new] = (followed + (have[0] if have else 0), before)
            keep = self._stats.get(new)
            if keep is None:
                self._stats[new] = gone
                continue
            if gone.last_seen > keep.last_seen:
                keep.last_seen, keep.last_subject = (
                    gone.last_seen,
                    gone.last_subject or keep.last_subject,
                )
            keep.lines += gone.lines
            keep.followed += gone.followed
            keep.preceded = max(keep.preceded, gone.preceded)
            by_bucket: dict[float, list[float]] = {}
            for entry in [*keep.pending, *gone.pending]:
                have_entry = by_bucket.get(entry[0])
                if have_entry is None:
                    by_bucket[entry[0]] = list(entry)
                else:
                    have_entry[1] = max(have_entry[1], entry[1])
                    have_entry[2] += entry[2]
            keep.pending = deque(by_bucket[b] for b in sorted(by_bucket))

    def incident(self, subject: str, now: float) -> None:
        """Record an incident opening on ``subject`` at ``now``."""
        if self.start is None:
            self.start = now
        self.incidents += 1
        before = self._last_incident
        added = self._coverage(now, before)
        self._covered += added
        self._last_incident = now if self._last_incident is None else max(self._last_incident, now)
        horizon = now - self.window
        changes: dict[int, tuple[int, str]] = {}
        for tid, stats in reversed(self._stats.items()):  # most recently seen first
            if stats.last_seen < horizon:
                break
            followed = int(sum(e[2] for e in stats.pending if e[1] >= horizon))
            changes[tid] = (followed, stats.last_subject)
            stats.preceded += 1
            stats.last_subject = subject
            stats.followed += followed
            stats.pending.clear()
        if self.settle > 0:
            while self._recent and self._recent[0].at < now - self.settle:
                self._recent.popleft()
            self._recent.append(_Taught(now, subject, before, added, changes))

    def _coverage(self, at: float, since: float | None) -> float:
        """The observed time an incident at ``at`` adds to the union of windows ``[t - W, t)``
        when the latest incident before it was at ``since`` (a window reaching back into the
        time the controller was down covers none of it: that time is not observed either)."""
        first = at if self.start is None else self.start  # set by the first event: never None
        lo = max(first if since is None else since, at - self.window, first)
        down = sum(max(0.0, min(b, at) - max(a, lo)) for a, b in self._gaps)
        return max(0.0, at - lo - down)

    def retract(self, now: float) -> bool:
        """Take back the incident recorded at ``now``: it was no fault. False if there is none
        within the last ``settle`` seconds."""
        at = next((i for i, e in enumerate(self._recent) if e.at == now), None)
        if at is None:
            return False
        found = self._recent[at]
        del self._recent[at]
        later = list(self._recent)[at:]
        self.incidents -= 1
        # The covered time of the later incidents was counted from this one's window: counted
        # again without it, and the latest incident is the one before it if none came later.
        self._covered -= found.added + sum(e.added for e in later)
        last = found.since
        for e in later:
            e.since, e.added = last, self._coverage(e.at, last)
            self._covered += e.added
            last = e.at if last is None else max(last, e.at)
        self._last_incident = last
        for tid, (followed, before) in found.changes.items():
            stats = self._stats.get(tid)
            if stats is not None:
                stats.preceded -= 1
                stats.followed -= followed
                if stats.last_subject == found.subject:
                    stats.last_subject = before
        return True

    def base_rate(self, now: float) -> float | None:
        """P(an incident within W after a random resolved time point); ``None`` before W."""
        if self.start is None or now - self.window <= self.start:
            return None
        # Resolved time points, as resolved lines: W has passed after them, or an incident came
        # (every point of the last incident's window is followed, as its lines are counted).
        resolved_end = now - self.window
        if self._last_incident is not None:
            resolved_end = max(resolved_end, self._last_incident)
        observed = resolved_end - self.start
        observed -= sum(max(0.0, min(b, resolved_end) - a) for a, b in self._gaps)
        if observed <= 0.0:
            return None
        return min(1.0, max(0.0, self._covered / observed))

    def rules(
        self,
        now: float,
        *,
        min_support: float = 0.2,
        min_confidence: float = 0.05,
        min_lift: float = 1.0,
    ) -> list[AssociationRule]:
        """Rules with at least these measures (lift strictly above ``min_lift``), best first:
        by lift, then support, then template id."""
        base = self.base_rate(now)
        if not self.incidents or not base:
            return []
        horizon = now - self.window
        out = []
        for template_id, s in self._stats.items():
            waiting = sum(e[2] for e in s.pending if e[1] >= horizon)
            resolved = s.lines - int(waiting)
            if resolved <= 0:
                continue
            support = s.preceded / self.incidents
            confidence = min(1.0, s.followed / resolved)
            lift = confidence / base
            if support >= min_support and confidence >= min_confidence and lift > min_lift:
                out.append(
                    AssociationRule(
                        template_id,
                        support,
                        confidence,
                        lift,
                        s.preceded,
                        resolved,
                        s.followed,
                        s.last_subject,
                    )
                )
        out.sort(key=lambda r: (-r.lift, -r.support, r.template_id))
        return out
