"""In-process async event bus: publish model events, subscribe with an async iterator.

Publishers (supervisor, probes, heartbeat monitor, engine, API) call :meth:`EventBus.publish`, which
never blocks: each subscriber has its own queue and reads at its own pace (the store persister,
the incident manager, the live view). Used by :mod:`vigil.daemon` and by tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from vigil.model import Event

DEFAULT_QUEUE_LIMIT = 100_000
"""Events a slow subscriber may fall behind by before the oldest are dropped (and counted):
a stuck consumer must not grow memory without bound or block detection."""


class Subscription:
    """One subscriber's queue of events, filtered by ``accept``."""

    def __init__(
        self, bus: EventBus, name: str, accept: Callable[[Event], bool], limit: int
    ) -> None:
        self.name = name
        self.dropped = 0
        self._bus = bus
        self._accept = accept
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=limit)

    def _offer(self, event: Event) -> None:
        if not self._accept(event):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event | None:
        """The next event, or ``None`` once the subscription is closed."""
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._bus._unsubscribe(self)
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event


class EventBus:
    """Fan-out of events to every subscription; ``publish`` is synchronous and never blocks."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self.published = 0

    def subscribe(
        self,
        name: str,
        accept: Callable[[Event], bool] | None = None,
        limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> Subscription:
        sub = Subscription(self, name, accept or (lambda _e: True), limit)
        self._subs.append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: Event) -> None:
        self.published += 1
        for sub in list(self._subs):
            sub._offer(event)
