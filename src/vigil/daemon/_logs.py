"""The controller's log pipeline: templates from agents, pushes and local files -> analyses ->
findings on the bus, incidents for the severe ones.

Built and run by :class:`vigil.daemon.Controller` (``log_service()`` hands it to the API routers of
:mod:`vigil.api._logs`). Three inputs:

- **agent batches** (``POST /api/v1/logs/batches``): templates mined at the edge, with counts;
  a repeated ``(agent_id, boot, seq)`` is acknowledged and ignored, so a batch sent again after
  an agent restart is counted once (``boot`` is drawn at each start of the agent and kept in the
  batch: an agent whose state was restored from an old backup is a new instance, not a run of
  duplicates; each agent whose batches raised incidents keeps one meta row
  ``logs.batch:<node>/<agent_id>``, see :mod:`vigil.daemon._logs_incidents`);
- **pushed lines** (``POST /api/v1/logs``) and **files the controller follows itself**
  (``logs.sources`` without a node): repaired by :class:`vigil.logs.LineSplitter`, mined here by
  one :class:`vigil.logs.TemplateMiner` per source.

A template a miner widened or merged (its own, or an agent's: a batch's ``remaps``) is folded
into its new text in the registry and every analysis (:mod:`vigil.daemon._logs_merges`).
Every template is mapped by its text to a controller-wide id (:class:`TemplateRegistry`), then
fed, with the controller's clock, to novelty, bursts, families, association rules and Bayes
(:mod:`vigil.logs.analysis`). A finding becomes a :class:`vigil.model.Finding` on the bus
(``FindingRaised``); one at ``analysis.incident_severity`` or worse goes through the
:class:`~vigil.remediation.IncidentBook` (subject ``logs:<node>/<source>``; ``logs:fleet`` for a
burst on many nodes at once), as metric-rule findings do, and that incident resolves after
``analysis.incident_quiet`` without another.
Incidents of other kinds (seen on the bus) teach the association rules and Bayes when they open;
one that ends as a blip is taken back (:mod:`vigil.daemon._logs_learn`). A template whose
association rule was reported warns again when seen (a ``log_association`` finding "known
precursor seen", at most once per window) while ``P(fault | template) >= PRECURSOR_P``.
Counters for the controller's ``/metrics`` are kept in :attr:`LogPipeline.counts`.
State (templates, miners, offsets, recent findings, burst baselines, association and Bayes
counts) is saved by :mod:`vigil.daemon._logs_state`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from vigil.api import IngestResult
from vigil.bus import EventBus
from vigil.collectors import write_atomic
from vigil.daemon._logs_backlog import backlog_span
from vigil.daemon._logs_counts import LogCounts
from vigil.daemon._logs_incidents import LogIncidents, forget_instance
from vigil.daemon._logs_learn import SETTLE, IncidentLearner
from vigil.daemon._logs_match import check_source_formats, widens_known
from vigil.daemon._logs_merges import by_text, fold_remaps
from vigil.daemon._logs_precursors import precursor_finding, rule_finding
from vigil.daemon._logs_queries import LogQueries
from vigil.daemon._logs_state import (
    CONTROLLER,
    LocalSource,
    MinedSource,
    load_state,
    read_whole,
    save_state,
    stats_of,
)
from vigil.daemon._logs_steps import at_once, turn_by_turn
from vigil.errors import InputError
from vigil.logs import LineSplitter
from vigil.logs.analysis import (
    AssociationMiner,
    BurstDetector,
    FaultBayes,
    LogFinding,
    LogFindingKind,
    NoveltyDetector,
    TemplateFamilies,
    TemplateRegistry,
)
from vigil.model import (
    Finding,
    FindingKind,
    FindingRaised,
    IncidentChanged,
)
from vigil.remediation import IncidentBook
from vigil.settings import LogsSettings
from vigil.store import Store

log = logging.getLogger("vigil.daemon.logs")

LOG_KINDS = frozenset({FindingKind.LOG_NOVELTY, FindingKind.LOG_BURST, FindingKind.LOG_ASSOCIATION})
KIND_OF = {
    LogFindingKind.NOVEL_TEMPLATE: FindingKind.LOG_NOVELTY,
    LogFindingKind.TEMPLATE_BURST: FindingKind.LOG_BURST,
}
RANK = {"info": 0, "warning": 1, "critical": 2, "never": 3}
MAX_FINDINGS = 10_000
"""Recent findings kept for ``GET /api/v1/logs/findings`` (all of them are on the bus too)."""
SAVE_EVERY = 10.0
"""Seconds between two saves of the state: what a kill -9 of the controller may lose."""
RULES_EVERY = 30.0
"""Seconds between two looks at the association rules (also after each incident, once every
incident learned has settled)."""
MIN_SUPPORT = 0.2
"""An association rule must precede at least a fifth of the incidents to be reported."""
CHUNK_LINES = 512
"""Lines mined between two turns of the event loop: about 35 ms of work on a busy machine."""
CHUNK_TEMPLATES = 64
"""Templates of an agent batch analysed between two turns of the event loop (:meth:`LogPipeline.
receive_batch`): a few ms of work; a batch of 1,000 new templates was one turn of 0.1-0.3 s."""
LEVEL_KEYS = ("level", "severity", "priority", "lvl")
MAX_AGENTS = 10_000
"""Agents (``node/agent_id``) whose last batch number is remembered; an agent id changes only
when an agent loses its state dir, so this is years of re-installs on a large fleet."""
MAX_PUSH_SOURCES = 1000
"""Distinct ``node/source`` pairs pushed to (each keeps a miner): a shipper inventing a new
source per request must not grow the controller's memory without bound."""


