"""One connection to an upstream (a replica): the ``asyncio.Protocol`` of the proxy's upstream leg.

:class:`UpstreamConnection` parses responses with httptools and hands each event to the exchange
(the proxied request, :mod:`vigil.balancer._proxy_exchange`) it currently serves. The response
head is handed over whole, as the bytes it came in (cut out of one read, or of the reads it was
split over), for :mod:`vigil.balancer._http_raw`: llhttp judges it without a callback per header.
A read that is one whole plain response (head and body, nothing else: most small answers) skips
the parser altogether when compiled (:mod:`vigil.balancer._http_whole` checks it), and so does a
read of a chunked body that is a run of whole chunks as the proxy would frame them (a token
stream's events): written to the client as it came (:mod:`vigil.balancer._http_chunks`).
Connections are opened and kept idle by :class:`vigil.balancer._proxy_connpool.UpstreamPool`. A
connection is discarded on any error, when the upstream says ``Connection: close``, or when it
sends a byte while idle or after the response in the same read.
:meth:`UpstreamConnection.peer_gone` looks at the socket itself for a byte or a close the loop
has not read yet, before any request goes out on a reused connection.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, cast

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from vigil.balancer._http_chunks import ChunkScanner
from vigil.balancer._http_raw import head_end
from vigil.balancer._http_whole import whole_response

if TYPE_CHECKING:
    from vigil.balancer._proxy_connpool import UpstreamPool
    from vigil.balancer._proxy_exchange import Exchange

Key = tuple[str, int]
# Whole plain responses are taken without the parser only when compiled: from source a loop
# over the head's bytes costs more than llhttp's callbacks (as for plain request heads)
WHOLE_RESPONSES: Final = __file__.endswith((".so", ".pyd"))
# An upstream head larger than this is garbage, not a response worth forwarding.
MAX_UPSTREAM_HEAD: Final = 64 * 1024
# What the parser is fed in place of a chunked stream's head it never saw (taken without it:
# _http_whole) before the first later read that is not whole chunks: the same framing, and the
# same keep-alive (the status and the other lines are the exchange's, which has them already)
_CHUNKED_HEAD: Final = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
_CHUNKED_HEAD_CLOSE: Final = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


class _NoCallbacks:
    """The callbacks of :data:`_CLOSED_PARSER`: none."""


# What a closed connection's parser fields point to instead of its own parser, whose callbacks
# are the connection's methods: the cycle they form would keep every closed upstream connection
# (renewed warm spares, connections the upstream closed) alive until the collector ran. Never fed:
# a closed connection reads nothing more.
_CLOSED_PARSER: Final = HttpResponseParser(_NoCallbacks())


def _discard(data: bytes) -> object:
    """What a write does before the connection is made."""
    return None


class UpstreamConnection:
    """One keep-alive connection to a replica; serves one exchange at a time.

    An ``asyncio.Protocol`` by shape, not by base class (see
    :class:`~vigil.balancer._proxy_client.ClientConnection`): :func:`dial` hands it to the loop."""

    def __init__(self, pool: UpstreamPool, key: Key) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.parser = HttpResponseParser(self)
        self.feed = self.parser.feed_data  # bound once: called once per upstream read
        self.closed = False
        self.idle_since = 0.0
        self.used_at = 0.0  # when it last carried a response (the pool renews recent ones)
        self.data = b""  # the read being parsed
        self.head_start = 0  # where the current head begins in it (-1: after a final response)
        self.partial = b""  # the current head's bytes from earlier reads
        self.in_head = True  # until a head completes; again after each response (see below)
        self.whole = pool.whole  # a read that is one whole response skips the parser
        # the body's chunks are followed (set by the exchange's response_head, per response):
        # a read of whole chunks skips the parser and goes to the client as it came
        self.as_is = False
        self.pass_chunks = pool.pass_chunks  # whether it may be (tests switch it off)
        self.chunks = ChunkScanner()
        # the current response's head was taken without the parser (a chunked stream's, with
        # whole chunks): the parser is between responses, and ``unparsed_close`` is whether
        # that head said Connection: close (see stream_unparsed)
        self.unparsed = False
        self.unparsed_close = False
        # the pool's list of idle connections to ``key``, set when first kept (UpstreamPool)
        self.idle_list: list[UpstreamConnection] | None = None
        self.fd = -1  # the socket's descriptor
        # poll(0) of a poll object holding only this socket, bound once (see peer_gone)
        self.poll_now: Callable[[int], list[tuple[int, int]]] | None = None
        # bound once (compiled code calls a non-compiled object's method by name otherwise)
        self.get_status_code = self.parser.get_status_code
        self.should_keep_alive = self.parser.should_keep_alive
        self.send: Callable[[bytes], object] = _discard  # the transport's write

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        # TCP_NODELAY is already on: uvloop and asyncio set it on every TCP transport
        self.transport = cast(asyncio.Transport, transport)
        self.send = self.transport.write
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.fd = fd = sock.fileno()
            poller = select.poll()
            poller.register(fd, select.POLLIN)  # readable: a byte, the FIN, or an error
            self.poll_now = poller.poll

    def data_received(self, data: bytes) -> None:
        ex = self.exchange
        if ex is None:  # a byte while idle: the upstream is confused or closing
            self.abort()
            return
        if self.in_head:  # a head begins or goes on in this read (a body's reads skip this)
            if self.whole and not self.partial:  # a response begins: is it all in this read?
                end, status, cut, cut_end, has_id, close, size, framing = whole_response(data)
                if end > 0 and ex.whole_response(
                    self, data, end, status, cut, cut_end, has_id, close, size, framing
                ):
                    self.pool.taken_whole += 1
                    return
            self.data = data
            self.head_start = 0
        elif self.as_is:  # a chunked body the client gets chunked: whole chunks go as they are
            chunks = self.chunks
            size, last = chunks.whole(data)
            if size >= 0:
                if not last:  # the parser, at a chunk's start, stays there
                    ex.response_chunks(data, size)
                    return
                if self.unparsed:  # the parser never saw this response: it stays between two
                    self.in_head = True
                    self.as_is = self.unparsed = False
                    ex.stream_end(self, data, size, not self.unparsed_close)
                    return
            if self.unparsed:  # the parser takes over: a head of the same framing first
                self.feed(_CHUNKED_HEAD_CLOSE if self.unparsed_close else _CHUNKED_HEAD)
                self.unparsed = False
            chunks.feed(data, 0)  # the parser's way, followed
        try:
            self.feed(data)
            if self.in_head and self.head_start >= 0:  # the head goes on in the next read
                self.partial += data[self.head_start :] if self.head_start else data
                if len(self.partial) > MAX_UPSTREAM_HEAD:
                    raise ValueError("upstream response head too large")
        # garbage, an upgrade (we never ask for one), a head over MAX_UPSTREAM_HEAD, or bytes
        # after the response in the same read (see on_message_begin)
        except (HttpParserError, HttpParserUpgrade, ValueError) as exc:
            if self.exchange is ex:
                ex.upstream_garbage(self, exc)
            elif self.exchange is None:  # the response ended and the connection went idle:
                self.abort()  # its parser is not at a message's start, or is broken
            return
        if self.exchange is ex:
            ex.flush()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        asked = self.closed  # closed by the proxy, not by the upstream
        self.closed = True
        ex = self.exchange
        if ex is not None:
            self.exchange = None
            ex.upstream_lost(self, exc)
        else:
            self.pool.forget(self)
            if not asked:
                self.pool.check(self.key)
        # no reference cycle is left: freed by reference counting once the pool lets go
        self.parser = parser = _CLOSED_PARSER
        self.feed = parser.feed_data
        self.get_status_code = parser.get_status_code
        self.should_keep_alive = parser.should_keep_alive

    def pause_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.client.pause_reading_for_upstream(True)

    def resume_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.client.pause_reading_for_upstream(False)

    # -- httptools callbacks -----------------------------------------------------------
    # No on_status or on_header (httptools calls only the callbacks that exist, and each costs
    # ~1,000 instructions; without on_header llhttp still parses and judges every header, it
    # only does not hand them over): the head is taken whole from the reads when it completes,
    # and the next head's state is reset when a response completes, as nothing but the next
    # response may follow it (a byte while idle closes the connection).

    def on_message_begin(self) -> None:
        # A response begins after the one owed ended in the same read (the exchange let the
        # connection go): nobody asked for it. Pooled, its parser would be inside it (or broken
        # by garbage) and take the next request's answer for the rest of it: the next client
        # would get a 502, or a head whose framing is not the one its body is read by.
        if self.exchange is None:
            raise ValueError("upstream sent bytes after its response")

    def on_headers_complete(self) -> None:
        if self.unparsed:  # the head fed in place of one taken without the parser
            return
        self.in_head = False
        data = self.data
        start = self.head_start
        if self.partial:  # the head began in an earlier read
            data = self.partial + data
            start = 0
        elif start < 0:  # a head after a final response in the same read: nobody asked for it
            return
        if data[start] != 72:  # not "H": llhttp skips empty lines before a status line
            while data[start] == 13 or data[start] == 10:
                start += 1
        end = head_end(data, start)
        if end - start > MAX_UPSTREAM_HEAD:
            raise ValueError("upstream response head too large")
        if end < 0:  # cannot be: llhttp ends every head line with CRLF
            raise ValueError("upstream response head without its empty line")
        status = self.get_status_code()
        # after an interim (1xx) head, which has no body, the next head follows at once
        self.head_start = end - len(self.partial) if status < 200 else -1
        self.partial = b""
        if self.exchange is not None:
            self.exchange.response_head(self, status, data[start:end])
            if self.as_is:  # the body's bytes in this read, followed (the parser reads them next)
                self.chunks.reset()
                self.chunks.feed(data, end)

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.response_body(body)

    def on_message_complete(self) -> None:
        ex = self.exchange
        self.in_head = True
        self.as_is = False
        if ex is not None:
            ex.response_complete(self, self.should_keep_alive())

    # -- helpers -----------------------------------------------------------------------
    def stream_unparsed(self, close: bool) -> None:
        """The exchange took this response's chunked head (and the whole chunks after it)
        without the parser (:meth:`Exchange.whole_response`): the body's chunks are followed
        from a chunk's start, and the parser, still between responses, is fed a head of the
        same framing (``close``: the upstream's ``Connection: close``) only if a later read is
        not whole chunks."""
        self.in_head = False
        self.head_start = -1
        self.as_is = True
        self.chunks.reset()
        self.unparsed = True
        self.unparsed_close = close

    def peer_gone(self) -> bool:
        """Whether the upstream has closed or reset this idle connection, or sent it a byte,
        though the loop has not read that yet; asked by the pool before each reuse.

        A replica killed, or a server closing an idle keep-alive connection, races with the
        next request: when the request and the close are read in the same loop pass, the
        request can be written onto the dead connection first and, if it cannot be replayed (a
        POST), fail. Bytes an idle connection got (a stray response: a confused server, a
        ``408`` some servers send before closing an idle connection) read in the same pass
        after the request was written would be taken for its answer. One ``poll(0)`` of this
        socket tells (nothing readable: alive and clean), without reading: the loop reads and
        closes it as before. ~300 ns of CPU, a tenth of the ``MSG_PEEK`` it replaces (a socket
        object and an exception per call). A transport without a socket (tests' null
        transports) cannot be asked: taken as alive. (Upstreams are plain TCP; over TLS a
        pending byte could be a record the TLS layer eats, such as a session ticket.)"""
        if self.closed:
            return True
        poll_now = self.poll_now
        return poll_now is not None and len(poll_now(0)) > 0

    def write(self, data: bytes) -> None:
        self.send(data)  # discards before connection_made, as the check of the transport did

    def abort(self) -> None:
        """Close at once (RST when data is pending): the replica sees the request cancelled."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


async def dial(loop: asyncio.AbstractEventLoop, pool: UpstreamPool, key: Key) -> UpstreamConnection:
    """Open a new connection to the upstream at ``key`` for ``pool`` (OSError if it fails)."""
    conn = UpstreamConnection(pool, key)
    await loop.create_connection(lambda: cast(asyncio.Protocol, conn), key[0], key[1])
    return conn
