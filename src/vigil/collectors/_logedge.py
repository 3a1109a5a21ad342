"""Edge mining: follow log files on a node, mine them there, and batch templates + counts.

``vigil agent`` (:mod:`vigil.agent`) builds one :class:`LogEdge` for the files of its node, calls
:meth:`LogEdge.poll` every ``logs.poll_every`` and, every ``logs.ship_every``, sends
:meth:`LogEdge.batch` to ``POST /api/v1/logs/batches`` and calls :meth:`LogEdge.acked` when the
controller has it. A batch holds, per template, its count, first and last time, the most severe
level seen and a few sample lines: not every raw line.

**Exactly once across restarts.** A batch is *frozen* before it is sent: the batch, the files'
offsets just past its last line and the miners are written together to the state file (one
atomic rename), and the batch keeps its sequence number until acknowledged. A restart finds an
unacknowledged batch in the file, sends it again with the same ``(agent_id, seq)`` (the
controller drops one it already has), and reads the files from the saved offsets: nothing is
counted twice and nothing is skipped. Lines read after the freeze live only in memory until the
next freeze, and are read again after a crash.

**A restored state is a new instance.** Each start of the agent draws a random ``boot`` id, sent
in the batches it freezes (a batch sent again keeps the one it was frozen with). A state dir
restored from an old backup numbers its batches from the backup's ``seq``: the controller,
which dedupes per ``(agent_id, boot)``, takes them as a new instance's instead of answering
``duplicate`` until the numbers pass the old mark (the lines after the backup's offsets are read
again: what a restore costs).

**Merges reach the controller.** The controller counts templates by their text. When this
node's miner widens or merges a template it has sent (``type A`` and ``type MX`` become ``type
<*>``), the next batch says so: ``remaps``, one ``{"old": text sent before, "new": text now}``
per change, and the controller folds the old text's counts, baseline and history into the new
one's (:mod:`vigil.daemon._logs_merges`) instead of listing the old text as a live template for
ever. The text last sent per cluster is rebuilt from the frozen miners at a restart (a cluster's
text changes only with a line of it, so the frozen text is the one sent).

**Back-pressure.** While a batch waits for its acknowledgement (controller slow or down), new
lines keep being read and counted into the next one; memory stays bounded: at most
``max_templates`` distinct templates per batch (lines of further templates are counted as
``overflow``), ``samples`` sample lines of at most :data:`SAMPLE_CHARS` characters each.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.collectors._tail import FileTailer
from vigil.collectors._tail_state import TailState
from vigil.errors import InputError
from vigil.logs import (
    DEFAULT_MAX_LINE_BYTES,
    TRUNCATED_MARKER,
    InputStats,
    LogFormat,
    TemplateMiner,
    miner_from_dict,
    miner_to_dict,
)

log = logging.getLogger("vigil.agent.logs")

STATE_VERSION = 1
SAMPLE_CHARS = 1024
"""A sample line is for a person to read; its head is enough and keeps a batch small."""
MAX_LEVEL_CHARS = 40
"""A level is a word (ERROR, warning, 3): the API refuses a longer one, and with it the whole
batch, so a JSON line whose ``level`` holds a sentence is cut to this."""
MAX_TEMPLATE_CHARS = 100_000
"""The API refuses a longer template, and with it the whole batch. A line under
``logs.max_line_bytes`` can mine into a longer one (each ``1 `` of a line of numbers becomes
``<*> ``), so a template is cut to this, ending with :data:`vigil.logs.TRUNCATED_MARKER`."""
MAX_REMAPS = 10_000
"""Remaps per batch: the API refuses more (and with them the whole batch, sent again for ever);
the rest wait for the next batch (their clusters still differ from what was sent)."""
LEVEL_FIELDS = ("Level", "level", "LEVEL", "severity", "Severity", "lvl", "PRIORITY", "priority")
"""Header fields that carry a line's level (format strings, auto-detection, JSON lines)."""
STAT_FIELDS = ("lines", "empty", "invalid_utf8", "control_chars", "truncated", "crlf")
FULL_READ_EVERY = 5.0
"""Seconds between two reads of a file whose path looks unchanged (same inode, size and mtime):
a file renamed away may still be written to by a process that has not reopened its log."""


def line_level(fields: Sequence[tuple[str, str]]) -> str:
    """The level among a split line's header fields, or ``""``."""
    for name, value in fields:
        if name in LEVEL_FIELDS:
            return value[:MAX_LEVEL_CHARS]
    return ""


