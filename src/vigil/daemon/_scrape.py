"""The controller's own metric sources: Prometheus exporters scraped, PromQL queries run.

One :class:`SourceLoop` per ``metrics.scrape`` target (text exposition: node_exporter, DCGM
exporter, vLLM ``/metrics``) and per ``metrics.promql`` query (``/api/v1/query`` on a Prometheus
server), started by :class:`vigil.daemon.Controller`. Their samples go through the controller's
ingestion (series store + rule engine) like an agent's. A failing source is reported once when
it starts failing and once when it recovers, never once per attempt; the others keep running
(an unexpected error in a round is such a failure, with its traceback, never the loop's end);
a change between failing to fetch and having some samples refused is reported too.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx

from vigil.collectors import Labels, Sample, query, redacted, scrape
from vigil.errors import VigilError
from vigil.settings import PromQuery, ScrapeTarget

log = logging.getLogger("vigil.daemon")

Ingest = Callable[[Sequence[Sample]], list[str]]
INGEST_CHUNK = 2000
"""Samples of a round stored in one go, the event loop free between two chunks. A big answer
(100,000 lines of a /federate) stored at once held the loop ~2-4 s at a minute boundary (each
series closing its minute bucket), on top of its parse (now in a thread)."""


class SourceLoop:
    """Fetch one source every ``interval`` seconds and hand its samples to ``ingest``."""

    def __init__(
        self,
        source: ScrapeTarget | PromQuery,
        ingest: Ingest,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source = source
        self.what = (
            f"metrics.scrape {source.name} ({redacted(source.url)})"
            if isinstance(source, ScrapeTarget)
            else f"metrics.promql {source.name} ({source.query!r} on {redacted(source.server)})"
        )
        self._ingest = ingest
        self._clock = clock
        self._sleep = sleep
        self.failing: str | None = None
        """The current problem (None: the last round worked); logged when its kind changes."""
        self._kind: str | None = None  # "fetch" (no samples) or "store" (some refused)
        self._stamped: dict[tuple[str, Labels], float] = {}  # lines with their own time, last
        self.rounds = self.stored = 0

    async def fetch(self, client: httpx.AsyncClient) -> list[Sample]:
        src = self.source
        if isinstance(src, ScrapeTarget):
            labels = {"job": src.name, **src.labels}
            if src.node is not None:
                labels["node"] = src.node
            stamp = self._clock()  # of the lines without their own time (as Prometheus: the
            # start of the scrape); a line with its own is told apart by it
            samples = await scrape(
                src.url, timeout=src.timeout, client=client, clock=lambda: stamp, labels=labels
            )
            return self._fresh(samples, stamp)
        return await query(
            src.server,
            src.query,
            name=src.name,
            timeout=src.timeout,
            client=client,
            labels=dict(src.labels),
        )

    def _fresh(self, samples: list[Sample], stamp: float) -> list[Sample]:
        """``samples`` less the lines that repeat their own time of the last round: cAdvisor
        and ``/federate`` stamp their lines, and a scrape before they refresh repeats them.
        Prometheus ignores such a repeat; the store refused it as not newer than the last,
        and the source was reported failing at every round."""
        seen, self._stamped = self._stamped, {}
        out = []
        for sample in samples:
            if sample.at != stamp and math.isfinite(sample.at):  # the exposition's own time
                key = (sample.name, sample.labels)  # (not a number: refused at every round)
                self._stamped[key] = sample.at
                if seen.get(key) == sample.at:
                    continue
            out.append(sample)
        return out

    async def once(self, client: httpx.AsyncClient) -> None:
        """One round: fetch, ingest, and report a change of state (failing / recovered)."""
        self.rounds += 1
        problem: str | None = None
        kind: str | None = "fetch"
        unexpected = False
        try:
            samples = await self.fetch(client)
            errors: list[str] = []
            for at in range(0, len(samples), INGEST_CHUNK):
                if at:
                    await asyncio.sleep(0)  # the loop's other work between two chunks
                errors += self._ingest(samples[at : at + INGEST_CHUNK])
        except VigilError as exc:
            problem = str(exc)
        except Exception as exc:  # a source's answer must never stop the controller
            problem, unexpected = f"{type(exc).__name__}: {exc}", True
        else:
            self.stored += len(samples) - len(errors)
            kind = "store" if errors else None
            if errors:
                problem = f"{len(errors)} of {len(samples)} samples not stored, first: {errors[0]}"
        # said when the kind of problem changes, not only from working: a source with some
        # samples refused at every round (a series given twice) went down unsaid
        if kind is not None and kind != self._kind:
            log.warning(
                "%s: %s (reported once until it recovers)",
                self.what,
                problem,
                exc_info=unexpected,
            )
        elif kind is None and self._kind is not None:
            log.info("%s: recovered", self.what)
        self.failing, self._kind = problem, kind

    async def run(self) -> None:
        async with httpx.AsyncClient() as client:
            while True:
                await self.once(client)
                await self._sleep(self.source.interval)
