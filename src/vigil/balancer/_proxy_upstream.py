"""Connections to upstreams (replicas) and the per-upstream keep-alive pool.

:class:`UpstreamConnection` is the ``asyncio.Protocol`` of one TCP connection to a replica: it
parses responses with httptools and hands each event to the exchange (the proxied request,
:mod:`vigil.balancer._proxy_exchange`) it currently serves. :class:`UpstreamPool` keeps idle
connections per ``(host, port)`` (newest first, bounded, expired after ``idle_timeout``) and
opens new ones. A connection is discarded on any error, when the upstream says
``Connection: close``, or when it sends a byte while idle. Owned by
:class:`vigil.balancer.proxy.Proxy` (``vigil balance``, ``vigil up``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

if TYPE_CHECKING:
    from vigil.balancer._proxy_exchange import Exchange

Key = tuple[str, int]
ConnectDone = Callable[["UpstreamConnection | None", "OSError | None"], None]
# An upstream head larger than this is garbage, not a response worth forwarding.
MAX_UPSTREAM_HEAD = 64 * 1024


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection to a replica; serves one exchange at a time."""

    def __init__(self, pool: UpstreamPool, key: Key) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.parser = HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0  # bytes of earlier reads since the current head began
        self.data_len = 0  # the size of the read being parsed
        self.in_head = False
        self.used = 0  # responses completed on this connection

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        # TCP_NODELAY is already on: uvloop and asyncio set it on every TCP transport
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        ex = self.exchange
        if ex is None:  # a byte while idle: the upstream is confused or closing
            self.abort()
            return
        self.data_len = size = len(data)
        try:
            self.parser.feed_data(data)
            if self.in_head:  # the head goes on in the next read
                self.head_bytes += size
                if self.head_bytes > MAX_UPSTREAM_HEAD:
                    self._check_head_size()
        # garbage, an upgrade (we never ask for one), or a head over MAX_UPSTREAM_HEAD
        except (HttpParserError, HttpParserUpgrade, ValueError) as exc:
            if self.exchange is ex:
                ex.upstream_garbage(self, exc)
            return
        if self.exchange is ex:
            ex.flush()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        ex = self.exchange
        if ex is not None:
            self.exchange = None
            ex.upstream_lost(self, exc)
        else:
            self.pool.forget(self)

    def pause_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.client.pause_reading_for_upstream(True)

    def resume_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.client.pause_reading_for_upstream(False)

    # -- httptools callbacks -----------------------------------------------------------
    def on_message_begin(self) -> None:
        self.headers = []
        self.reason = b""
        self.head_bytes = 0
        self.in_head = True

    def on_status(self, status: bytes) -> None:
        self.reason = status

    def on_header(self, name: bytes, value: bytes) -> None:
        # Kept to one append: the head's size is checked once per head, not once per header.
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.head_bytes + self.data_len > MAX_UPSTREAM_HEAD:
            self._check_head_size()
        if self.exchange is not None:
            parser = self.parser
            self.exchange.response_head(self, parser.get_status_code(), self.reason, self.headers)

    def _check_head_size(self) -> None:
        """Raise when the headers parsed so far exceed :data:`MAX_UPSTREAM_HEAD` (names and values,
        4 bytes each for ``: `` and CRLF). Only called once the raw bytes received since the head
        began pass the limit, so a normal head costs no per-header arithmetic."""
        if sum(len(name) + len(value) + 4 for name, value in self.headers) > MAX_UPSTREAM_HEAD:
            raise ValueError("upstream response head too large")

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.response_body(body)

    def on_message_complete(self) -> None:
        if self.exchange is not None:
            self.exchange.response_complete(self, self.parser.should_keep_alive())

    # -- helpers -----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def abort(self) -> None:
        """Close at once (RST when data is pending): the replica sees the request cancelled."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class UpstreamPool:
    """Idle keep-alive connections per upstream address, and the opening of new ones."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, *, max_idle: int, idle_timeout: float
    ) -> None:
        self.loop = loop
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self.idle: dict[Key, deque[UpstreamConnection]] = {}
        self.opened = 0  # connections ever opened (tests and metrics read it)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closing = False

    def take(self, key: Key) -> UpstreamConnection | None:
        """The most recently used live idle connection to ``key``, if any."""
        queue = self.idle.get(key)
        if not queue:
            return None
        deadline = self.loop.time() - self.idle_timeout
        while queue:
            conn = queue.pop()
            if not conn.closed and conn.idle_since > deadline:
                return conn
            conn.close()
        return None

    def put(self, conn: UpstreamConnection) -> None:
        """Return a connection whose response has ended cleanly."""
        conn.exchange = None
        if conn.closed or self._closing:
            conn.close()
            return
        queue = self.idle.get(conn.key)
        if queue is None:
            queue = self.idle[conn.key] = deque()
        elif len(queue) >= self.max_idle:
            queue.popleft().close()
        conn.idle_since = self.loop.time()
        queue.append(conn)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.idle_timeout, self._sweep)

    def forget(self, conn: UpstreamConnection) -> None:
        """An idle connection closed (by the upstream or by us): drop it from its queue."""
        queue = self.idle.get(conn.key)
        if queue:
            with contextlib.suppress(ValueError):
                queue.remove(conn)

    def connect(self, key: Key, done: ConnectDone) -> asyncio.Task[None]:
        """Open a connection to ``key``; ``done(conn, None)`` or ``done(None, error)`` follows.

        The caller cancels the returned task on its connect timeout (``done`` is then not called).
        """
        task = self.loop.create_task(self._open(key, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _open(self, key: Key, done: ConnectDone) -> None:
        try:
            _, conn = await self.loop.create_connection(
                lambda: UpstreamConnection(self, key), key[0], key[1]
            )
        except OSError as exc:
            done(None, exc)
            return
        self.opened += 1
        done(conn, None)

    def _sweep(self) -> None:
        self._sweeper = None
        deadline = self.loop.time() - self.idle_timeout
        left = False
        for queue in self.idle.values():
            while queue and queue[0].idle_since <= deadline:
                queue.popleft().close()
            left = left or bool(queue)
        if left and not self._closing:
            self._sweeper = self.loop.call_later(self.idle_timeout / 2, self._sweep)

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
