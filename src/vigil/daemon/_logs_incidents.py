"""The incidents of severe log findings, written in order off the controller's event loop.

Used by :class:`vigil.daemon._logs.LogPipeline`. A log finding at
``logs.analysis.incident_severity`` opens or joins the incident ``logs:<node>/<source>``
(:class:`~vigil.remediation.IncidentBook`): two SQLite transactions, ~4 ms. Done on the loop, an
agent batch of 1,000 new ERROR templates held heartbeats, probes and the API for 3-10 s
(``python bench/log_stall.py``). While :meth:`LogIncidents.start` has been called (the pipeline's
``run``), each write is a job on an ordered writer thread (:mod:`vigil.daemon._writer`), in the
order the findings were raised, recoveries included; the book's events reach the loop's bus
through a :class:`~vigil.daemon._writer.LoopPublisher`, and ``done`` is called on the loop with
the incident's id once it is committed. Without a store, or outside ``run`` (tests, benches),
the writes are done in line, as before.

The jobs queued while the writer thread is busy are coalesced: one job-run writes every
finding, recovery and batch note queued so far in ONE transaction (:meth:`IncidentBook.batch`),
then calls their ``done`` in order; 1,000 findings cost one commit, not 2,000. Should that
transaction fail, its work is written again one item at a time (each failing alone, as before).

An agent batch whose findings opened or joined incidents is noted in the store
(:meth:`LogIncidents.batch_written`, meta ``logs.batch:<node>/<agent_id>`` = ``"<seq> <boot>"``,
written after them). After a kill -9 the log state may be older than the incidents: the agent
sends the batch again, its counts are taken again (they were lost with the state), but its
findings are not written again (:meth:`LogIncidents.written`): an incident got each finding twice.
One row per agent, overwritten by each start (``boot``) of it: keyed by ``<agent_id>@<boot>``, a
row was added per start of every agent and never removed. An agent the pipeline forgets (it
remembers :data:`~vigil.daemon._logs.MAX_AGENTS`) has its row deleted (:meth:`forget`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vigil.bus import EventBus
from vigil.daemon._writer import LoopPublisher, OrderedWriter
from vigil.model import Finding
from vigil.remediation import IncidentBook
from vigil.store import Store

log = logging.getLogger("vigil.daemon.logs")

Done = Callable[[int | None], None]
"""Called on the loop with the incident's id once it is written (None: the write failed)."""
Op = Callable[[], Callable[[], None] | None]
"""A queued write, run on the writer thread; returns what to call on the loop once committed."""


