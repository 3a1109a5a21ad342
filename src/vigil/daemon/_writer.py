"""An ordered writer thread: store work that must not stall the event loop, done in order.

Used by :class:`vigil.daemon._nodes.NodeMonitor` for what a node's status change writes (the node
row, its incident, the escalation and its audit entry). At fleet scale, late heartbeats can flip
hundreds of nodes Up/Suspect at once; each change is several SQLite transactions (~3-5 ms of
SQLAlchemy), and done on the loop they stalled every heartbeat behind them, which made more
nodes late: a collapse. Here they run one at a time, in submission order, on one thread.

Events those jobs publish go through :class:`LoopPublisher`, which hands each one to the loop's
bus in order (``call_soon_threadsafe``), so subscribers still get them on the loop and a job's
last event is seen only once everything it wrote is committed. The event persister and the
balancer's worker processes (:mod:`vigil.daemon._balancer_workers`) use it the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from vigil.bus import EventBus
from vigil.model import Event

log = logging.getLogger("vigil.daemon")


class LoopPublisher(EventBus):
    """A bus for a worker thread: ``publish`` forwards to ``bus`` on ``loop``, in order.

    It has no subscribers of its own; subscribe to the loop's bus.
    """

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._target = bus
        self._loop = loop

    def publish(self, event: Event) -> None:
        self.published += 1
        try:
            self._loop.call_soon_threadsafe(self._target.publish, event)
        except RuntimeError:  # the loop is closed: the controller is gone, nobody listens
            log.debug("dropped %s published after the loop closed", event.kind)


class OrderedWriter:
    """One thread that runs the submitted jobs one after the other, in submission order."""

    def __init__(self, name: str, what: str = "a queued store write") -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._what = what  # names a failed job in the log

    def submit(self, job: Callable[[], None]) -> Future[None]:
        return self._pool.submit(_run, job, self._what)

    async def drain(self) -> None:
        """Wait (without blocking the loop) until every job submitted so far is done."""
        await asyncio.wrap_future(self._pool.submit(lambda: None))

    def close(self) -> None:
        """Finish the queued jobs, then stop the thread (blocks: call at shutdown)."""
        self._pool.shutdown(wait=True)


def _run(job: Callable[[], None], what: str) -> None:
    try:
        job()
    except Exception:  # one failed job must not stop the ones behind it
        log.exception("%s failed", what)