@dataclass(frozen=True, slots=True)
class EdgeSourceSpec:
    """A file to follow: its path, its label in templates and findings, its header format."""

    path: str
    name: str
    format: str = "auto"


@dataclass(slots=True)
class _Entry:
    source: str
    template: str
    count: int
    first_at: float
    last_at: float
    level: str = ""
    samples: list[str] = field(default_factory=list)


class _Source:
    def __init__(self, spec: EdgeSourceSpec, saved: dict[str, Any], max_line_bytes: int) -> None:
        self.spec = spec
        self.format = LogFormat(spec.format)
        tail = saved.get("tail")
        state = TailState.from_dict(tail) if tail is not None else None
        self.tailer = FileTailer(spec.path, state=state, max_line_bytes=max_line_bytes)
        miner = saved.get("miner")
        self.miner = miner_from_dict(miner) if isinstance(miner, dict) else TemplateMiner()
        self.sent = InputStats()  # the tailer's counts already put in a batch
        self.overflow = 0
        self.seen: tuple[int, int, int, int] | None = None  # (inode, size, mtime) at last read
        self.read_at = -float("inf")

    def looks_changed(self, now: float) -> bool:
        """One ``stat``: whether the path changed since the last read (or a read is due)."""
        try:
            st = os.stat(self.spec.path)
            seen: tuple[int, int, int, int] | None = (
                st.st_dev,
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
            )
        except OSError:
            seen = None
        if seen != self.seen or self.tailer.backlog or now - self.read_at >= FULL_READ_EVERY:
            self.seen = seen
            return True
        return False

    def snapshot(self) -> dict[str, Any]:
        return {"tail": self.tailer.state().to_dict(), "miner": miner_to_dict(self.miner)}

    def stats_delta(self) -> dict[str, int]:
        now = self.tailer.stats
        delta = {f: getattr(now, f) - getattr(self.sent, f) for f in STAT_FIELDS}
        delta["overflow"] = self.overflow
        return delta

    def mark_sent(self) -> None:
        for f in STAT_FIELDS:
            setattr(self.sent, f, getattr(self.tailer.stats, f))
        self.overflow = 0


