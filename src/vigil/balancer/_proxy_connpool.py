"""The proxy's keep-alive pool of upstream connections, and the queue of requests waiting for one.

:class:`UpstreamPool` keeps idle :class:`~vigil.balancer._proxy_upstream.UpstreamConnection`\\ s
per ``(host, port)`` (newest first, bounded, expired after ``idle_timeout``) and opens new ones.
Built by :class:`vigil.balancer._proxy_state.ProxyState`; the exchanges
(:mod:`vigil.balancer._proxy_exchange`) :meth:`~UpstreamPool.take` an idle connection, or ask for
one with :meth:`~UpstreamPool.connect`, and :meth:`~UpstreamPool.put` it back after a clean
response.

A request that finds no idle connection becomes a :class:`Waiter` and starts a connect, but it
is served by whichever connection to its upstream becomes free first, oldest waiter first: its
own connect, another waiter's, or one put back by a finished response (handed over on the next
loop pass, never from inside the upstream parser's callbacks). Under a burst (a thousand clients
at once, the first requests after the idle connections expired) short requests so reuse the
connections that finish instead of queueing behind the replica's ``accept()``; each waiter
still starts exactly one connect, so a burst of N requests opens at most N connections, and the
ones that arrive after their waiter was served stay idle for the next burst. New requests do not
take idle connections while others wait (first come, first served: the tail latency is what a
client with a timeout sees). A connect error goes to the waiter that started the connect if it
still waits; if that one was served by another's connect, to the oldest waiter whose own
connect served someone else (it has no connect left to wait for: it retries elsewhere at once
instead of waiting out its connect timeout).

A dead replica is noticed without a request paying for it: when an upstream closes a
connection the proxy did not ask to close (idle, or before answering), :meth:`UpstreamPool.check`
opens one connection to it; if it is refused, or reset within :data:`CHECK_GRACE` (a process
killed with ``kill -9`` closes its connections before its listening socket, so a connect made
at once is often accepted into the backlog and then reset), nothing serves there any more:
``on_refused`` tells the router, which ejects it before the policy sends it another request.
At most one check per upstream at a time and one a second, so a server that closes idle
connections on its own schedule costs one connect now and then.

Warm spares (``warm_for`` > 0): an idle connection about to expire is closed and replaced by a
fresh one, as long as it (or the connection it replaced) carried a response within the last
``warm_for`` seconds. So the pool keeps what the recent peak needed (bounded by ``max_idle``)
across pauses longer than the idle timeout, without ever holding a connection idle for longer
than that (servers close idle connections themselves, racing with a new request); a spare
that no request takes for ``warm_for`` seconds is let go, so a one-off burst is not renewed
forever under lighter traffic. Without it a burst of
200 streams after a 5 s pause opened 200 connections and its median first event came 60-70 ms
later (``bench/balance_stream.py --pause 5``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final, cast

from vigil.balancer._proxy_upstream import WHOLE_RESPONSES, Key, UpstreamConnection, dial

ConnectDone = Callable[[UpstreamConnection | None, OSError | None], None]
CHECK_EVERY: Final = 1.0  # seconds between two liveness checks of one upstream, at the least
CHECK_GRACE: Final = 0.5  # seconds a check's connection is watched for a reset (0.2-5 ms seen)

log = logging.getLogger(__name__)


class Waiter:
    """A request waiting for a connection to ``key``; :meth:`cancel` it when it stops waiting."""

    __slots__ = ("done", "key", "pool", "task", "waiting")

    def __init__(self, pool: UpstreamPool, key: Key, done: ConnectDone) -> None:
        self.pool = pool
        self.key = key
        self.done = done
        self.waiting = True
        self.task: asyncio.Task[None] | None = None  # the connect this waiter started

    def serve(self, conn: UpstreamConnection | None, error: OSError | None) -> None:
        self.pool.unwait(self)
        self.done(conn, error)

    def cancel(self) -> None:
        """Stop waiting (connect timeout, client gone); the connect it started is abandoned."""
        if self.waiting:
            self.pool.unwait(self)
            task = self.task
            if task is not None and not task.done():
                task.cancel()


class _Probe:
    """The protocol of a liveness check's connection: notes when it ends."""

    def __init__(self, lost: asyncio.Future[None]) -> None:
        self.lost = lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class UpstreamPool:
    """Idle keep-alive connections per upstream address, the opening of new ones, and waiters."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        max_idle: int,
        idle_timeout: float,
        warm_for: float = 0.0,
    ) -> None:
        self.loop = loop
        self.loop_time: Callable[[], float] = loop.time  # bound once: read per take and put
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self.warm_for = warm_for  # seconds after an upstream's last use its spares are renewed
        # warm: sweep four times per idle timeout and renew a connection one sweep before it
        # would expire; else sweep twice and close what has expired
        self._sweep_every = idle_timeout / 4 if warm_for > 0 else idle_timeout / 2
        self._renew_margin = self._sweep_every if warm_for > 0 else 0.0
        self.renewed = 0  # spares opened to replace expiring idle connections (tests read it)
        self.renewing = 0  # spares being opened
        # oldest first; lists, not deques: compiled, append and pop are direct C calls where a
        # deque's are look-ups by name (a popleft is only the sweep's, a few times a second)
        self.idle: dict[Key, list[UpstreamConnection]] = {}
        self.waiters: dict[Key, deque[Waiter]] = {}  # oldest first; served ones are skipped
        self.waiting: dict[Key, int] = {}  # how many in ``waiters`` still wait
        self.opened = 0  # connections ever opened (tests and metrics read it)
        self.handed = 0  # waiters served by a connection they did not open (tests read it)
        self._tasks: set[asyncio.Task[None]] = set()
        self._handoff_due: set[Key] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closing = False
        self.on_refused: Callable[[Key], None] | None = None  # set by ProxyState: the router
        self._checked_at: dict[Key, float] = {}  # when each upstream's last check started
        self.checks = 0  # liveness checks started (tests read it)
        # whether connections opened from now on take a read that is one whole plain response
        # without the parser (_http_whole; compiled only); tests switch it off to compare
        self.whole = WHOLE_RESPONSES
        self.taken_whole = 0  # responses taken so (tests read it)
        # whether connections opened from now on write a read of whole chunks to the client as
        # it came, without the parser (_http_chunks); tests switch it off to compare
        self.pass_chunks = True

    def take(self, key: Key, now: float = -1.0) -> UpstreamConnection | None:
        """The most recently used live idle connection to ``key``; None when there is none or
        when earlier requests are waiting for one (they come first). Each candidate is first
        asked whether the upstream has closed it or sent it a byte the loop has not read yet
        (:meth:`UpstreamConnection.peer_gone`, one ``poll(0)``): such a one is closed, never
        reused (a request written on it could fail, or get a stray response for its answer).
        ``now``: the loop's time when the caller has just read it."""
        waiting = self.waiting  # empty unless a request waits: no hashing of the key then
        if waiting and waiting.get(key):
            return None
        return self._take_idle(key, now)

    def take_from(
        self, queue: list[UpstreamConnection], key: Key, now: float = -1.0
    ) -> UpstreamConnection | None:
        """:meth:`take` from ``queue``, the :meth:`idle_list` of ``key`` the caller kept: no
        look-up of the key (compiled, a ``(host, port)`` key is boxed anew, hashed and its port
        compared by value at each look-up: ~650 instructions per request live)."""
        waiting = self.waiting
        if waiting and waiting.get(key):
            return None
        return self._pop_live(queue, now) if queue else None

    def _take_idle(self, key: Key, now: float = -1.0) -> UpstreamConnection | None:
        queue = self.idle.get(key)
        if not queue:
            return None
        return self._pop_live(queue, now)

    def _pop_live(self, queue: list[UpstreamConnection], now: float) -> UpstreamConnection | None:
        deadline = (now if now >= 0.0 else self.loop_time()) - self.idle_timeout
        while queue:
            conn = queue.pop()
            alive = not conn.closed and conn.idle_since > deadline
            if alive and not conn.peer_gone():
                return conn
            conn.close()
        return None

    def put(self, conn: UpstreamConnection, now: float = -1.0) -> None:
        """Return a connection whose response has ended cleanly (waiters get it next pass);
        ``now``: the loop's time when the caller has just read it."""
        conn.exchange = None
        if conn.closed or self._closing:
            conn.close()
            return
        key = conn.key
        self._keep(conn, now)
        conn.used_at = conn.idle_since
        if self.waiting and self.waiting.get(key) and key not in self._handoff_due:
            self._handoff_due.add(key)
            self.loop.call_soon(self._handoff, key)

    def idle_list(self, key: Key) -> list[UpstreamConnection]:
        """The list of idle connections to ``key`` (made once per key, never replaced: each
        :class:`UpstreamConnection` holds its own, so :meth:`put` hashes no key)."""
        queue = self.idle.get(key)
        if queue is None:
            queue = self.idle[key] = []
        return queue

    def _keep(self, conn: UpstreamConnection, now: float = -1.0) -> None:
        queue = conn.idle_list
        if queue is None:
            queue = conn.idle_list = self.idle_list(conn.key)
        elif len(queue) >= self.max_idle:
            queue.pop(0).close()
        conn.idle_since = now if now >= 0.0 else self.loop_time()
        queue.append(conn)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.idle_timeout, self._sweep)

    def _handoff(self, key: Key) -> None:
        self._handoff_due.discard(key)
        while self.waiting.get(key):
            conn = self._take_idle(key)  # a byte while idle since put() closed it: skipped
            if conn is None:
                return
            self.handed += 1
            self._first_waiter(key).serve(conn, None)

    def _first_waiter(self, key: Key) -> Waiter:
        queue = self.waiters[key]
        while True:
            waiter = queue.popleft()
            if waiter.waiting:
                return waiter

    def _waiter_without_connect(self, key: Key) -> Waiter | None:
        """The oldest waiter whose own connect already ended (it served an older waiter)."""
        for waiter in self.waiters.get(key, ()):
            if waiter.waiting and waiter.task is not None and waiter.task.done():
                return waiter
        return None

    def unwait(self, waiter: Waiter) -> None:
        """``waiter`` is served or gone (called by :class:`Waiter`)."""
        waiter.waiting = False
        key = waiter.key
        left = self.waiting.get(key, 1) - 1
        if left:
            self.waiting[key] = left
        else:
            self.waiting.pop(key, None)  # kept empty when nobody waits (take() reads that)
            self.waiters.get(key, deque()).clear()

    def forget(self, conn: UpstreamConnection) -> None:
        """An idle connection closed (by the upstream or by us): drop it from its queue."""
        queue = conn.idle_list
        if queue:
            with contextlib.suppress(ValueError):
                queue.remove(conn)

    def check(self, key: Key) -> None:
        """The upstream at ``key`` closed a connection unasked: see whether anything still
        listens there (one connect, watched :data:`CHECK_GRACE` for a reset, then closed; a
        refusal or a reset goes to ``on_refused``)."""
        if self.on_refused is None or self._closing:
            return
        now = self.loop.time()
        if now - self._checked_at.get(key, -CHECK_EVERY) < CHECK_EVERY:
            return  # checked (or checking) within the last second
        self._checked_at[key] = now
        self.checks += 1
        self._spawn(self._check(key))

    async def _check(self, key: Key) -> None:
        probe = _Probe(self.loop.create_future())
        try:
            transport, _ = await asyncio.wait_for(
                self.loop.create_connection(lambda: cast(asyncio.Protocol, probe), *key),
                self.idle_timeout,
            )
        except ConnectionRefusedError:
            gone = True
        except (OSError, TimeoutError):
            return  # unreachable or slow: the requests' own errors and timeouts will tell
        else:
            try:
                await asyncio.wait_for(asyncio.shield(probe.lost), CHECK_GRACE)
                gone = True  # reset or closed at once: a listener on its way out
            except TimeoutError:
                gone = False  # held open, as a server waiting for a request does
            finally:
                transport.close()
        if gone and self.on_refused is not None and not self._closing:
            self.on_refused(key)

    def connect(self, key: Key, done: ConnectDone) -> Waiter:
        """Wait for a connection to ``key`` and open one; ``done(conn, None)`` follows with the
        first connection free (see the module docstring), or ``done(None, error)`` when the
        connect this call started failed while still waiting. The caller cancels the returned
        :class:`Waiter` on its connect timeout (``done`` is then not called)."""
        waiter = Waiter(self, key, done)
        queue = self.waiters.get(key)
        if queue is None:
            queue = self.waiters[key] = deque()
        queue.append(waiter)
        self.waiting[key] = self.waiting.get(key, 0) + 1
        waiter.task = self._spawn(self._open(key, waiter))
        return waiter

    async def _open(self, key: Key, owner: Waiter) -> None:
        try:
            conn = await dial(self.loop, self, key)
        except OSError as exc:
            if owner.waiting:
                owner.serve(None, exc)
            else:  # its waiter was served by another's connect: one waiter has none left
                orphan = self._waiter_without_connect(key)
                if orphan is not None:
                    orphan.serve(None, exc)
            return
        self.opened += 1
        if self._closing:
            conn.close()
        elif self.waiting.get(key):
            waiter = self._first_waiter(key)
            if waiter is not owner:
                self.handed += 1
            waiter.serve(conn, None)
        else:  # its waiter was served by another connection: keep it for the next request
            conn.used_at = self.loop.time()  # opened for the current peak: renewed as used
            self._keep(conn)

    def _sweep(self) -> None:
        self._sweeper = None
        now = self.loop.time()
        deadline = now - self.idle_timeout + self._renew_margin
        left = False
        recent = now - self.warm_for
        for key, queue in self.idle.items():
            while queue and queue[0].idle_since <= deadline:
                conn = queue.pop(0)
                conn.close()
                if conn.used_at > recent:
                    self.renewing += 1
                    self._spawn(self._open_spare(key, conn.used_at))
                    left = True
            left = left or bool(queue)
        if left and not self._closing:
            self._sweeper = self.loop.call_later(self._sweep_every, self._sweep)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _open_spare(self, key: Key, used_at: float) -> None:
        """Open a connection to ``key`` in the background, for the next request or waiter
        (``used_at``: when the connection it replaces last carried a response)."""
        try:
            conn = await dial(self.loop, self, key)
        except OSError as exc:  # the next request opens its own (and reports the error)
            log.debug("cannot renew a spare connection to %s:%d: %s", key[0], key[1], exc)
            return
        finally:
            self.renewing -= 1
        self.opened += 1
        self.renewed += 1
        conn.used_at = used_at
        if self._closing:
            conn.close()
        elif self.waiting.get(key):
            self.handed += 1
            self._first_waiter(key).serve(conn, None)
        else:
            self._keep(conn)

    def close(self) -> None:
        """Close every idle connection and stop opening new ones."""
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for queue in self.idle.values():
            while queue:
                queue.pop().close()
        for task in list(self._tasks):
            task.cancel()
