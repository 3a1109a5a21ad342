"""The log pipeline's sources and saved state: what survives a restart of the controller.

Used by :class:`vigil.daemon._logs.LogPipeline`. :class:`MinedSource` is a header format and a
miner for lines mined on the controller (pushes); :class:`LocalSource` adds a
:class:`~vigil.collectors.FileTailer` for a file the controller follows itself.

:func:`save_state` / :func:`load_state` write and read one JSON file in the data dir
(``log-analysis.json``, replaced atomically): the template registry, the miners, the local files'
offsets (saved together with the counts they produced, so a restart neither loses nor repeats a
line of them), the last batch of each agent, recent findings and open log incidents, the burst
baselines and the association / Bayes counts (version 2), and when each known precursor last
warned (so a restart does not repeat a warning within its window). The time between the save and the
restart is told to the analyses as unobserved: it decays no baseline and counts as no healthy
time. A version 1 file (before the analyses were saved) is read, its analyses start afresh; a
file that cannot be read (or of an unknown version) is moved aside (``.bad``) with one log line
naming it, and the pipeline starts empty.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import TYPE_CHECKING, Any

from vigil.collectors import FileTailer, TailedLine, TailState
from vigil.daemon._logs_counts import OTHER
from vigil.errors import InputError
from vigil.logs import InputStats, LogFormat, TemplateMiner, miner_from_dict, miner_to_dict
from vigil.logs.analysis import AssociationMiner, BurstDetector, FaultBayes, TemplateRegistry
from vigil.settings import LogSource

if TYPE_CHECKING:
    from vigil.daemon._logs import LogPipeline

log = logging.getLogger("vigil.daemon.logs")

STATE_VERSION = 2
READABLE = (1, 2)
"""Versions :func:`load_state` reads (1: the analyses were not saved yet)."""
STAT_FIELDS = ("lines", "empty", "invalid_utf8", "control_chars", "truncated", "crlf")
CONTROLLER = "controller"
"""The node part of the label of a file the controller follows itself."""


def stats_of(stats: InputStats) -> dict[str, int]:
    return {f: getattr(stats, f) for f in STAT_FIELDS}


class MinedSource:
    """A format and a miner: lines mined on the controller."""

    def __init__(self, spec: str, miner: TemplateMiner | None = None) -> None:
        self.spec = spec
        self.format = LogFormat(spec)
        self.miner = miner if miner is not None else TemplateMiner()
        self.reported: dict[int, str] = {c.id: c.template for c in self.miner.clusters.values()}
        """Cluster id -> the template text last counted for it (:mod:`vigil.daemon.
        _logs_merges`); a saved miner's texts are those counted before the save."""

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.spec, "miner": miner_to_dict(self.miner)}


class LocalSource:
    """A file the controller follows (``logs.sources`` without a node)."""

    def __init__(self, spec: LogSource, max_line_bytes: int) -> None:
        self.spec = spec
        self.key = f"{CONTROLLER}/{spec.label}"
        self.mined = MinedSource(spec.format)
        self.max_line_bytes = max_line_bytes
        self.tailer = FileTailer(spec.path, max_line_bytes=max_line_bytes)
        self.counted: dict[str, int] = {}
        self.catching_up = True
        """The next read holds lines written before it was due (the file's lines from before
        the controller started or while it was down, or the rest of a read cut at its
        budget): counted, but no burst of now."""

    def resume(self, saved: dict[str, Any]) -> None:
        self.tailer = FileTailer(
            self.spec.path,
            state=TailState.from_dict(saved["tail"]),
            max_line_bytes=self.max_line_bytes,
        )
        self.mined = MinedSource(self.spec.format, miner_from_dict(saved["miner"]))

    def to_dict(self) -> dict[str, Any]:
        return {"tail": self.tailer.state().to_dict(), **self.mined.to_dict()}


async def read_whole(tailer: FileTailer) -> tuple[list[TailedLine], bool]:
    """``tailer.read()`` in a thread, and whether a stop (cancellation) came meanwhile. The read
    is waited for even then: it moves the file's offset past its lines, so they must be mined
    before the state is saved (cancelled at the ``await``, the thread read on, nobody mined its
    lines and the saved offset skipped them for good)."""
    reading = asyncio.ensure_future(asyncio.to_thread(tailer.read))
    try:
        return await asyncio.shield(reading), False
    except asyncio.CancelledError:
        return await reading, True


