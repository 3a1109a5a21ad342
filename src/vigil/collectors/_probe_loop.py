"""Runs one replica's liveness or readiness probe forever and publishes what it sees on the bus.

The supervisor in :mod:`vigil.remediation` starts one :class:`ProbeLoop` per replica and probe
kind when the replica's process starts, and stops it when the process goes away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from vigil.bus import EventBus
from vigil.collectors._outcome import ProbeOutcome
from vigil.collectors._probes import run_probe
from vigil.collectors._tracker import ProbeTracker
from vigil.model import HealthChanged, ProbeKind, ProbeResult, ReplicaId

if TYPE_CHECKING:  # annotations only: the agent imports vigil.collectors, and the settings
    # models (pydantic) would cost it ~14 MB for probes only the controller runs
    from vigil.settings import Probe

_log = logging.getLogger(__name__)


class ProbeLoop:
    """Probes one replica every ``probe.interval`` seconds, start to start, after ``initial_delay``.

    Publishes a ``ProbeResult`` for every run and a ``HealthChanged`` whenever the verdict of its
    :class:`ProbeTracker` flips (``timed_out`` is set when every failure of the streak timed out:
    a hang). A probe slower than the interval is followed at once by the next one. ``clock`` gives
    the wall-clock time stamped on events; ``sleep`` is replaceable for tests.
    """

    def __init__(
        self,
        replica_id: ReplicaId,
        kind: ProbeKind,
        probe: Probe,
        port: int,
        bus: EventBus,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.replica_id = replica_id
        self.kind = kind
        self.probe = probe
        self.port = port
        self.tracker = ProbeTracker(probe)
        self.last: ProbeOutcome | None = None
        """The latest outcome, ``None`` before the first probe has finished."""
        self._bus = bus
        self._clock = clock
        self._sleep = sleep
        self._env = env
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool | None:
        """The current verdict: ``None`` until a threshold is reached."""
        return self.tracker.healthy

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start probing in a background task (no-op if already running)."""
        if not self.running:
            name = f"probe:{self.replica_id}:{self.kind.value}"
            self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    async def stop(self) -> None:
        """Cancel the probing task and wait for it (a probe in flight is abandoned and cleaned)."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _run(self) -> None:
        await self._sleep(self.probe.initial_delay)
        while True:
            started = time.monotonic()
            await self.run_once()
            await self._sleep(max(0.0, started + self.probe.interval - time.monotonic()))

    async def run_once(self) -> ProbeOutcome:
        """Probe once, publish the result (and the flip, if any); the outcome."""
        begun = time.perf_counter()
        try:
            outcome = await run_probe(self.probe, port=self.port, env=self._env)
        except Exception as exc:  # a bug in a probe must not end the replica's monitoring
            _log.exception("probe %s of %s crashed", self.kind.value, self.replica_id)
            outcome = ProbeOutcome(False, time.perf_counter() - begun, f"probe error: {exc!r}")
        self.last = outcome
        self._bus.publish(
            ProbeResult(
                at=self._clock(),
                replica=self.replica_id,
                probe=self.kind,
                ok=outcome.ok,
                latency=outcome.latency,
                detail=outcome.detail,
            )
        )
        verdict = self.tracker.record(outcome)
        if verdict is not None:
            self._bus.publish(
                HealthChanged(
                    at=self._clock(),
                    replica=self.replica_id,
                    probe=self.kind,
                    healthy=verdict,
                    detail=outcome.detail,
                    timed_out=not verdict and self.tracker.timed_out,
                )
            )
        return outcome