class LogEdge:
    """The agent's files, miners and the batch being filled (see the module docstring)."""

    def __init__(
        self,
        sources: Sequence[EdgeSourceSpec],
        state_path: Path,
        *,
        max_templates: int = 1000,
        samples: int = 3,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_path = state_path
        self.max_templates = max_templates
        self.samples = samples
        self._clock = clock
        saved = self._load()
        self.agent_id: str = saved.get("agent_id") or secrets.token_hex(8)
        self.boot = secrets.token_hex(8)  # this start's: see the module docstring
        self.seq: int = int(saved.get("seq", 0))
        self.pending: dict[str, Any] | None = saved.get("pending")
        files = saved.get("sources", {})
        self.sources = [_Source(s, files.get(s.path, {}), max_line_bytes) for s in sources]
        self._frozen: dict[str, Any] = {
            s.spec.path: files.get(s.spec.path, {}) for s in self.sources
        }
        self._acc: dict[tuple[int, int], _Entry] = {}
        self._sent: dict[tuple[int, int], str] = {
            (i, c.id): _cut(c.template)
            for i, src in enumerate(self.sources)
            for c in src.miner.clusters.values()
        }
        """(source index, cluster id) -> the template text last sent for it."""
        self.lines = 0

    # --- reading -------------------------------------------------------------------------------

    def changed(self) -> bool:
        """Cheap (one ``stat`` per file): whether :meth:`poll` has anything to look at."""
        now = self._clock()
        return any([src.looks_changed(now) for src in self.sources])

    def poll(self) -> int:
        """Read what every file has gained, mine it and count it; the number of lines read."""
        read = 0
        now = self._clock()
        for index, src in enumerate(self.sources):
            src.read_at = now
            lines = src.tailer.read()
            read += len(lines)
            for line in lines:
                if not line.text.strip():
                    continue  # counted by the splitter (``empty``), nothing to mine
                split = src.format.split(line.text)
                cluster = src.miner.cluster_of(split.content)
                key = (index, cluster.id)
                entry = self._acc.get(key)
                if entry is None:
                    if len(self._acc) >= self.max_templates:
                        src.overflow += 1
                        continue
                    entry = self._acc[key] = _Entry(src.spec.name, cluster.template, 0, now, now)
                entry.count += 1
                entry.last_at = now
                level = line_level(split.fields)
                if level and not entry.level:
                    entry.level = level
                if len(entry.samples) < self.samples:
                    entry.samples.append(line.text[:SAMPLE_CHARS])
        self.lines += read
        return read

    # --- shipping ------------------------------------------------------------------------------

    def batch(self) -> dict[str, Any] | None:
        """The batch to send now: the unacknowledged one, else a new one frozen from what was
        read (saved first, see the module docstring); ``None`` when there is nothing to send."""
        if self.pending is not None:
            return self.pending
        stats = {s.spec.name: s.stats_delta() for s in self.sources}
        remaps = self._remaps()  # (a batch of remaps alone: those past the cap of the last)
        if not self._acc and not remaps and not any(any(d.values()) for d in stats.values()):
            return None
        templates = self._templates()
        self._acc = {}
        self.seq += 1
        self.pending = {
            "agent_id": self.agent_id,
            "boot": self.boot,
            "seq": self.seq,
            "templates": templates,
            "stats": {name: d for name, d in stats.items() if any(d.values())},
        }
        if remaps:
            self.pending["remaps"] = remaps
        self._frozen = {s.spec.path: s.snapshot() for s in self.sources}
        for src in self.sources:
            src.mark_sent()
        self._save()
        return self.pending

    def acked(self) -> None:
        """The controller has the pending batch: forget it (the offsets stay as frozen)."""
        self.pending = None
        self._save()

    def close(self) -> None:
        for src in self.sources:
            src.tailer.close()

    def _remaps(self) -> list[dict[str, str]]:
        """The templates sent before whose text the miners changed since (see the module
        docstring); the texts sent are updated. Once per batch: a pass over the clusters sent."""
        ids = set(self._acc)
        ids.update((i, cid) for i, cid in self._sent if cid not in self.sources[i].miner.clusters)
        out: dict[tuple[str, str], None] = {}
        for i, cid in sorted(ids):
            if len(out) >= MAX_REMAPS:
                break
            miner = self.sources[i].miner
            live = miner.resolve(cid)
            cluster = miner.clusters.get(live)
            if cluster is None:  # evicted
                self._sent.pop((i, cid), None)
                continue
            text = _cut(cluster.template)
            if live != cid:
                old = self._sent.pop((i, cid), None)
                if old is not None and old != text:
                    out[(old, text)] = None
            old = self._sent.get((i, live))
            if old != text:
                if old is not None:
                    out[(old, text)] = None
                self._sent[(i, live)] = text
        return [{"old": old, "new": new} for old, new in out]

    def _templates(self) -> list[dict[str, Any]]:
        merged: dict[tuple[str, str], _Entry] = {}
        for (index, cid), entry in self._acc.items():
            miner = self.sources[index].miner
            cluster = miner.clusters.get(miner.resolve(cid))
            text = _cut(cluster.template if cluster is not None else entry.template)
            key = (entry.source, text)
            have = merged.get(key)
            if have is None:
                merged[key] = _Entry(
                    entry.source,
                    text,
                    entry.count,
                    entry.first_at,
                    entry.last_at,
                    entry.level,
                    list(entry.samples),
                )
                continue
            have.count += entry.count
            have.first_at = min(have.first_at, entry.first_at)
            have.last_at = max(have.last_at, entry.last_at)
            have.level = have.level or entry.level
            have.samples += entry.samples[: max(0, self.samples - len(have.samples))]
        return [
            {
                "source": e.source,
                "template": e.template,
                "count": e.count,
                "first_at": e.first_at,
                "last_at": e.last_at,
                "level": e.level,
                "samples": e.samples,
            }
            for e in merged.values()
        ]

    # --- state file ----------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            text = self.state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(
                f"{self.state_path}: not a log state file ({exc}); move it away to start over "
                "(the files are then read from their beginning)"
            ) from exc
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise InputError(
                f"{self.state_path}: unknown log state version; move it away to start over"
            )
        return data

    def _save(self) -> None:
        data = {
            "version": STATE_VERSION,
            "agent_id": self.agent_id,
            "seq": self.seq,
            "pending": self.pending,
            "sources": self._frozen,
        }
        write_atomic(self.state_path, json.dumps(data, separators=(",", ":")))


def _cut(text: str) -> str:
    """A template as sent: at most :data:`MAX_TEMPLATE_CHARS` characters."""
    if len(text) > MAX_TEMPLATE_CHARS:
        return text[: MAX_TEMPLATE_CHARS - len(TRUNCATED_MARKER)] + TRUNCATED_MARKER
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
