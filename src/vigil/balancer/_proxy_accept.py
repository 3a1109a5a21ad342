"""The proxy's listening socket: pending connections accepted in slices of 32 per wake-up.

uvloop's servers accept ONE connection per event-loop iteration (seen with uvloop 0.23: one
``accept4`` per ``epoll_pwait`` under strace, no ``EAGAIN``; 2 of 64 queued connections made
after 3 iterations). On a loop busy with a thousand connections an iteration takes tens to
hundreds of milliseconds, so the accept queue drained at 5-10 connections a second:
``wrk -c1000`` saw a hundred connections wait in the kernel for seconds (its "timeouts"), and a
burst of new streams waited an iteration per connection. :class:`Listener` watches the socket
itself and accepts until the queue is empty or :data:`ACCEPT_BATCH` are taken (the rest at the
next wake-ups, one per loop iteration), handing each socket to the loop's
``connect_accepted_socket`` (the transport is built at once and ``connection_made`` runs later
in the same iteration, as with a loop server). Used by :class:`vigil.balancer.proxy.Proxy`.

Slices (branch ``first5``): with 1,024 per wake-up, the largest wake-up of a burst of 200
new streams took 46-160 of them at load 6, before any of their requests was read; 32 lets a
slice's requests go upstream beside the next slice's accepts. Instructions per new stream did
not rise (``stream_setup.py``: 77,505 and 76,786 against 78,006 and 78,558); the live first
event was lower in 19 of 32 alternated pairs (median of the paired differences -2.3 ms, load
1.5-11.4): not shown (docs/benchmarks.md "First event, round of 4 Dec").

What the batch costs (branch ``accept4``, ``bench/stream_setup.py --uv-server``): uvloop's own
``create_server`` on the same socket spends ~14,600 fewer instructions per new stream (median
of three counts, 63,976 against 78,567; the coroutine, its future and its second step, and
this module's interpreted loop), not counting the kernel's extra ``epoll_pwait`` per
connection; uvloop tracks the transport in its weak-value table on both paths. It was not
adopted: its one accept per iteration (libuv accepts once per readiness event) breaks what
this class guarantees and its tests check (every queued connection taken at a wake-up; out of
descriptors, a warning and a pause, where libuv accepts and closes the queued connections
unreported: its "EMFILE trick"); the first event of a burst of 200 streams came sooner with it
in 9 of 12 alternated rounds, suggestive, not shown (docs/benchmarks.md "Accepting new
streams").

Under uvloop each connection is accepted as an :class:`UvAccepted` socket (the C socket type)
rather than a ``socket.socket``, whose ``family`` and ``type`` are Python properties that convert
to enums: five such reads per connection between ``socket.accept`` and uvloop's
``connect_accepted_socket`` (and ``socket.py``'s ``accept`` and ``__init__``, interpreted) cost
~37,000 instructions per stream, 23 % of what a new stream costs the proxy
(``bench/stream_setup.py``, docs/benchmarks.md "First event of a stream"). Other loops get
``socket.socket``s. The class lives in :mod:`vigil.balancer._proxy_accepted`, interpreted:
this module is compiled (branch ``first22``), and a subclass of the C socket type built by mypyc
crashed (branch ``sse3``).

The accept coroutines (branch ``first8``): ``connect_accepted_socket``'s first step builds the
transport and schedules ``connection_made``, then waits on a future that ``connection_made``'s
call completes. Its second step used to be a done callback on that future: a loop handle, an
interpreted closure and the resume, per connection (~4,000-5,000 instructions of the ~70,000 a
new stream costs). Now the listener keeps the suspended coroutines and resumes them from a
loop callback of its own (:meth:`Listener._finish`), scheduled by the first connection of a
wake-up: it resumes those whose ``connection_made`` ran (the first one's), and schedules
itself once more for the rest (queued after it), so a wake-up of 32 connections costs two loop
callbacks instead of 32 handles and closures; the resume is the same. Resuming also retrieves
the future's exception when the transport was closed before ``connection_made`` (the coroutine
raises it and closes the transport, as before), so no "exception was never retrieved" is
logged. No coroutine is left suspended: freed so, it would close its transport.

Each coroutine is stepped with ``next(step, None)`` (branch ``first22``), ``step`` being the
coroutine itself under uvloop's own ``connect_accepted_socket`` (Cython's coroutines are iterators)
and its ``__await__()`` iterator otherwise (other loops, and a subclass of uvloop's loop that
overrides the method with a Python coroutine): a coroutine that returns ends the call with ``None``
and its ``StopIteration`` is cleared in C, where ``coro.send(None)`` raised it into this module's
frame (a traceback entry made, the exception normalized, matched and freed at each connection's two
steps). That is what let this module be compiled by mypyc (``setup.py``; ``first8`` found a compiled
resume cost 6,438 instructions a stream, the ``StopIteration``'s traceback entries): per new stream
53,209-53,420 -> 50,777-51,208 (``bench/stream_setup.py``, docs/benchmarks.md "First event, round of
1 Dec, third session"). An exception the coroutine raises still comes out of ``next``; a step that
yields again (``None`` from a bare ``yield``, or another future: a loop whose method awaits more
than once) is looked at by the next pass. The factory is handed the peer address by the listener
during the first step (:meth:`Listener._make`, bound once), where uvloop and asyncio call it,
instead of through a ``functools.partial`` made per connection; a loop calling it later gives it
``None`` (the protocol then asks its transport).
"""

