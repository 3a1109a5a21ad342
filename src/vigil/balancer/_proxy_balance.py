"""Exact connection balance across worker processes (``balancer.workers_balance: exact``).

With ``SO_REUSEPORT`` (``kernel``) the kernel hashes each new connection onto one worker's
socket: 50 connections opened at once split 60/40 or worse in 5 of 9 launches
(docs/benchmarks.md "How two workers share c50").
Here the workers share ONE listening socket (bound by the parent, no ``SO_REUSEPORT``) and a
small table in shared memory, two 8-byte cells per worker:

    count   connections the worker holds open (int64; the worker alone writes it)
    beat    the worker's last heartbeat, ``time.monotonic_ns()`` (CLOCK_MONOTONIC, one clock per
            host), int64 nanoseconds

At each wake-up a worker first takes, in one batch, its even share of the connections held by
the live workers plus those waiting in the accept queue (:func:`quota`, pure; the queue's
length from ``TCP_INFO``, :func:`queued`); beyond it, it accepts a connection only while it
holds no more than the least loaded *live* sibling (:func:`admits`, pure); past its share it
leaves the connection to the sibling that holds fewer (both wake for it), and after
:data:`SPIN` such wake-ups in a row stops watching the socket for :data:`HOLD_TICK`. A sibling
whose beat is older than :data:`STALE` (stopped, stuck, dead) is ignored, so a worker that is
the only live one accepts everything: nobody can starve the socket for longer than ``STALE``.
Each worker publishes its count at every accepting wake-up and whenever one of its client
connections closes (``ProxyState.published``), and beats (liveness) every :data:`BEAT`. Both workers
wake for each new connection: a wake-up reads the table, then the queue's length (in that
order, so that a connection a sibling takes meanwhile is never counted twice, in the queue and
in the sibling's count) and, finding the queue empty (a sibling took the connections), returns
at once; otherwise it tries no more accepts than the queue holds. Compiled by mypyc with the
rest of the data plane (``setup.py``; branch ``exact3``: this callback ran interpreted at every
wake-up, most of exact balance's +7 % user-space
instructions per closed connection, docs/benchmarks.md "Exact balance, compiled"). As in
:mod:`vigil.balancer._pool_shared`, every cell has one writer and is one aligned 8-byte store:
a reader sees an old or a new value, never a mix; a stale count only delays a decision by a look.
The cells are integers (branch ``suspect20``; float64 before): the count a closing connection
stores is a Python int, one of CPython's cached small ints below 257, where a float was boxed
at every close. That saved ~130 of the ~700 instructions the store at close costs under
callgrind; the rest is the generic item store on a ``memoryview`` that mypyc emits
(docs/benchmarks.md "Four suspicions in the data plane").

:class:`ConnectionTable` is the parent's (created and removed by
:class:`~vigil.balancer._proxy_workers.Workers`), :class:`ConnectionShare` a worker's view, and
:class:`BalancedListener` the :class:`~vigil.balancer._proxy_accept.Listener` that consults it
(built by :meth:`Proxy.start <vigil.balancer.proxy.Proxy.start>` when given a share). A single
worker never gets any of this: its listener is the plain one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable, Sequence, Sized
from multiprocessing.shared_memory import SharedMemory
from typing import Any, Final

from vigil.balancer._proxy_accept import (
    ACCEPT_BATCH,
    Listener,
    bind_all,
)
from vigil.balancer._proxy_state import ProxyState

BALANCES: Final = ("exact", "kernel")
"""The values of ``balancer.workers_balance``."""
BEAT: Final = 0.1
"""Seconds between two heartbeats of a worker: liveness only. The count is published when it
changes, at each accepting wake-up and when a client connection closes (branch ``exact4``);
before that it waited for the beat, which ran every 10 ms (at 0.1 s a measured run arriving
while the warm-up's 50 connections were being closed split 38/12 in 2 of 4 launches), and the
beats cost the pair of workers ~1 M user-space instructions a second idle."""
STALE: Final = 1.0
"""A sibling silent this long is taken as stopped or dead and no longer limits the others. Ten
beats: a loop busy with a thousand connections can take a few hundred milliseconds per
iteration, and a live worker taken for dead only lets the others accept a little more."""
STALE_NS: Final = int(STALE * 1_000_000_000)
""":data:`STALE` in the beat's unit (the table holds ``time.monotonic_ns()``)."""
SPIN: Final = 64
"""Wake-ups in a row a worker past its share leaves pending connections to its siblings before
it stops watching the socket for :data:`HOLD_TICK`. Watching on is what keeps a burst fast: the
moment a sibling's count catches up, the next wake-up accepts (a first version stopped watching
at once and looked again on a 5 ms timer: two accepts per worker per tick, and ``wrk -c1000``
then saw 479 errors at load 7); stopping after a while bounds what a stuck sibling costs."""
HOLD_TICK: Final = 0.005
"""Seconds a worker stops watching after :data:`SPIN` wake-ups left to slow siblings."""
CELLS: Final = 2  # count, beat
# struct tcp_info: 8 one-byte fields, then u32 rto, ato, snd_mss, rcv_mss, unacked (on a
# listening socket: the accept queue's length), sacked (its backlog)
TCP_INFO_UNACKED: Final = 24
TCP_INFO_BYTES: Final = 104
LITTLE: Final = sys.byteorder == "little"
BATCH: Final = ACCEPT_BATCH  # a constant of this module (compiled: no lookup per wake-up)
IPPROTO_TCP: Final = int(socket.IPPROTO_TCP)  # module attributes read once, not per wake-up
TCP_INFO: Final = int(socket.TCP_INFO)


def admits(own: int, worker: int, cells: Sequence[int], workers: int, now: int, stale: int) -> bool:
    """May worker ``worker``, holding ``own`` connections, take one more? Yes unless a live
    sibling (beat within ``stale`` of ``now``) holds fewer. ``cells``: the table (count, beat per
    worker) as a sequence of ints, ``now`` and ``stale`` in the beat's unit (nanoseconds). Pure:
    plain numbers in, a bool out."""
    for w in range(workers):
        if w != worker:
            base = w * CELLS
            if own > cells[base] and now - cells[base + 1] <= stale:
                return False
    return True


def quota(
    own: int,
    queued: int,
    worker: int,
    cells: Sequence[int],
    workers: int,
    now: int,
    stale: int,
) -> int:
    """How many of the ``queued`` connections (the listening socket's accept queue) worker
    ``worker``, holding ``own``, may take at once: up to an even share of everything held by
    the live workers plus the queue, and no more than an even share of the queue, both rounded
    up (0 or less: none without looking again). Pure.

    Taking turns one connection at a time costs a loop iteration per turn, and a loop busy with
    a thousand connections takes milliseconds per iteration: a burst of ``wrk -c1000`` then
    waited seconds in the queue (317 and 127 errors at load 6.5). With the queue's length each
    worker takes its share in one batch."""
    total = own + queued
    live = 1
    for w in range(workers):
        if w != worker:
            base = w * CELLS
            if now - cells[base + 1] <= stale:
                total += int(cells[base])
                live += 1
    # no more than its part of the queue: a sibling's count can be stale-high for a moment
    # (connections closed but not yet seen closed), which alone once gave 38/12 at c50
    return min(-(-queued // live), -(-total // live) - own)


def allowance(
    own: int,
    waiting: int,
    worker: int,
    cells: Sequence[int],
    workers: int,
    now: int,
    stale: int,
    batch: int,
) -> int:
    """How many of the ``waiting`` queued connections worker ``worker``, holding ``own``, takes
    at this wake-up, at most ``batch``: its :func:`quota` in one go, then one more while it
    holds no more than every live sibling (:func:`admits`, counting each one it took). Fewer
    than ``min(waiting, batch)``: it leaves the rest to its siblings. Pure; the same answer as
    taking them one at a time against the same table (``tests/balancer/test_proxy_balance.py``
    checks it against that loop), without a call per connection."""
    limit = min(waiting, batch)
    take = max(quota(own, waiting, worker, cells, workers, now, stale), 0)
    if take >= limit:
        return limit
    least = -1  # the fewest a live sibling holds (-1: no live sibling, no bound)
    for w in range(workers):
        if w != worker:
            base = w * CELLS
            if now - cells[base + 1] <= stale:
                held = int(cells[base])
                if least < 0 or held < least:
                    least = held
    if least < 0:
        return limit
    # admits() while own + take <= least: least - (own + take) + 1 more, none if over already
    return min(limit, take + max(least - own - take + 1, 0))


def queued(sock: socket.socket) -> int:
    """Connections waiting in ``sock``'s accept queue (Linux: ``tcpi_unacked`` of a listening
    socket's ``TCP_INFO``); -1 where it cannot be read."""
    try:
        info = sock.getsockopt(IPPROTO_TCP, TCP_INFO, TCP_INFO_BYTES)
    except OSError:  # pragma: no cover - not TCP, or not Linux
        return -1
    if len(info) < TCP_INFO_UNACKED + 4:  # pragma: no cover - an old kernel
        return -1
    # a u32 in the host's byte order; four byte reads (native when compiled), no struct call
    if LITTLE:
        return (
            info[TCP_INFO_UNACKED]
            | info[TCP_INFO_UNACKED + 1] << 8
            | info[TCP_INFO_UNACKED + 2] << 16
            | info[TCP_INFO_UNACKED + 3] << 24
        )
    return (  # pragma: no cover - a big-endian host
        info[TCP_INFO_UNACKED] << 24
        | info[TCP_INFO_UNACKED + 1] << 16
        | info[TCP_INFO_UNACKED + 2] << 8
        | info[TCP_INFO_UNACKED + 3]
    )


class ConnectionTable:
    """The parent's handle on the table: created zeroed (no worker is live before its first
    beat), removed by :meth:`unlink`."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.memory = SharedMemory(create=True, size=workers * CELLS * 8)
        self._closed = False

    @property
    def name(self) -> str:
        return self.memory.name

    def counts(self) -> list[int]:
        """The connections each worker last published (tests, the bench)."""
        view = _cells(self.memory)
        try:
            return [int(view[w * CELLS]) for w in range(self.workers)]
        finally:
            view.release()

    def unlink(self) -> None:
        if not self._closed:
            self._closed = True
            self.memory.close()
            with contextlib.suppress(FileNotFoundError):
                self.memory.unlink()


class ConnectionShare:
    """Worker ``worker``'s view of the table ``name``: it publishes ``len(clients)`` (the
    proxy's live client connections) and its beat, and answers :meth:`admits`."""

    def __init__(
        self,
        name: str,
        worker: int,
        workers: int,
        *,
        clock: Callable[[], int] = time.monotonic_ns,
        stale: int = STALE_NS,
    ) -> None:
        self.memory = SharedMemory(name=name)
        self.cells = _cells(self.memory)
        self.worker = worker
        self.base = worker * CELLS  # this worker's count; its beat is the next cell
        self.workers = workers
        self.clock = clock
        self.stale = stale
        self.clients: Sized = ()
        # accepted and not yet among the clients (their connection_made not run yet): the
        # proxy's ProxyState.unmade, raised by took(), lowered by each connection_made, and
        # zeroed only when the listener has no accepted connection left waiting
        # (BalancedListener._finish: what is left then never got its connection_made), never
        # by a timer or a wake-up (a beat can run between an accept and its connection_made,
        # and so can a second wake-up when libuv polls again in one iteration). Counted once:
        # a made connection counted in the clients and as accepted read this worker high
        # until the batch's _finish (fixed in de0291c). Nothing is accepted before start(),
        # which is given that state.
        self.short = False  # the last wake-up left connections to the siblings
        self._beater: asyncio.TimerHandle | None = None
        self._state: ProxyState | None = None

    def unmade(self) -> int:
        """Connections accepted whose ``connection_made`` has not run: the proxy's count
        (``ProxyState.unmade``, which each ``connection_made`` lowers by one) once started."""
        state = self._state
        return 0 if state is None else state.unmade

    def own(self) -> int:
        """The connections this worker holds: its clients and those accepted, not yet made."""
        return len(self.clients) + self.unmade()

    def made(self) -> None:
        """The connections accepted so far are made (among the clients): none is unmade."""
        state = self._state
        if state is not None:
            state.unmade = 0

    def publish(self, now: int) -> None:
        """Store this worker's count and beat ``now`` (one aligned 8-byte store each)."""
        cells = self.cells
        cells[self.base] = self.own()
        cells[self.base + 1] = now

    def wake(self, waiting: int, seen: Sequence[int]) -> int:
        """A wake-up with ``waiting`` connections queued: publish the count and the beat, and
        say how many to take now (:func:`allowance` over ``seen``, the table as read BEFORE the
        queue's length: see :meth:`BalancedListener._accept`); :attr:`short` tells whether that
        leaves some to the siblings. One clock read.

        The count includes the connections accepted whose ``connection_made`` has not run
        (:meth:`unmade`): usually none by now, but libuv polls again within one loop iteration
        when a poll fills its 1,024 events, and the listener can then wake twice before the
        first batch is made (this method zeroed that count until branch ``burst24``, on the
        belief that the previous batch was made by the next wake-up)."""
        now = self.clock()
        own = self.own()
        cells = self.cells
        cells[self.base] = own
        cells[self.base + 1] = now
        limit = min(waiting, BATCH)
        take = allowance(own, waiting, self.worker, seen, self.workers, now, self.stale, limit)
        self.short = take < limit
        return take

    def took(self, count: int) -> None:
        """``count`` connections accepted at this wake-up: counted in the table at once (one
        8-byte store for the batch, not one per connection: ~600 instructions each under
        callgrind, an int through the memoryview), so the siblings see them before their
        next look. A sibling that looks during the batch sees this worker's count low, which
        only makes its own share smaller (:func:`quota`, :func:`admits`)."""
        state = self._state
        if state is not None:
            state.unmade += count
        self.cells[self.base] = self.own()

    def admits(self, now: int) -> bool:
        return admits(self.own(), self.worker, self.cells, self.workers, now, self.stale)

    def start(self, loop: asyncio.AbstractEventLoop, state: ProxyState) -> None:
        """Count ``state.clients`` and beat every :data:`BEAT` on ``loop`` from now on; a client
        connection that closes publishes the count at once (``state.published``, stored by
        :meth:`ClientConnection.connection_lost
        <vigil.balancer._proxy_client.ClientConnection.connection_lost>`)."""
        self.clients = state.clients
        self._state = state
        state.published = self.cells
        state.published_at = self.base
        self._beat(loop)

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        self.publish(self.clock())  # with the unmade ones (see __init__)
        self._beater = loop.call_later(BEAT, self._beat, loop)

    def close(self) -> None:
        if self._beater is not None:
            self._beater.cancel()
            self._beater = None
        if self._state is not None:  # connections closing from now on publish nothing
            self._state.published = None
            self._state = None
        self.cells.release()
        self.memory.close()  # the parent unlinks it


class BalancedListener(Listener):
    """A :class:`~vigil.balancer._proxy_accept.Listener` that takes connections only within its
    share: at each wake-up its part of the accept queue in one batch (:func:`quota`, asked by
    :meth:`ConnectionShare.wake`), then one at a time while it holds no more than its siblings;
    past it none (it keeps watching, and stops for :data:`HOLD_TICK` only after :data:`SPIN`
    wake-ups in a row that found the queue still full). Everything else (the batch's bound,
    the C accept under uvloop, the pause when out of descriptors) is the plain listener's.

    One clock read per wake-up: its connections are counted in the table as each is taken (one
    8-byte store, so the siblings see it at once) and the beat is the wake-up's time."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        factory: Callable[[Any], object],
        *,
        share: ConnectionShare,
    ) -> None:
        self.share = share
        self.held = 0  # times it stopped watching, past its share (tests, diagnostics)
        self.deferred = 0  # wake-ups in a row that it left a connection to a sibling
        self._holding: asyncio.TimerHandle | None = None
        super().__init__(loop, sock, factory)

    def _accept(self) -> None:
        share = self.share
        # the siblings' counts BEFORE the queue's length (one C call for the table): a sibling
        # that takes from the queue and stores its count between the two reads is then counted
        # in neither, and this worker takes less than its share for a moment; read the other
        # way round, those connections were counted twice, in the queue and in the sibling's
        # count, and this worker took past its share what the sibling had taken (a burst of
        # 1,000 ended 498/502 under load, from source: the window between the reads is longer
        # interpreted; a model of the two workers' steps in every interleaving,
        # tests/balancer/test_proxy_balance_race.py, ended up to 10 apart)
        seen = share.cells.tolist()
        waiting = queued(self.sock)
        if waiting == 0:
            # a sibling woke for the same connections and took them (both watch the socket):
            # nothing to do, not even an accept() that fails; level-triggered, the loop wakes
            # this worker again for a connection queued from now on
            return
        if waiting < 0:  # the queue's length cannot be read: accept until none is left
            waiting = BATCH
        # its share of the queue in one batch, then while it holds no more than its siblings;
        # no more than the queue holds: the accept past it would only fail (EAGAIN, an
        # exception raised and caught); one that arrives meanwhile wakes the loop again
        count = share.wake(waiting, seen)
        take = self._take
        taken = 0
        while taken < count and take():
            taken += 1
        if taken:
            share.took(taken)
        if taken < count:  # the queue emptied sooner, or accepting paused (no descriptors)
            return
        if count:
            self.deferred = 0
        if share.short:
            # past its share: leave the rest to a sibling (which wakes for it too) and keep
            # watching; only a queue that stays full past SPIN wake-ups (siblings slow or
            # stopped) makes it stop watching, for a tick
            self.deferred += 1
            if self.deferred >= SPIN:
                self.deferred = 0
                self._hold()

    def _finish(self) -> None:
        super()._finish()
        if not self._waiting:  # every accepted connection's connection_made has run
            self.share.made()

    def _hold(self) -> None:
        self.held += 1
        self.loop.remove_reader(self.sock.fileno())
        self._holding = self.loop.call_later(HOLD_TICK, self._look)

    def _look(self) -> None:
        self._holding = None
        if self._closed:
            return
        share = self.share
        now = share.clock()
        share.publish(now)
        if share.admits(now):
            self.loop.add_reader(self.sock.fileno(), self._accept)
        else:
            self._holding = self.loop.call_later(HOLD_TICK, self._look)

    def close(self) -> None:
        if self._holding is not None:
            self._holding.cancel()
            self._holding = None
        super().close()  # removing a reader that is not there (held) is a no-op


def listen_shared(host: str, port: int, backlog: int) -> list[socket.socket]:
    """The listening sockets the workers share (no ``SO_REUSEPORT``): on every address ``host``
    resolves to (``""``: all interfaces), as :func:`~vigil.balancer._proxy_accept.bind` does
    for a lone proxy, but without a loop (the parent calls it, maybe from a loop's thread)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return bind_all(infos, port, backlog=backlog, reuse_port=False, blocking=True)


def _cells(memory: SharedMemory) -> memoryview[int]:
    buf = memory.buf
    if buf is None:  # pragma: no cover - only after close()
        raise ValueError(f"shared memory {memory.name} is closed")
    return buf.cast("q")