class LogIncidents:
    def __init__(
        self,
        incidents: IncidentBook,
        *,
        store: Store | None,
        bus: EventBus,
        clock: Callable[[], float],
    ) -> None:
        self._book = incidents
        self._store = store
        self._bus = bus
        self._clock = clock
        self._writer: OrderedWriter | None = None
        self._thread: tuple[IncidentBook, asyncio.AbstractEventLoop] | None = None
        self._notes: dict[str, tuple[str, int]] = {}  # agent -> (boot, its last batch written)
        self._lock = threading.Lock()
        self._ops: list[_Job] = []  # queued for the next job-run of the writer thread
        self._run_queued = False
        self.raised = 0
        """Findings written so far (a batch that raised none is not noted)."""

    def start(self) -> None:
        """From now on (until :meth:`close`), write on the writer thread. Call on the loop."""
        if self._store is None or self._writer is not None:
            return
        loop = asyncio.get_running_loop()
        book = IncidentBook(self._store, LoopPublisher(self._bus, loop), self._clock)
        self._thread = (book, loop)
        self._writer = OrderedWriter("vigil-log-incidents", "a log incident write")

    async def close(self) -> None:
        """Write everything queued (its ``done`` calls run), then write in line again."""
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.to_thread(writer.close)
            await asyncio.sleep(0)  # the done calls and events the last jobs handed over

    async def drain(self) -> None:
        """Wait until every write queued so far is committed and its ``done`` has run."""
        if self._writer is not None:
            await self._writer.drain()
            await asyncio.sleep(0)

    def written(self, agent: str, boot: str) -> int:
        """The last batch of ``agent`` (``node/agent_id``) in its start ``boot`` whose
        incidents are written (0: none, or they were another start's)."""
        note = self._notes.get(agent)
        if note is None:
            text = None if self._store is None else self._store.get_meta(BATCH_KEY + agent)
            note = self._notes[agent] = _parse_note(text)
        return note[1] if note[0] == boot else 0

    def forget(self, agent: str) -> None:
        """Drop ``agent``'s note, in memory and in the store (after the writes queued)."""
        self._notes.pop(agent, None)
        if self._store is None:
            return
        if self._writer is None:
            self._store.delete_meta(BATCH_KEY + agent)
        else:
            op = functools.partial(_nothing_of, self._store.delete_meta, BATCH_KEY + agent)
            self._queue(_Job(op, f"deleting the note of log batches {agent}"))

    def batch_written(self, agent: str, boot: str, seq: int) -> None:
        """Note, after its incidents, that batch ``seq`` of ``agent`` (start ``boot``) wrote
        them; the note of an earlier start of the agent is overwritten."""
        if self._store is None:
            return
        self._notes[agent] = (boot, seq)
        store, value = self._store, f"{seq} {boot}".rstrip()
        if self._writer is None:
            store.set_meta(BATCH_KEY + agent, value)
        else:
            op = functools.partial(_nothing_of, store.set_meta, BATCH_KEY + agent, value)
            self._queue(_Job(op, f"the note of log batch {agent}@{boot}/{seq}"))

    def raise_finding(self, finding: Finding, done: Done, *, again: bool = False) -> None:
        """Open or join the finding's incident; ``done(incident id)`` once written. ``again``:
        the finding of a batch sent again whose incidents are written already: nothing is
        written, ``done`` gets the subject's active incident."""
        if not again:
            self.raised += 1
        if self._writer is None or self._thread is None:
            done(_incident_id(self._book, finding, again))
            return
        book, loop = self._thread

        def op() -> Callable[[], None]:
            incident_id = _incident_id(book, finding, again)
            return lambda: _call_on(loop, done, incident_id)

        # should it fail, the finding is still reported, without its incident
        failed = functools.partial(_call_on, loop, done, None)
        self._queue(_Job(op, f"the incident of {finding.subject}", failed))

    def recovered(self, subject: str, at: float, detail: str) -> None:
        """Resolve the subject's incident, after every write queued before."""
        if self._writer is None or self._thread is None:
            self._book.recovered(subject, at, detail)
            return
        book, _ = self._thread
        op = functools.partial(_nothing_of, book.recovered, subject, at, detail)
        self._queue(_Job(op, f"the recovery of {subject}"))

    def _queue(self, job: _Job) -> None:
        """Queue ``job`` for the writer's next job-run."""
        assert self._writer is not None
        with self._lock:
            self._ops.append(job)
            if self._run_queued:
                return
            self._run_queued = True
        self._writer.submit(self._run)

    def _run(self) -> None:
        """On the writer thread: everything queued so far, in one transaction."""
        with self._lock:
            ops, self._ops = self._ops, []
            self._run_queued = False
        assert self._thread is not None
        book, _ = self._thread
        try:
            with book.batch(f"writing {len(ops)} log incident jobs"):
                after = [job.op() for job in ops]
        except Exception:
            log.warning("writing %d log incident jobs at once failed: one at a time", len(ops))
            after = [_alone(book, job) for job in ops]
        for then in after:
            if then is not None:
                then()


@dataclass(frozen=True)
class _Job:
    """A queued write: ``op`` on the writer thread; ``failed`` (on the loop) when it fails."""

    op: Op
    what: str
    failed: Callable[[], None] | None = None


def _alone(book: IncidentBook, job: _Job) -> Callable[[], None] | None:
    try:
        with book.batch(job.what):
            return job.op()
    except Exception:
        log.exception("could not write %s", job.what)
        return job.failed


BATCH_KEY = "logs.batch:"


def forget_instance(writes: LogIncidents, remembered: Iterable[str], key: str) -> None:
    """The pipeline forgot agent instance ``key`` (``node/agent_id[@boot]``): its agent's note
    goes too, unless another start of the agent is still ``remembered``. An agent id with an
    ``@`` (ours are hex) may be cut wrong: then a note is kept, or one is deleted that a batch
    sent again after a kill -9 would have needed."""
    agent = key.rpartition("@")[0] if "@" in key.partition("/")[2] else key
    if not any(k == agent or k.startswith(agent + "@") for k in remembered):
        writes.forget(agent)


def _parse_note(text: str | None) -> tuple[str, int]:
    """``"<seq> <boot>"`` (``"<seq>"`` for an agent that sends no boot) as (boot, seq); a row
    that is not one (none, or edited) counts as nothing written: (``""``, 0)."""
    seq, _, boot = (text or "").partition(" ")
    return (boot, int(seq)) if seq.isdigit() else ("", 0)


def _incident_id(book: IncidentBook, finding: Finding, again: bool) -> int | None:
    if not again:
        return int(book.raise_finding(finding).id)
    active = book.active(finding.subject)
    return None if active is None else int(active.id)


def _call_on(loop: asyncio.AbstractEventLoop, done: Done, incident_id: int | None) -> None:
    try:
        loop.call_soon_threadsafe(done, incident_id)
    except RuntimeError:  # the loop is closed: the controller is gone
        log.debug("incident %s written after the loop closed", incident_id)


def _nothing_of(call: Callable[..., object], *args: object) -> None:
    call(*args)