from __future__ import annotations

import _socket
import asyncio
import errno
import functools
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any, Final

from vigil.balancer._proxy_accepted import UvAccepted
from vigil.balancer._proxy_transports import lighten

# Accepts per wake-up at most: a burst is taken in slices, and the connections of one slice
# have their requests read (and sent upstream) in the next loop iteration, beside the next
# slice's accepts, instead of after the whole burst's (1,024 before branch first5: 200 new
# streams were all accepted before any request was read). The listening socket stays readable,
# so the rest of the queue is taken at the following wake-ups: 64 queued connections in two.
ACCEPT_BATCH: Final = 32
# accept() failing for want of descriptors or memory: stop accepting this long (as asyncio does)
RESOURCE_ERRORS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RESOURCE_PAUSE: Final = 1.0
# what next() returns for an accept coroutine that returned (a step can yield None: a bare
# yield, as asyncio.sleep(0) makes)
_DONE: Final = object()
# looked up once (compiled: a Final name is a C static, another a look-up in the module's dict)
_UV_ACCEPTED: Final = UvAccepted

log = logging.getLogger(__name__)


async def bind(host: str, port: int, *, backlog: int, reuse_port: bool) -> list[socket.socket]:
    """Listening, non-blocking TCP sockets on every address ``host`` resolves to (``""``: all
    interfaces), as a loop server binds; with port 0 they all share the first one's port."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    return bind_all(infos, port, backlog=backlog, reuse_port=reuse_port, blocking=False)


def bind_all(
    infos: list[tuple[Any, ...]], port: int, *, backlog: int, reuse_port: bool, blocking: bool
) -> list[socket.socket]:
    """A listening TCP socket per distinct address of ``infos`` (``getaddrinfo``'s answer for
    ``port``); with port 0 they all share the first one's port. Used by :func:`bind` and by
    :func:`vigil.balancer._proxy_balance.listen_shared` (no loop there)."""
    socks: list[socket.socket] = []
    seen = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # or it would take the IPv4 port as well
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(socks) > 1:
                address = (address[0], socks[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(blocking)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


class Listener:
    """Accepts connections on ``sock`` (listening) into protocols made by ``factory(peer)``
    (``peer``: the address ``accept()`` returned, which spares a ``getpeername`` each)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        factory: Callable[[Any], object],
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.factory = factory
        self.accepted = 0  # connections accepted (tests read it)
        self.passes = 0  # calls of _finish (tests count them: an idle listener makes none)
        self._closed = False
        # accept coroutines waiting for their connection_made (their future, the coroutine's
        # step iterator: see the module docstring), resumed together by _finish, scheduled
        # once per wake-up that accepted
        self._waiting: list[tuple[Any, Iterator[Any]]] = []
        sock.setblocking(False)
        # under uvloop: the C accept (no socket.socket built) and the kind of socket it returns
        self._uv = _is_uvloop(loop)
        if self._uv:  # the loop's table of transports without a Python callback per entry
            lighten(loop)
        self._accept_fd: Callable[[], tuple[int, Any]] = getattr(sock, "_accept")  # noqa: B009
        # the loop's methods called per connection, bound once (compiled, a method of an Any
        # is looked up by name at each call)
        self._connect: Callable[..., Any] = loop.connect_accepted_socket
        # its coroutines are iterators (stepped as they are): uvloop's own method only, not an
        # override in a subclass of its loop (a Python coroutine, stepped by its __await__())
        self._iterable = self._uv and _uvloop_accepts(loop)
        self._call_soon: Callable[..., Any] = loop.call_soon
        # the address accept() returned for the connection being handed over (see _take)
        self._peer: Any = None
        self._make_bound: Callable[[], object] = self._make  # bound once
        self._kind = (int(sock.family), int(sock.type), sock.proto)
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        take = self._take
        for _ in range(ACCEPT_BATCH):
            if not take():
                return

    def _take(self) -> bool:
        """Accept one queued connection and hand it to a protocol of the factory's; False when
        the queue is empty, or accepting paused for want of descriptors (with a warning)."""
        conn: _socket.socket
        try:
            if self._uv:
                fd, peer = self._accept_fd()
            else:
                conn, peer = self.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return False
        except OSError as exc:
            if exc.errno not in RESOURCE_ERRORS:
                raise
            log.warning(
                "cannot accept connections (%s); pausing %.0f s: raise the limit on open "
                "files (ulimit -n) if this persists",
                exc,
                RESOURCE_PAUSE,
            )
            self.loop.remove_reader(self.sock.fileno())
            self.loop.call_later(RESOURCE_PAUSE, self._resume)
            return False
        self.accepted += 1
        if self._uv:  # not set non-blocking here: libuv's uv_tcp_open does (one ioctl, not two)
            family, kind, proto = self._kind
            conn = _UV_ACCEPTED(family, kind, proto, fd)
        else:
            conn.setblocking(False)
        # the factory's protocols have asyncio.Protocol's methods without its base class, and
        # uvloop takes any socket object with fileno(), family and type: typed as Any, not
        # cast() (typing.cast is an interpreted call, two per connection)
        sock: Any = conn
        # the factory gets the peer from the listener (_make) during the first step, where
        # both loops call it: no functools.partial made and freed per connection
        self._peer = peer
        coro: Any = self._connect(self._make_bound, sock)
        step: Iterator[Any] = coro if self._iterable else coro.__await__()
        try:  # its first step: the transport, connection_made scheduled; no task (a loop
            # iteration per connection before any of this)
            waiter = next(step, _DONE)
        except OSError as exc:  # the peer went away before the transport existed
            log.debug("accepted connection lost at once: %s", exc)
            return True
        finally:  # a factory a loop calls later gets None: asked of the transport then
            self._peer = None
        if waiter is _DONE:  # it returned at once
            return True
        if not self._waiting:  # after this connection's connection_made (queued before it)
            self._call_soon(self._finish)
        self._waiting.append((waiter, step))
        return True

    def _make(self) -> object:
        """The protocol for the connection :meth:`_take` is handing over: the factory's, given
        its peer address (None when called outside that hand-over: the protocol asks the
        transport)."""
        return self.factory(self._peer)

    def _finish(self) -> None:
        """Resume the accept coroutines whose ``connection_made`` ran (their future done):
        each returns, or raises what its future holds (the transport closed before
        ``connection_made``; the coroutine closed it). The others (the wake-up's connections
        after the first: their ``connection_made`` is queued after this call) wait for the
        next call, scheduled here once.

        Bounded (branch ``suspect20``): a call that resumes none leaves the rest to their
        futures' done callbacks instead of calling itself again, so a future that stays
        pending cannot make a pass per loop iteration (100 % CPU). Neither supported loop
        leaves one pending past the handles queued with it (asyncio sets it two callbacks after
        ``connection_made``; uvloop 0.23 sets it in every path of ``_call_connection_made``,
        even when ``connection_made`` raises), so each call resumes at least one and a
        wake-up costs at most two calls, as before."""
        self.passes += 1
        waiting, self._waiting = self._waiting, []
        late: list[tuple[Any, Iterator[Any]]] = []
        for waiter, step in waiting:
            # (None: a bare yield, resumed at the next pass; neither supported loop makes one)
            if waiter is not None and not waiter.done():
                late.append((waiter, step))
                continue
            try:
                waiter = next(step, _DONE)  # returns: _DONE, no StopIteration in this frame
            except (Exception, asyncio.CancelledError) as exc:
                log.debug("accepted connection failed before it was made: %s", exc)
                continue
            if waiter is not _DONE:  # it waits again (a loop whose method awaits more)
                self._again(waiter, step)
        if not late:
            return
        if len(late) < len(waiting):  # progress: look again after the handles queued now
            if not self._waiting:
                self.loop.call_soon(self._finish)
            self._waiting[:0] = late
            return
        for waiter, step in late:  # none was done: no pass per loop iteration from now on
            waiter.add_done_callback(functools.partial(_resume_late, self, step))

    def _again(self, waiter: Any, step: Iterator[Any]) -> None:
        """An accept coroutine that waits once more: looked at by the next pass."""
        if not self._waiting:
            self._call_soon(self._finish)
        self._waiting.append((waiter, step))

    def _resume(self) -> None:
        if not self._closed:
            self.loop.add_reader(self.sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting and close the listening socket (accepted connections stay open)."""
        if not self._closed:
            self._closed = True
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()


def _resume_late(listener: Listener, step: Iterator[Any], waiter: object) -> None:
    """Resume an accept coroutine (its step iterator) whose future completed after a pass had
    given up on it."""
    try:
        again = next(step, _DONE)
    except (Exception, asyncio.CancelledError) as exc:
        log.debug("accepted connection failed before it was made: %s", exc)
        return
    if again is not _DONE:
        listener._again(again, step)


def _uvloop_accepts(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` (a ``uvloop.Loop``) accepts with uvloop's own
    ``connect_accepted_socket`` (Cython: its coroutines are iterators)."""
    import uvloop

    own: object = uvloop.Loop.connect_accepted_socket
    return getattr(type(loop), "connect_accepted_socket", None) is own


def _is_uvloop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return False
    return isinstance(loop, uvloop.Loop)