class LogPipeline(LogQueries):
    """Implements :class:`vigil.api.LogService` for the controller (see the module docstring)."""

    def __init__(
        self,
        settings: LogsSettings,
        *,
        state_path: Path,
        bus: EventBus,
        incidents: IncidentBook,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``store``: the one ``incidents`` writes to; given, :meth:`run` writes the incidents
        of severe findings on a writer thread (:mod:`vigil.daemon._logs_incidents`)."""
        check_source_formats(settings)
        self.settings = settings
        self.max_push_bytes = settings.push_max_bytes
        self.state_path = state_path
        self._bus = bus
        self._incidents = incidents
        self._clock = clock
        self.writes = LogIncidents(incidents, store=store, bus=bus, clock=clock)
        a = settings.analysis
        self.registry = TemplateRegistry()
        self.novelty = NoveltyDetector(warmup_lines=a.warmup_lines, warmup_seconds=a.warmup_seconds)
        self.burst_options: dict[str, Any] = {
            "bucket_seconds": a.burst_bucket,
            "alpha": a.burst_alpha,
            "min_count": a.burst_min_count,
            "min_buckets": a.burst_min_buckets,
        }
        self.bursts = BurstDetector(**self.burst_options)
        # as many as the registry, which removes a template from them when it evicts it: with a
        # cap of their own they dropped the oldest created first, and a template still in use
        # lost its family (the miner's widening of it was then reported as new)
        self.families = TemplateFamilies(
            threshold=a.family_threshold, max_templates=self.registry.max_templates
        )
        self.association = AssociationMiner(window=a.window, settle=SETTLE)
        self.bayes = FaultBayes(
            window=a.window, slot=min(60.0, max(1.0, a.window / 5)), settle=SETTLE
        )
        self.found: deque[dict[str, Any]] = deque(maxlen=MAX_FINDINGS)
        self.next_finding = 1
        self.batches: dict[str, int] = {}
        """``node/agent_id@boot`` -> the last batch sequence number counted (the
        :data:`MAX_AGENTS` most recent instances)."""
        self.mined: dict[str, MinedSource] = {}
        """Pushed sources (``node/source``) -> their miner."""
        self.local = [LocalSource(src, settings.max_line_bytes) for src in settings.for_node(None)]
        self.stats: dict[str, dict[str, int]] = {}
        """Per source: lines, empty, invalid_utf8, control_chars, truncated, crlf, overflow."""
        self._log_incidents: dict[str, float] = {}
        self._rules_reported: set[int] = set()
        self._warned: dict[int, float] = {}  # precursor template -> last warned at
        self._dirty = False
        self._open_batches = 0  # agent batches taken in part: no save meanwhile
        self._again = False  # taking a batch whose incidents are written already
        self._rules_due = False
        self._sub = bus.subscribe("logs", accept=lambda e: isinstance(e, IncidentChanged))
        self._incident_rank = RANK[a.incident_severity]
        self.counts = LogCounts()
        """What arrived, was ignored and was found: read by the controller's ``/metrics``."""
        self.learner = IncidentLearner(self.counts.outcomes)
        load_state(self)

    # --- inputs ---------------------------------------------------------------------------------

    def ingest_batch(self, node: str, batch: Mapping[str, Any]) -> IngestResult:
        """An agent's batch at once (benches, tests; the API uses :meth:`receive_batch`)."""
        return at_once(self._batch_steps(node, batch))

    async def receive_batch(self, node: str, batch: Mapping[str, Any]) -> IngestResult:
        """An agent's batch, :data:`CHUNK_TEMPLATES` templates between two turns of the event
        loop (cancelled, it takes the rest at once: see :mod:`vigil.daemon._logs_steps`).
        Answered once the incidents it opened or joined are written (the loop runs meanwhile)."""
        raised = self.writes.raised
        result = await turn_by_turn(self._batch_steps(node, batch))
        if self.writes.raised > raised:
            await self.writes.drain()
        return result

    def _batch_steps(
        self, node: str, batch: Mapping[str, Any]
    ) -> Generator[None, None, IngestResult]:
        """Take an agent's batch, yielding after every :data:`CHUNK_TEMPLATES` templates;
        returns (``StopIteration.value``) its :class:`IngestResult`."""
        boot = batch.get("boot") or ""  # a restored agent state is a new instance (LogEdge's)
        agent = f"{node}/{batch['agent_id']}"
        key = agent + (f"@{boot}" if boot else "")
        seq = int(batch["seq"])
        if seq <= self.batches.get(key, 0):
            self.counts.duplicate(node)
            return IngestResult(0, 0, 0, duplicate=True)
        self.counts.batch(node, "agent")
        self.batches.pop(key, None)  # most recent last, so the oldest agent goes first
        self.batches[key] = seq
        if len(self.batches) > MAX_AGENTS:
            oldest = next(iter(self.batches))
            del self.batches[oldest]
            forget_instance(self.writes, self.batches, oldest)
        again = seq <= self.writes.written(agent, boot)  # its incidents survived a lost state
        self._open_batches += 1  # no save until it is whole (see save)
        raised = self.writes.raised
        try:
            steps = self._batch_templates(node, batch)
            while True:
                self._again = again  # read by _raise; no other batch runs within a step
                try:
                    next(steps)
                except StopIteration as done:
                    result: IngestResult = done.value
                    break
                finally:
                    self._again = False
                yield
            if self.writes.raised > raised:
                self.writes.batch_written(agent, boot, seq)
            return result
        finally:
            self._open_batches -= 1

    def _batch_templates(
        self, node: str, batch: Mapping[str, Any]
    ) -> Generator[None, None, IngestResult]:
        now = self._clock()
        lag = max(
            0.0,
            float(batch.get("sent_at", 0.0))
            - max((float(t["last_at"]) for t in batch["templates"]), default=0.0),
        )
        # A batch held back by an outage carries minutes of lines: they are counted and judged
        # for novelty, but they are no burst of now.
        window = 2 * self.settings.ship_every + self.settings.poll_every + 1.0
        timely = lag <= window
        offset = now - float(batch.get("sent_at", now))  # the agent's clock -> the controller's
        fold_remaps(self, node, batch.get("remaps") or ())  # what the agent's miner merged
        lines = found = 0
        for i, item in enumerate(batch["templates"]):
            if i and not i % CHUNK_TEMPLATES:
                yield
            source = f"{node}/{item['source']}"
            samples = item.get("samples") or [""]
            count = int(item["count"])
            found += self._observe(
                source,
                item["template"],
                now,
                count=count,
                example=samples[0],
                level=item.get("level", ""),
                bursts=timely,
                span=backlog_span(item, window, offset),
            )
            lines += int(item["count"])
            self.counts.received(source, int(item["count"]))
        for name, counts in batch.get("stats", {}).items():
            self._count_stats(f"{node}/{name}", counts)
        self._dirty = True
        return IngestResult(lines, len(batch["templates"]), found)

    async def ingest_lines(
        self, node: str, source: str, lines: Sequence[str] | bytes
    ) -> IngestResult:
        key = f"{node}/{source}"
        mined = self.mined.get(key)
        if mined is None:
            if len(self.mined) >= MAX_PUSH_SOURCES:
                raise InputError(
                    f"{key}: already {MAX_PUSH_SOURCES} pushed sources; push to one of them "
                    "(node and source name a log, not a request)"
                )
            mined = self.mined[key] = MinedSource("auto")
        splitter = LineSplitter(self.settings.max_line_bytes)
        if isinstance(lines, bytes):
            texts = list(splitter.feed(lines)) + list(splitter.close())
        else:
            texts = [splitter.line(line) for line in lines]  # one line each, whatever it holds
        self._count_stats(key, stats_of(splitter.stats))
        self.counts.batch(node, "push")
        self.counts.received(key, len(texts))
        raised = self.writes.raised
        result = await self._mine(key, mined, texts)
        if self.writes.raised > raised:  # answered once its incidents are written
            await self.writes.drain()
        self._dirty = True
        return result

    async def _mine(
        self, source: str, mined: MinedSource, texts: Sequence[str], *, bursts: bool = True
    ) -> IngestResult:
        """Mine lines on the controller, :data:`CHUNK_LINES` at a time: the analyses see each
        template once per chunk with its count, and the event loop (heartbeats, the API) gets
        a turn between chunks. Cancelled between two chunks, it mines the rest at once and
        then raises: the lines have been read, and a stop must not lose them."""
        found = 0
        touched: set[str] = set()
        cancelled = False
        for start in range(0, len(texts), CHUNK_LINES):
            if start and not cancelled:
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError:
                    # Stopping: the lines were read (a file's offset is past them), so they
                    # are mined now, before the state is saved, or they would never be.
                    cancelled = True
            now = self._clock()
            miner = mined.miner
            before = (len(miner.clusters), miner.next_id)
            lines: dict[int, list[Any]] = {}  # cluster id -> [count, example, level, cluster]
            for text in texts[start : start + CHUNK_LINES]:
                if not text.strip():
                    continue
                split = mined.format.split(text)
                cluster = miner.cluster_of(split.content)
                level = next((v for k, v in split.fields if k.lower() in LEVEL_KEYS), "")
                have = lines.get(cluster.id)
                if have is None:
                    lines[cluster.id] = [1, text, level, cluster]
                else:
                    have[0] += 1
                    have[2] = have[2] or level
            chunk = by_text(self, mined, lines, *before)
            for template, (count, example, level) in chunk.items():
                touched.add(template)
                found += self._observe(
                    source, template, now, count=count, example=example, level=level, bursts=bursts
                )
        if cancelled:
            raise asyncio.CancelledError
        return IngestResult(len(texts), len(touched), found)

    def _count_stats(self, source: str, counts: Mapping[str, int]) -> None:
        # the sources past the metrics' cap share one entry (see LogCounts.key): a name per
        # entry grew this (and the state file) with every source name an agent sent
        have = self.stats.setdefault("/".join(self.counts.key(source)), {})
        for name, value in counts.items():
            if value:
                have[name] = have.get(name, 0) + int(value)
                if name != "lines":
                    self.counts.problem(source, name, int(value))

    # --- the analyses ---------------------------------------------------------------------------

    def _observe(
        self,
        source: str,
        template: str,
        now: float,
        *,
        count: int = 1,
        example: str = "",
        level: str = "",
        bursts: bool = True,
        span: tuple[float, float] | None = None,
    ) -> int:
        """Feed ``count`` lines of ``template`` to every analysis; the findings raised.
        ``span``: the lines are an agent's backlog logged over this time (the controller's
        clock), counted in its buckets by the burst detector (:func:`backlog_span`)."""
        entry, created, evicted = self.registry.observe(
            template, now, count=count, example=example, level=level, source=source
        )
        for gone in evicted:
            self.families.remove(gone)
        if created:
            self.families.add(entry.id, template)
            if widens_known(entry.id, template, self.families, self.registry, self.novelty):
                self.novelty.remember([entry.id])
        findings = []
        novel = self.novelty.observe(entry.id, template, now, level=level or None, source=source)
        self.novelty.lines += count - 1
        if novel is not None:
            findings.append(novel)
        if bursts:
            lvl = level or None
            if span is None:
                burst = self.bursts.observe(
                    entry.id, now, template=template, level=lvl, source=source, count=count
                )
            else:
                first, last = span
                burst = self.bursts.backlog(
                    entry.id, now, first, last, count, template=template, level=lvl, source=source
                )
            if burst is not None:
                findings.append(burst)
        self.association.occurrence(entry.id, now, count=count)
        self.bayes.occurrence(entry.id, now)
        for lf in findings:
            self._raise(KIND_OF[lf.kind], lf)
        precursor = self._precursor(entry.id, template, source, now)
        if precursor is not None:
            self._raise(FindingKind.LOG_ASSOCIATION, precursor)
        return len(findings) + (precursor is not None)

    def _precursor(
        self, template_id: int, template: str, source: str, now: float
    ) -> LogFinding | None:
        """A known precursor seen again (:mod:`vigil.daemon._logs_precursors`), once a window."""
        if template_id not in self._rules_reported:
            return None
        last = self._warned.get(template_id)
        window = self.association.window
        if last is not None and now - last < window:
            return None
        p_fault = self.bayes.posterior(template_id, now)
        found = precursor_finding(
            template_id, template, source, p_fault=p_fault, window=window, now=now
        )
        if found is not None:
            self._warned[template_id] = now
        return found

    def _raise(self, kind: FindingKind, lf: LogFinding) -> None:
        evidence = {**lf.finding_evidence(), "family": self.families.family_of(lf.template_id)}
        finding = Finding(
            kind=kind,
            subject=lf.subject,
            at=lf.at,
            summary=lf.summary,
            severity=lf.severity,
            evidence=evidence,
        )
        record = {
            "kind": kind.value,
            "at": lf.at,
            "severity": lf.severity.value,
            "score": lf.score,
            "summary": lf.summary,
            "subject": lf.subject,
            "source": lf.source,
            "template_id": lf.template_id,
            "template": lf.template,
            "incident_id": None,
            "evidence": evidence,
        }
        self.counts.finding(kind.value, lf.severity.value)
        self._dirty = True
        if RANK[lf.severity.value] >= self._incident_rank:
            self._log_incidents[lf.subject] = lf.at
            # publishes FindingRaised too; the finding is listed once its incident is written
            self.writes.raise_finding(
                finding, lambda incident_id: self._found(record, incident_id), again=self._again
            )
        else:
            self._bus.publish(FindingRaised(at=lf.at, finding=finding))
            self._found(record, None)

    def _found(self, record: dict[str, Any], incident_id: int | None) -> None:
        """List a finding (``GET /api/v1/logs/findings``), numbered in the order listed."""
        self.found.append({"id": self.next_finding, **record, "incident_id": incident_id})
        self.next_finding += 1
        self._dirty = True

    def check_rules(self, now: float) -> None:
        """Report new association rules, once every incident learned has settled (a rule is
        never reported on the strength of an incident that may still be taken back)."""
        if not self.learner.settled(now):
            self._rules_due = True
            return
        self._rules_due = False
        rules = self.association.rules(
            now, min_support=MIN_SUPPORT, min_lift=self.settings.analysis.min_lift
        )
        for rule in rules:
            if rule.template_id in self._rules_reported:
                continue
            entry = self.registry.get(rule.template_id)
            if entry is None:
                continue
            self._rules_reported.add(rule.template_id)
            incidents, window = self.association.incidents, self.association.window
            lf = rule_finding(rule, entry, incidents=incidents, window=window, now=now)
            self._raise(FindingKind.LOG_ASSOCIATION, lf)

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the controller's own files, learn from incidents, resolve quiet log incidents
        and save the state, until cancelled (the state is saved on the way out)."""
        last_save = last_rules = self._clock()
        self.writes.start()
        try:
            while True:
                await asyncio.sleep(self.settings.poll_every)
                now = self._clock()
                started = time.perf_counter()  # the round's cost, not the analyses' clock
                try:
                    await self.poll_local()
                    self.learn_incidents(now)
                    self.resolve_quiet(now)
                    if now - last_rules >= RULES_EVERY:
                        last_rules = now
                        self.check_rules(now)
                    if self._dirty and now - last_save >= SAVE_EVERY and await self.save():
                        last_save = now
                except Exception:  # a log problem must never take the controller down
                    log.exception("log pipeline: this round failed; trying again next round")
                self.counts.round(time.perf_counter() - started)
        finally:
            self._sub.close()
            await self.writes.close()  # the queued incidents, and their findings listed
            try:
                self.save_now()
            except OSError as exc:
                log.error("log pipeline: cannot save %s: %s", self.state_path, exc)

    async def poll_local(self) -> None:
        stopping = False
        for src in self.local:
            if stopping:
                break
            lines, stopping = await read_whole(src.tailer)
            timely, src.catching_up = not src.catching_up, src.tailer.backlog
            if lines:
                self.counts.batch(CONTROLLER, "file")
                self.counts.received(src.key, len(lines))
                await self._mine(src.key, src.mined, [line.text for line in lines], bursts=timely)
                now = stats_of(src.tailer.stats)
                self._count_stats(src.key, {k: v - src.counted.get(k, 0) for k, v in now.items()})
                src.counted = now
                self._dirty = True
        if stopping:  # the lines of the read under way are mined: now stop
            raise asyncio.CancelledError

    def learn_incidents(self, now: float) -> None:
        """Learn from incidents of other kinds: an opening teaches, a blip is taken back
        (:mod:`vigil.daemon._logs_learn`)."""
        while (event := self._sub.get_nowait()) is not None:
            assert isinstance(event, IncidentChanged)
            inc = event.incident
            if inc.kind in LOG_KINDS:
                continue
            verdict = self.learner.see(inc, now)
            if verdict is None:
                continue
            what, at = verdict
            if what == "learn":
                self.association.incident(inc.subject, at)
                self.bayes.incident(inc.subject, at)
            else:
                self.association.retract(at)
                self.bayes.retract(at)
            self._rules_due = self._dirty = True
        if self._rules_due:
            self.check_rules(now)

    def resolve_quiet(self, now: float) -> None:
        quiet = self.settings.analysis.incident_quiet
        for subject, last in list(self._log_incidents.items()):
            if now - last >= quiet:
                del self._log_incidents[subject]
                self.writes.recovered(subject, now, f"no severe log finding for {quiet:g}s")

    async def save(self) -> bool:
        """Save the state; False (not now) while an agent batch is taken in part: its number
        with half its counts, read after a kill -9, would lose the other half (a duplicate)."""
        if self._open_batches:
            return False
        text = save_state(self)
        self._dirty = False  # before the write: what changes meanwhile is saved next time
        await asyncio.to_thread(write_atomic, self.state_path, text)
        return True

    def save_now(self) -> None:
        write_atomic(self.state_path, save_state(self))
        self._dirty = False
