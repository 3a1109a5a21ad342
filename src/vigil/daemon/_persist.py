"""The event persister: one bus subscriber that writes events to the store and feeds metrics.

Run as a task by :class:`vigil.daemon.Controller`. Probe results and heartbeats are high-rate and
not stored one by one (their verdicts are: ``replica.health``, ``node.status``).
"""

from __future__ import annotations

import logging

from vigil.bus import Subscription
from vigil.daemon._metrics import ControllerMetrics
from vigil.errors import StoreError
from vigil.model import HeartbeatReceived, ProbeResult
from vigil.store import Store

log = logging.getLogger("vigil.daemon")

NOT_STORED = (ProbeResult, HeartbeatReceived)


async def persist_events(sub: Subscription, store: Store, metrics: ControllerMetrics) -> None:
    async for event in sub:
        metrics.observe(event)
        if isinstance(event, NOT_STORED):
            continue
        try:
            store.append_event(event.at, event.kind, event.subject, event.to_dict())
        except StoreError as exc:  # keep running: the incident/replica rows are written apart
            log.error("could not store event %s: %s", event.kind, exc)
