"""Novelty: a template seen for the first time after the warm-up is a finding.

Pure: no I/O, no clock; :meth:`NoveltyDetector.observe` takes ``now`` (seconds, any origin).
Fed one mined line at a time (its template id from :class:`vigil.logs.TemplateMiner`).

Warm-up: every template is new at first, so nothing is reported until the detector has seen
both ``warmup_lines`` lines and ``warmup_seconds`` seconds since its first line: enough lines
for the common templates and enough time for the periodic ones (a cron job, a checkpoint).
Either can be set to 0 to rely on the other alone.

After the warm-up, the first line of an unknown template id gives one :class:`LogFinding`
(never a second one: the id is known from then on). Its severity is
:func:`~vigil.logs.analysis.severity_of` (the line's level, raised one step by a severe word)
and its score grows with it::

    score = (1 + level_rank + min(severe_words, 2)) / 5        level_rank: info 0 .. critical 2

so an INFO line with no severe word scores 0.2 and an ERROR line with two severe words 1.0.

Memory: at most ``max_known`` ids are remembered (least recently seen forgotten first). A
forgotten id that comes back is reported again; the miner keeps at most 50k clusters, so the
default cap is only reached by ids the miner itself has long evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from vigil.logs.analysis._finding import (
    LogFinding,
    LogFindingKind,
    level_severity,
    raise_severity,
    severe_words,
    severity_rank,
)

DEFAULT_WARMUP_LINES = 10_000
"""Ten thousand lines hold every template that makes up the bulk of a service's log."""

DEFAULT_WARMUP_SECONDS = 3600.0
"""An hour covers the periodic templates of most services (health checks, checkpoints, cron)."""

DEFAULT_MAX_KNOWN = 200_000
"""Four times the miner's own cluster cap; an int key in an OrderedDict is about 100 bytes."""

_MAX_WORD_STEPS = 2  # severe words beyond two add no score: the template is already alarming
_SCORE_STEPS = 5  # 1 (new) + 2 (level rank) + 2 (words): the score's denominator


class NoveltyDetector:
    """Reports a template id the first time it is seen after the warm-up.

    >>> d = NoveltyDetector(warmup_lines=2, warmup_seconds=0)
    >>> d.observe(1, "worker <*> started", now=0.0) is None
    True
    >>> d.observe(1, "worker <*> started", now=1.0) is None
    True
    >>> d.observe(2, "Xid <*> error on GPU <*>", now=2.0, level="ERROR").severity
    <Severity.CRITICAL: 'critical'>
    """

    def __init__(
        self,
        *,
        warmup_lines: int = DEFAULT_WARMUP_LINES,
        warmup_seconds: float = DEFAULT_WARMUP_SECONDS,
        max_known: int = DEFAULT_MAX_KNOWN,
    ) -> None:
        if warmup_lines < 0:
            raise ValueError(f"warmup_lines must be >= 0 (got {warmup_lines})")
        if warmup_seconds < 0:
            raise ValueError(f"warmup_seconds must be >= 0 (got {warmup_seconds})")
        if max_known < 1:
            raise ValueError(f"max_known must be >= 1 (got {max_known})")
        self.warmup_lines = warmup_lines
        self.warmup_seconds = warmup_seconds
        self.max_known = max_known
        self.lines = 0
        self.started: float | None = None
        """Time of the first line, ``None`` before it."""
        self._known: OrderedDict[int, None] = OrderedDict()

    def warming_up(self, now: float) -> bool:
        """True until both the warm-up lines and the warm-up seconds have passed."""
        if self.started is None:
            return True
        return self.lines < self.warmup_lines or now - self.started < self.warmup_seconds

    def known(self, template_id: int) -> bool:
        return template_id in self._known

    def __len__(self) -> int:
        """How many template ids are remembered."""
        return len(self._known)

    def observe(
        self,
        template_id: int,
        template: str,
        now: float,
        *,
        level: str | None = None,
        source: str = "",
    ) -> LogFinding | None:
        """Count one line of ``template_id``; a finding if the id is new after the warm-up."""
        if self.started is None:
            self.started = now
        warming = self.warming_up(now)
        self.lines += 1
        if template_id in self._known:
            self._known.move_to_end(template_id)
            return None
        self._remember(template_id)
        if warming:
            return None
        return _finding(template_id, template, now, level, source, self.lines)

    def remember(self, template_ids: Iterable[int]) -> None:
        """Know these ids without counting a line (templates restored after a restart)."""
        for template_id in template_ids:
            self._remember(template_id)

    def merged(self, remapped: Iterable[tuple[int, int]]) -> None:
        """Apply the miner's merges (``Match.remapped``: old id -> surviving id): the survivor
        is known when either was, so a merge never looks like a new template."""
        for old, new in remapped:
            if old in self._known and new not in self._known:
                self._remember(new)

    def _remember(self, template_id: int) -> None:
        self._known[template_id] = None
        if len(self._known) > self.max_known:
            self._known.popitem(last=False)


def _finding(
    template_id: int, template: str, now: float, level: str | None, source: str, line: int
) -> LogFinding:
    base = level_severity(level)
    words = severe_words(template)
    severity = raise_severity(base) if words else base
    steps = 1 + severity_rank(base) + min(len(words), _MAX_WORD_STEPS)
    return LogFinding(
        kind=LogFindingKind.NOVEL_TEMPLATE,
        template_id=template_id,
        template=template,
        at=now,
        severity=severity,
        score=steps / _SCORE_STEPS,
        summary=f"new log template: {template}",
        evidence={"level": level or "", "severe_words": words, "line": line},
        source=source,
    )
