"""The client side of the data plane: one ``asyncio.Protocol`` per accepted connection.

Parses requests with httptools, enforces the head limits (431 / 414) and answers malformed input
with 400 and a close (never an exception escaping to the loop; 505 for an HTTP major version
other than 1, 405 for TRACE unless ``allow_trace``), creates an
:class:`~vigil.balancer._proxy_exchange.Exchange` per request and runs them one at a time
(pipelined requests wait, with reading paused). Keep-alive between requests, an idle timeout
(a head gets ``client_timeout`` from its first byte: a 408 then), and back-pressure both ways
(a slow client pauses the upstream's reading, a slow upstream pauses the client's). Created by
:class:`vigil.balancer.proxy.Proxy`'s server (``vigil balance``, ``vigil up``). The checks of a
request llhttp does not make are in :mod:`vigil.balancer._http_request_checks`, the peer's
address lines cache in :mod:`vigil.balancer._proxy_peers` (split out on 1 Dec, branch
``first22``: the module had reached 600 lines).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, cast

from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from vigil.balancer._http_answers import error_response
from vigil.balancer._http_headers import (
    BadRequest,
    Headers,
    forward_with,
    proxy_lines,
    rewrite_request,
)
from vigil.balancer._http_plain import method_of, plain_request
from vigil.balancer._http_request_checks import host_value, unsupported_version
from vigil.balancer._http_target import forwarded_target
from vigil.balancer._proxy_core import ExchangeCore
from vigil.balancer._proxy_exchange import Exchange
from vigil.balancer._proxy_peers import peer_lines
from vigil.balancer._proxy_state import ProxyState
from vigil.balancer._proxy_trust import forwarded_client, is_trusted

# Plain request heads are taken without the parser only when compiled (see __init__)
PLAIN_HEADS: Final = __file__.endswith((".so", ".pyd"))
# why reading from the client is paused (a bit mask)
_PIPELINE: Final = 1
_UPSTREAM: Final = 2
# The headers of a connection between requests and of a plain head (which has none to read):
# one shared list, never appended to (on_message_begin gives a parsed head a list of its own),
# so that no list is made per connection and per plain request
_NO_HEADERS: Final[Headers] = []


def _discard(data: object) -> None:
    """What a write does before the connection is made (and a feed before a parser exists)."""


def _no_method() -> bytes:
    """What ``get_method`` is without a parser (never called: only its callbacks call it)."""
    return b""


def _not_kept() -> bool:
    """What ``should_keep_alive`` is without a parser (never called, as :func:`_no_method`)."""
    return False


# The three placeholders as final names: compiled, each is read from a C static, where a
# function named in an expression is looked up in the module's dictionary (five per connection)
_DISCARD: Final = _discard
_NO_METHOD: Final = _no_method
_NOT_KEPT: Final = _not_kept


class ClientConnection:
    """One client TCP connection; serves its requests in order.

    An ``asyncio.Protocol`` by shape, not by base class: the loop only calls its methods, and
    with no Python base mypyc compiles it to a native class (attributes in a C struct, direct
    calls between the data plane's classes) instead of a dict-backed one."""

    def __init__(self, state: ProxyState, peer: object = None) -> None:
        """``peer``: the address ``accept()`` returned (else it is asked of the transport)."""
        self.state = state
        self.transport: asyncio.Transport | None = None
        # The request parser, made by the first read that needs it (_new_parser): a connection
        # whose requests are all plain heads (compiled) never makes one. It refers to its
        # callbacks, this connection's methods: connection_lost lets it go, so that the closed
        # connection is freed at once, not left to the collector (a burst of new streams paid
        # for those collections: docs/benchmarks.md, "CPU per new stream (branch sse3)").
        self.parser: HttpRequestParser | None = None
        # its methods, bound once (mypyc calls a method of a non-compiled object by name, a
        # look-up per call, and these run once or more per request)
        self.feed: Callable[[bytes], None] = _DISCARD
        self.get_method: Callable[[], bytes] = _NO_METHOD
        self.should_keep_alive: Callable[[], bool] = _NOT_KEPT
        if isinstance(peer, tuple) and peer:
            # the peer's address and the proxy's lines for plain heads (cached per address;
            # the last address's at hand on the state)
            host = str(peer[0])
            if host == state.peer_host:
                self.ip, self.lines = state.peer_lines
            else:
                self.ip, self.lines = state.peer_lines = peer_lines(host, state.proto)
                state.peer_host = host
        else:
            self.ip = b"-"
            self.lines = proxy_lines(self.ip, state.proto)
        # the peer is a trusted proxy (ProxySettings.trusted_proxies): its forwarding headers
        # are passed on, and its X-Forwarded-For names the client of each request
        self.trusted = bool(state.trusted) and is_trusted(state.trusted, self.ip)
        self.active: Exchange | None = None
        # requests parsed and not yet served, oldest first (a list: compiled, its append and
        # pop are direct C calls where a deque's are look-ups by name; it holds one or two)
        self.queue: list[Exchange] = []
        self.parsing: Exchange | None = None  # the exchange receiving body pieces
        self.spare: Exchange | None = None  # a finished exchange, for the next request
        self.url = b""
        self.headers: Headers = _NO_HEADERS
        self.head_bytes = 0  # bytes of earlier reads since the current head began
        self.data_len = 0  # the size of the read being parsed
        self.data = b""  # the read being parsed
        self.raw_start = -1  # where a head begins in it, when known (the read began one)
        self.in_head = False
        self.head_began = 0.0  # the loop time of the read the current head began in
        # a read that is one plain request head is taken without the parser (_http_plain):
        # not when the router is chosen per request (router_for reads the headers) or a header
        # is the affinity key, nor from source, where llhttp's callbacks cost less than a
        # Python loop over the head's bytes
        self.plain = PLAIN_HEADS and state.router is not None and state.affinity is None
        self.plain = self.plain and not self.trusted  # (its client is read per request)
        self.error: BadRequest | None = None
        self.closed = False
        self.eof = False  # the client half-closed after whole requests: close once answered
        self.paused = 0
        self.write_paused = False
        self.last_io = 0.0
        self.expired = False  # its timeout passed (ProxyState's sweep calls sweep())
        # the transport's bound write methods, looked up once: a call per response piece
        self.send: Callable[[bytes], object] = _DISCARD
        self.send_many: Callable[[list[bytes]], object] = _DISCARD
        # what the active exchange's last event produced, to write in one call (the exchanges
        # of a connection run one at a time and share it: no list per request)
        self.out: list[bytes] = []

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        # TCP_NODELAY is already on: uvloop and asyncio set it on every TCP transport
        self.transport = transport = cast(asyncio.Transport, transport)
        self.send = transport.write
        self.send_many = transport.writelines
        if self.ip == b"-":
            peer = transport.get_extra_info("peername")
            if isinstance(peer, tuple) and peer:
                self.ip, self.lines = peer_lines(str(peer[0]), self.state.proto)
                if self.state.trusted and is_trusted(self.state.trusted, self.ip):
                    self.trusted = True
                    self.plain = False
        self.state.clients.add(self)
        if self.state.unmade:  # exact balance: counted as accepted until now (no double count)
            self.state.unmade -= 1
        self.state.access_due = 0.0  # is the access log on? asked again at the next request end
        self.last_io = self.state.loop.time()
        # its timeouts are watched by the proxy's sweep over the live connections, not by a
        # loop timer of its own (call_later, cancel and the timer's close: ~5,000 instructions)
        self.state.watch_clients()

    def data_received(self, data: bytes) -> None:
        if self.error is not None:
            return  # after a parse error nothing more is read
        self.last_io = now = self.state.loop_time()
        # a read that begins between two requests begins the next head (after any empty lines)
        between = not self.in_head and self.parsing is None
        if between and self.plain:
            target_end = plain_request(data, self.state.settings.max_header_bytes)
            if target_end > 0:  # the read is one plain head: the parser is not needed
                ex = self._plain_head(data, target_end)
                if self.active is None and not self.queue:
                    # nothing before it: started at once, as _next would, without going
                    # through the queue (an append and a pop(0), each a realloc of its items)
                    self.active = ex
                    self._resume(_PIPELINE)
                    ex.start(now)
                    return
                self.queue.append(ex)
                if self.active is None:
                    self._next(now)
                else:
                    self._pause(_PIPELINE)  # it waits: read no more behind it (see below)
                return
        self.data_len = size = len(data)
        self.data = data
        self.raw_start = 0 if between else -1
        if self.parser is None:
            self._new_parser()
        try:
            self.feed(data)
        except HttpParserUpgrade:
            # llhttp stops after the upgrade request completed (it is the last one queued and
            # has not started: nothing starts during a read): it is answered, not forwarded
            if self.queue:
                self.queue.pop()
            self._fail(BadRequest(400, "protocol upgrades are not supported"))
        except HttpParserError as exc:
            context = exc.__context__
            if isinstance(context, BadRequest):
                self._fail(context)
            elif self.parser is not None and unsupported_version(
                str(exc), self.parser.get_http_version()
            ):
                # llhttp takes 0.9, 1.0, 1.1 and 2.0 only: HTTP/3.0 gets here, and HTTP/2's
                # connection preface, which llhttp stops at (2.0 and 0.9: _http10's 505)
                self._fail(BadRequest(505, "HTTP version not supported (HTTP/1.x only)"))
            else:
                self._fail(BadRequest(400, str(exc)))
        else:
            if self.in_head:  # the head goes on in the next read
                self.head_bytes += size
                if (
                    self.head_bytes > self.state.settings.max_header_bytes
                    and self._head_too_large()
                ):
                    self._fail(BadRequest(431, "request head too large"))
        self.data = b""  # an idle connection keeps no read (a body's can be large)
        if self.active is None and self.queue:
            self._next(now)
        elif self.queue:
            # a request waits behind the one in progress: read no more until it starts (a
            # client writing requests without reading answers would queue them without bound)
            self._pause(_PIPELINE)

    def eof_received(self) -> bool:
        """The client sent its FIN: it closed, or half-closed (``shutdown(SHUT_WR)``), which
        look the same. By default it is gone (nginx's default too): its request is aborted, so
        a model server stops generating for nobody. With ``answer_half_closed`` the requests it
        sent whole are still answered (HAProxy's way), then the connection is closed; a
        half-sent request, or none, ends it at once (kept open, the transport reads no more)."""
        if (
            not self.state.settings.answer_half_closed
            or self.in_head
            or self.parsing is not None
            or (self.active is None and not self.queue)
        ):
            return False
        self.eof = True
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        state = self.state
        clients = state.clients
        clients.discard(self)
        table = state.published
        if table is not None:  # exact balance: the siblings see the count fall at once
            # (with the connections accepted but not yet made: their connection_made may
            # run after this, and makes no store of its own)
            table[state.published_at] = len(clients) + state.unmade
        active, self.active = self.active, None
        self.queue.clear()
        if active is not None:
            active.client_lost()
        parsing, self.parsing = self.parsing, None
        if parsing is not None and parsing is not active:
            parsing.client_lost()
        # no reference cycle is left: freed by reference counting as soon as the loop lets go
        self.spare = None  # (an exchange refers to its client)
        if self.parser is not None:  # (a parser refers to its callbacks' owner)
            self.parser = None
            self.feed = _DISCARD
            self.get_method = _NO_METHOD
            self.should_keep_alive = _NOT_KEPT

    def pause_writing(self) -> None:
        self.write_paused = True
        self._upstream_reading(False)

    def resume_writing(self) -> None:
        self.write_paused = False
        ex = self.active
        if ex is not None and ex.resp is not None and ex.resp.decoder is not None:
            try:  # decoded bytes held for this client (rare: an HTTP/1.0 client, a coding)
                ex.decode_out()
            except ValueError:  # corrupt, or past the bound: cut, as during a read
                ex.decode_failed()
                return
            if self.write_paused or ex.ending is not None:
                return  # still more than the client takes: the upstream stays paused
        self._upstream_reading(True)

    def _upstream_reading(self, on: bool) -> None:
        ex = self.active
        conn = ex.conn if ex is not None else None
        if conn is not None and conn.transport is not None and not conn.transport.is_closing():
            if on:
                conn.transport.resume_reading()
            else:
                conn.transport.pause_reading()

    def _new_parser(self) -> None:
        self.parser = parser = HttpRequestParser(self)
        self.feed = parser.feed_data
        self.get_method = parser.get_method
        self.should_keep_alive = parser.should_keep_alive

    def _http10(self) -> bool:
        """Whether the request being parsed is HTTP/1.0 (``get_http_version`` formats a str);
        ``BadRequest`` 505 when its major version is not 1 (RFC 9110 §15.6.6: the upstream leg
        is HTTP/1.1, so an ``HTTP/2.0`` request line would go out as another version).

        Called for every head whose version is not 1.1: llhttp keeps any other version alive
        only with a ``Connection`` header (HTTP/1.0's rule), and a head without ``Host`` asks
        too; a plain or raw head is 1.1 by its bytes. So the 1.1 path pays nothing."""
        parser = self.parser
        if parser is None:
            return False
        version = parser.get_http_version()
        if version[0] != "1":
            raise BadRequest(505, f"HTTP/{version} is not supported (HTTP/1.x only)")
        return version == "1.0"

    # -- httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.head_bytes = 0
        self.in_head = True
        self.head_began = self.last_io  # set by data_received for this read

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.state.settings.max_header_bytes:
            raise BadRequest(414, "request URL too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        # Kept to one append: the head's size is checked once per read, not once per header.
        # Not in a head, it is a trailer of a chunked body: dropped (no head limit bounds them).
        if self.in_head:
            self.headers.append((name, value))

    def _head_too_large(self) -> bool:
        """The URL plus the headers parsed so far (``: `` and CRLF counted) exceed the limit.
        Only called once the raw bytes read since the head began pass the limit."""
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        return size > self.state.settings.max_header_bytes

    def on_headers_complete(self) -> None:
        self.in_head = False
        st = self.state
        if (
            self.head_bytes + self.data_len > st.settings.max_header_bytes
            and self._head_too_large()
        ):
            raise BadRequest(431, "request head too large")
        hosts = 0
        for name, value in self.headers:
            if len(name) == 4 and name.lower() == b"host":
                hosts += 1
                if not host_value(value):
                    raise BadRequest(400, "the Host header is not a host and port")
        if hosts > 1:  # RFC 9112 §3.2 (the router and the upstream could read different ones)
            raise BadRequest(400, "more than one Host header line")
        raw_start = self.raw_start
        if hosts == 0:  # RFC 9112 §3.2: an HTTP/1.1 request must have one
            if not self._http10():
                raise BadRequest(400, "no Host header (an HTTP/1.1 request needs one)")
            # the upstream leg is HTTP/1.1: a Host, empty as the target has no authority
            self.headers.append((b"Host", b""))
            raw_start = -1  # the head is rebuilt, not forwarded as written
        method = self.get_method()
        if len(method) == 5 and method == b"TRACE" and not st.settings.allow_trace:
            # cross-site tracing: an echo of headers added in front (docs/architecture.md)
            raise BadRequest(405, "TRACE is not allowed")
        url = self.url
        if not url or url[0] != 47:  # not "/...": absolute form (or "*"), see _http_target
            self.url, authority = forwarded_target(method, url)
            if authority is not None:  # the target's authority replaces the Host
                self.headers = [
                    (name, value)
                    for name, value in self.headers
                    if not (len(name) == 4 and name.lower() == b"host")
                ]
                self.headers.append((b"Host", authority))
                raw_start = -1
        elif 35 in url:  # "#": a fragment is never sent (RFC 9112 §3.2), as in absolute form
            self.url = url[: url.index(35)]
            raw_start = -1  # the head is rebuilt without it
        meta = rewrite_request(
            method,
            self.url,
            self.headers,
            self.ip,
            st.proto,
            st.ids,
            st.affinity,
            self.data,
            raw_start,
            self.trusted,
        )
        self.raw_start = -1  # where the next head in this read begins is not known
        keep_alive = self.should_keep_alive()
        # HTTP/1.0 keeps a connection alive only when its Connection header asks: kept alive
        # with no Connection header, the request is HTTP/1.1 (get_http_version formats a str)
        http10 = self._http10() if meta.connection or not keep_alive else False
        if http10 and meta.chunked:  # faulty framing: close after it (RFC 9112 §6.1)
            keep_alive = False
        ex = self.spare
        if ex is None:
            ex = Exchange(self, st)
        else:
            self.spare = None
        ex.begin(method, self.url, self.headers, meta, keep_alive, http10)
        if self.trusted:  # the client behind the trusted proxy (access log, router_for)
            ex.client_ip = forwarded_client(st.trusted, self.ip, self._forwarded_for())
        self.parsing = ex
        self.queue.append(ex)

    def _forwarded_for(self) -> bytes | None:
        """The request's ``X-Forwarded-For`` lines joined (read for a trusted peer only)."""
        values = [v for n, v in self.headers if len(n) == 15 and n.lower() == b"x-forwarded-for"]
        return b", ".join(values) if values else None

    def _plain_head(self, data: bytes, target_end: int) -> Exchange:
        """A whole request read that :func:`plain_request` took: what ``on_headers_complete``
        and ``on_message_complete`` do for it (HTTP/1.1, kept alive, no body), and the head
        forwarded as written; returns its exchange, for the caller to start or queue. The
        parser saw nothing: it stays between two requests."""
        st = self.state
        method = method_of(data)
        url = data[len(method) + 1 : target_end]
        meta = forward_with(data[: len(data) - 2], self.lines, st.ids)
        ex = self.spare
        if ex is None:
            ex = Exchange(self, st)
        else:
            self.spare = None
        self.url = url
        self.headers = _NO_HEADERS
        ex.begin(method, url, _NO_HEADERS, meta, True, False)
        ex.request_complete()
        return ex

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.request_body(body)

    def on_message_complete(self) -> None:
        parsing, self.parsing = self.parsing, None
        if parsing is not None:
            parsing.request_complete()

    # -- serving -----------------------------------------------------------------------------
    def _next(self, now: float) -> None:
        """Start the next request; pause reading while more wait behind it. ``now``: the loop's
        time, read by the caller in this callback (microseconds ago; uvloop's clock has
        millisecond steps, and each read of it is a Python call)."""
        ex = self.active = self.queue.pop(0)
        if self.queue:
            self._pause(_PIPELINE)
        else:  # nothing waits behind it: read on (its body may not all be in yet)
            self._resume(_PIPELINE)
        ex.start(now)

    def exchange_done(self, ex: ExchangeCore, now: float = -1.0) -> None:
        """``ex`` ended; ``now``: the loop's time when the caller has just read it."""
        if self.active is not ex:
            return
        self.active = None
        if isinstance(ex, Exchange) and ex.reusable():
            self.spare = ex
        self.last_io = now = now if now >= 0.0 else self.state.loop_time()
        if self.closed:
            return
        if not ex.keep_alive or self.state.stopping or (self.eof and not self.queue):
            self.close()
        elif self.queue:
            self._next(now)
        else:
            self._resume(_PIPELINE)
            if self.error is not None:
                self._answer_error(self.error)

    def _fail(self, error: BadRequest) -> None:
        """Malformed input: answer it once nothing is in progress, then close."""
        self.error = error
        self.in_head = False
        if self.transport is not None:
            self.transport.pause_reading()
        parsing = self.parsing
        if parsing is not None and not parsing.req_done:
            # the body of a request in progress is broken: that request cannot complete
            self.queue = [e for e in self.queue if e is not parsing]
            if parsing.started:
                parsing.client_lost()
                if self.active is parsing:
                    self.active = None
            self.parsing = None
        if self.active is None and not self.queue:
            self._answer_error(error)

    def _answer_error(self, error: BadRequest) -> None:
        stats = self.state.metrics.unrouted()
        stats.status(error.status)
        self.write(error_response(error.status, error.reason, request_id=None, close=True))
        self.close()

    def sweep(self, now: float) -> None:
        """Close the connection if its timeout passed at the loop time ``now`` (called by
        :meth:`~vigil.balancer._proxy_state.ProxyState.watch_clients`' sweep)."""
        if self.expired or self.closed:
            return
        timeout = self.state.settings.client_timeout
        due = self.last_io + timeout
        if self.in_head and self.head_began + timeout < due:
            # a head has client_timeout from its first byte, however often bytes come (a
            # client trickling one at a time would otherwise hold the connection forever)
            due = self.head_began + timeout
        active = self.active
        if now < due or (active is not None and active.req_done):
            return  # not idle, or a response in progress (its own timeouts are the upstream's)
        self.expired = True
        if active is not None:  # the client stopped sending the body of a request
            self.active = None
            active.client_lost()
        if self.in_head:
            self.write(error_response(408, "request timed out", request_id=None, close=True))
        self.close()

    # -- transport helpers -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def write_many(self, parts: list[bytes]) -> None:
        """Write ``parts`` in one call (the transport copies the list; the caller may reuse it)."""
        if not self.closed:  # before connection_made the send methods discard
            if len(parts) == 1:
                self.send(parts[0])
            else:
                self.send_many(parts)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def pause_reading_for_upstream(self, pause: bool) -> None:
        if pause:
            self._pause(_UPSTREAM)
        else:
            self._resume(_UPSTREAM)

    def _pause(self, reason: int) -> None:
        if not self.paused and self.transport is not None and not self.closed:
            self.transport.pause_reading()
        self.paused |= reason

    def _resume(self, reason: int) -> None:
        if self.paused & reason:
            self.paused &= ~reason
            transport = self.transport
            if not self.paused and transport is not None and self.error is None and not self.closed:
                transport.resume_reading()
