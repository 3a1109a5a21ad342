"""The event persister: one bus subscriber that writes events to the store and feeds metrics.

Run as a task by :class:`vigil.daemon.Controller`. Probe results and heartbeats are high-rate and
not stored one by one (their verdicts are: ``replica.health``, ``node.status``). The writes run
in order on a writer thread (:class:`vigil.daemon._writer.OrderedWriter`): one SQLite transaction
per event, and a storm of node status changes brings four events per node, which written on the
loop held up the heartbeats. The task returns once every event it took is written.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from vigil.bus import Subscription
from vigil.daemon._metrics import ControllerMetrics
from vigil.daemon._writer import OrderedWriter
from vigil.errors import StoreError
from vigil.model import Event, HeartbeatReceived, ProbeResult
from vigil.store import Store

log = logging.getLogger("vigil.daemon")

NOT_STORED = (ProbeResult, HeartbeatReceived)


async def persist_events(sub: Subscription, store: Store, metrics: ControllerMetrics) -> None:
    writer = OrderedWriter("vigil-events")
    try:
        async for event in sub:
            metrics.observe(event)
            if not isinstance(event, NOT_STORED):
                writer.submit(functools.partial(_store, store, event))
    finally:
        await asyncio.to_thread(writer.close)


def _store(store: Store, event: Event) -> None:
    try:
        store.append_event(event.at, event.kind, event.subject, event.to_dict())
    except StoreError as exc:  # keep running: the incident/replica rows are written apart
        log.error("could not store event %s: %s", event.kind, exc)
