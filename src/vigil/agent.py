"""The node agent: sends heartbeats (with a little host info) to the controller.

Run by ``vigil agent`` on every node, and by the demo, tests and benchmarks as a real process.
Heartbeats go out at a fixed rate (start-to-start), so a slow controller answer does not stretch
the interval; the controller's answer sets the interval it expects.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import httpx
import psutil

from vigil.collectors import Sample

log = logging.getLogger("vigil.agent")

METRICS_EVERY = 1.0
"""Seconds between two batches of host samples (the issue's 1 s resolution)."""
REQUEST_TIMEOUT_SHARE = 0.8
"""A heartbeat request may take at most this share of the interval, so requests never pile up."""


def host_info() -> dict[str, Any]:
    """What a heartbeat says about the node; placement reads ``memory_free_mb`` and ``cpu_pct``."""
    vm = psutil.virtual_memory()
    return {
        "cpu_pct": psutil.cpu_percent(interval=None),
        "mem_pct": vm.percent,
        "memory_free_mb": vm.available // (1024 * 1024),
        "load1": psutil.getloadavg()[0],
    }


class MetricSource(Protocol):
    """A collector the agent reads every ``metrics_every`` seconds (host, GPU...)."""

    def collect(self) -> list[Sample]: ...


class Agent:
    def __init__(
        self,
        controller: str,
        name: str,
        token: str | None,
        *,
        interval: float = 1.0,
        jitter: float = 0.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Sequence[MetricSource] = (),
        metrics_every: float = METRICS_EVERY,
    ) -> None:
        self.url = controller.rstrip("/") + "/api/v1/heartbeats"
        self.metrics = metrics
        self.metrics_every = metrics_every
        self.pushed = 0
        self.dropped = 0
        self._last_metrics = -float("inf")
        self.name = name
        self.interval = interval
        self.jitter = jitter
        self.sent = 0
        self.failed = 0
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._rng = random.Random(seed)
        self._clock = clock
        self._sleep = sleep

    def _samples(self) -> list[dict[str, Any]]:
        """Host samples when a batch is due (every ``metrics_every`` s), else none. They ride
        on the heartbeat: one request a second instead of two; a heartbeat that fails drops
        its batch (counted) rather than queueing it, so a slow controller is not flooded."""
        now = self._clock()
        if not self.metrics or now - self._last_metrics < self.metrics_every * 0.9:
            return []
        self._last_metrics = now
        return [
            {"name": s.name, "labels": s.labels_dict, "value": s.value, "at": s.at}
            for source in self.metrics
            for s in source.collect()
        ]

    async def beat(self, client: httpx.AsyncClient, seq: int) -> None:
        samples = self._samples()
        body = {"node": self.name, "seq": seq, "info": host_info(), "samples": samples}
        try:
            resp = await client.post(
                self.url,
                json=body,
                headers=self._headers,
                timeout=max(0.05, self.interval * REQUEST_TIMEOUT_SHARE),
            )
        except httpx.HTTPError as exc:
            self.failed += 1
            self.dropped += len(samples)
            log.warning("heartbeat %d to %s failed: %s", seq, self.url, exc)
            return
        if resp.status_code != 200:
            self.failed += 1
            self.dropped += len(samples)
            log.error("heartbeat %d refused: HTTP %d %s", seq, resp.status_code, resp.text[:200])
            return
        self.sent += 1
        self.pushed += len(samples)
        interval = resp.json().get("interval")
        if isinstance(interval, int | float) and interval > 0:
            self.interval = float(interval)

    async def run(self, count: int | None = None) -> None:
        """Send heartbeats forever (or ``count`` of them). ``jitter`` (a share of the interval)
        delays each one by a uniform random amount, to test the controller's tolerance."""
        async with httpx.AsyncClient() as client:
            await self._beats(client, count)

    async def _beats(self, client: httpx.AsyncClient, count: int | None) -> None:
        start = self._clock()
        seq = 0
        interval = self.interval
        while count is None or seq < count:
            if self.interval != interval:  # the controller asked for another interval
                interval = self.interval
                start = self._clock() - seq * interval
            due = start + seq * self.interval
            offset = self._rng.uniform(-self.jitter, self.jitter) * self.interval
            delay = max(0.0, due + offset - self._clock())
            await self._sleep(delay)
            await self.beat(client, seq)
            seq += 1
            if self._clock() - start > (seq + 10) * self.interval:
                start = self._clock() - seq * self.interval  # fell far behind: re-anchor