def save_state(p: LogPipeline) -> str:
    """The pipeline's state as JSON text (written by the caller, atomically)."""
    data = {
        "version": STATE_VERSION,
        "saved_at": p._clock(),
        "registry": p.registry.to_dict(),
        "findings": list(p.found),
        "next_finding": p.next_finding,
        "batches": p.batches,
        "mined": {key: m.to_dict() for key, m in p.mined.items()},
        "local": {src.spec.path: src.to_dict() for src in p.local},
        "stats": p.stats,
        "log_incidents": p._log_incidents,
        "rules_reported": sorted(p._rules_reported),
        "warned": {str(k): at for k, at in p._warned.items()},
        "novelty": {"started": p.novelty.started, "lines": p.novelty.lines},
        "bursts": p.bursts.to_dict(),
        "association": p.association.to_dict(),
        "bayes": p.bayes.to_dict(),
        "seen_incidents": list(p.learner.seen),
    }
    return json.dumps(data, separators=(",", ":"))


def load_state(p: LogPipeline) -> None:
    """Restore what :func:`save_state` wrote, if anything; a bad file is moved aside."""
    try:
        text = p.state_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    try:
        _restore(p, json.loads(text))
    except (ValueError, KeyError, TypeError, InputError) as exc:
        bad = p.state_path.with_name(p.state_path.name + ".bad")
        os.replace(p.state_path, bad)
        log.error(
            "%s: cannot be read (%s): moved to %s; log templates and offsets start afresh",
            p.state_path,
            exc,
            bad,
        )


def _restore(p: LogPipeline, data: Any) -> None:
    if not isinstance(data, dict) or data.get("version") not in READABLE:
        raise InputError(f"not a log-analysis state of version {' or '.join(map(str, READABLE))}")
    registry = TemplateRegistry.from_dict(data["registry"])
    analyses = _read_analyses(p, data) if data["version"] >= 2 else None
    if analyses is None:
        log.warning(
            "%s: version 1: burst baselines and association / Bayes counts start afresh",
            p.state_path,
        )
    mined = {
        key: MinedSource(m["format"], miner_from_dict(m["miner"]))
        for key, m in data["mined"].items()
    }
    local = data["local"]
    for src in p.local:
        if src.spec.path in local:
            src.resume(local[src.spec.path])
    p.registry = registry
    p.mined = mined
    p.found.extend(data["findings"])
    p.next_finding = int(data["next_finding"])
    p.batches = {str(k): int(v) for k, v in data["batches"].items()}
    p.stats = {str(k): dict(v) for k, v in data["stats"].items()}
    for key in p.stats:  # their pairs keep their entries: the cap holds across restarts
        if key != f"{OTHER}/{OTHER}":
            p.counts.key(key)
    p._log_incidents = {str(k): float(v) for k, v in data["log_incidents"].items()}
    p._rules_reported = {int(i) for i in data["rules_reported"]}
    # when each known precursor last warned (absent from files saved before it was kept)
    p._warned = {int(k): float(at) for k, at in data.get("warned", {}).items()}
    for entry in registry.entries():
        p.families.add(entry.id, entry.template)
    p.novelty.remember(e.id for e in registry.entries())
    novelty = data["novelty"]
    if novelty["started"] is not None:
        p.novelty.started = float(novelty["started"])
        p.novelty.lines = int(novelty["lines"])
    if analyses is not None:
        p.bursts, p.association, p.bayes, seen = analyses
        p.learner.seen.extend(seen)


def _read_analyses(
    p: LogPipeline, data: dict[str, Any]
) -> tuple[BurstDetector, AssociationMiner, FaultBayes, list[int]]:
    """Bursts, association and Bayes restored into fresh copies (the caller swaps them in once
    everything is read); the time since the save is unobserved for each."""
    bursts = BurstDetector(**p.burst_options)
    association = AssociationMiner(window=p.association.window, settle=p.association.settle)
    bayes = FaultBayes(window=p.bayes.window, slot=p.bayes.slot, settle=p.bayes.settle)
    kept = [
        name
        for name, analysis in (("bursts", bursts), ("association", association), ("bayes", bayes))
        if analysis.restore(data[name])
    ]
    seen = [int(i) for i in data["seen_incidents"]]
    saved_at, now = float(data["saved_at"]), p._clock()
    for analysis in (bursts, association, bayes):
        analysis.unobserved(saved_at, now)
    if len(kept) < 3:
        log.warning(
            "%s: settings of the log analyses changed: only %s restored",
            p.state_path,
            ", ".join(kept) or "none",
        )
    return bursts, association, bayes, seen
