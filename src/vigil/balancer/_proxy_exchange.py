"""One proxied request: choose a replica, send, stream the response back, retry when safe.

An :class:`Exchange` is created by the client connection (:mod:`vigil.balancer._proxy_client`)
for each request head, and driven by callbacks from both sides: request body pieces from the
client parser, response events from the upstream connection
(:mod:`vigil.balancer._proxy_upstream`), and a deadline the proxy's ticker watches. No
coroutine runs per request.

Retries (each on a replica not yet tried, within ``max_retries`` and the retry budget):

- the connection could not be opened (refused, unreachable, connect timeout): any method, since
  nothing was sent;
- the connection closed before any response byte: only idempotent methods (GET, HEAD, OPTIONS,
  PUT, DELETE, TRACE) whose body so far fits ``retry_body_limit`` (kept for replay). POST and
  PATCH are *not* retried after a close (EOF): the replica read the request and may have
  started the work. So a request goes on a reused connection only after a look at its
  socket says the upstream has not closed it
  (:meth:`~vigil.balancer._proxy_upstream.UpstreamConnection.peer_gone`);
- the connection was *reset* (``ECONNRESET``) before any response byte, even for POST and PATCH
  (``retry_on_reset``): Linux resets a socket closed with data unread, so the replica's program
  never read the whole request (a process killed before it read it: sent after the ``kill``,
  or queued behind the request it was working on). Only when the request went out whole in one
  write and fits ``retry_body_limit`` (the proxy holds it then, :meth:`Exchange._hold`; a body
  streamed after its head is not held and cannot be resent), and not after a 1xx or part of a
  head. The replica may have read the head alone and died reading the body: a program that
  acts on a head before its body, or resets on purpose after handling a request, needs
  ``retry_on_reset`` off;
- never after a response head was received, never after a first-byte timeout (the replica may
  still be generating), never after garbage (the pool ejects that replica).

A retry that is safe by these rules after a *reused* connection closed or reset before any
response byte is, once per request, not charged to the replica: a server closes an idle
keep-alive connection when it likes, and the close can cross the request on the wire (RFC 9112
§9.3.1; nginx gives such a failure on a cached connection an extra try too). So the attempt is
released as ``CLIENT_ABORT`` (no failure, no latency), and the request goes again through the
router, on a fresh connection, without excluding that replica and without spending a retry or
the retry budget (the ``stale`` retry of the metrics). A second such failure is an ordinary one.

Each attempt is reported once to the router with ``release``; ``latency`` is the time to the
response head (the replica's responsiveness, independent of how long a token stream lasts).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from vigil.balancer._http_answers import chunk
from vigil.balancer._http_codings import SLICE
from vigil.balancer._http_raw import response_head as _response_head
from vigil.balancer._http_response import ResponseMeta
from vigil.balancer._http_whole import CHUNKS, LENGTH, whole_answer
from vigil.balancer._proxy_core import CONNECT, FIRST_BYTE, STREAM, UPLOAD, ExchangeCore
from vigil.balancer._proxy_upstream import UpstreamConnection
from vigil.balancer._upstream import Outcome
from vigil.balancer.pool import Pool

if TYPE_CHECKING:  # compiled, the offsets stay machine integers
    from mypy_extensions import i64

# The framing of a response taken whole: by its length, no Retry-After (its head is written
# already; nothing reads it but the checks that the response is not re-chunked)
_WHOLE: Final = ResponseMeta(b"", False, False, None)
# The framing of a chunked stream whose head was taken without the parser: the client gets it
# chunked, read by read as the chunks came (its head is written already)
_STREAM: Final = ResponseMeta(b"", True, False, None, None, True)
# A stream's idle timer looks this many times per idle timeout whether whole chunks went out
# (response_chunks counts them instead of reading the loop's time per event: a call and a
# float, ~250 instructions of ~4,200 live), so the timeout fires at most 1/8 of it (plus a
# tick) after the last one
STREAM_LOOKS: Final = 8


class Exchange(ExchangeCore):
    """One client request across its attempts: the request side, retries, the response side."""

    __slots__ = ()

    # -- request side (the client connection calls these) ------------------------------------
    def start(self, loop_now: float = -1.0) -> None:
        """Send the request (``loop_now``: the loop's time, read by the caller in this
        callback: microseconds ago, and uvloop's clock has millisecond steps)."""
        self.started = True
        st = self.state
        st.active += 1
        self.t_start = now = st.clock()
        router = st.router if st.router is not None else st.router_for(self)
        if router is None:
            self.reply(404, "no service routes this request")
            return
        self.router = router
        # no 1xx to an HTTP/1.0 client, whose expectation is ignored (RFC 9110 §10.1.1, §15.2)
        if self.meta.expect_continue and not self.req_done and not self.http10:
            self.client.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.attempt(now, loop_now)
        # counted after the request went out (off its latency); nothing in between reads it
        if isinstance(router, Pool):  # compiled: a direct call, not a look-up by name
            router.note_request(now)
            return
        note = getattr(router, "note_request", None)
        if note is not None:
            note(now)
        else:
            st.budget.deposit()

    def request_body(self, data: bytes) -> None:
        if self.done:
            return  # the answer was given already; the rest of the body is discarded
        piece = chunk(data) if self.meta.chunked else data
        self._body_piece(piece)

    def request_complete(self) -> None:
        self.req_done = True
        if self.done:
            return
        if self.meta.chunked:
            self._body_piece(b"0\r\n\r\n")
        if self.conn is not None:
            self._wait_first_byte()

    def _body_piece(self, piece: bytes) -> None:
        if self.replayable:
            self.replay_bytes += len(piece)
            if self.replay_bytes <= self.state.settings.retry_body_limit:
                replay = self.replay
                if replay is None:
                    self.replay = replay = []
                replay.append(piece)
            else:
                self.replayable = False
                self.replay = None
        conn = self.conn
        if conn is not None:
            conn.write(piece)
        else:
            pending = self.pending
            if pending is None:
                self.pending = pending = []
            pending.append(piece)
            self.pending_bytes += len(piece)
            if self.pending_bytes > self.state.settings.max_pending_bytes:
                self.client.pause_reading_for_upstream(True)

    # -- attempts ----------------------------------------------------------------------------
    def attempt(self, now: float, loop_now: float = -1.0) -> None:
        """One attempt: choose an upstream at ``now`` (the router's clock), take or open a
        connection to it (``loop_now``: the loop's time when the caller has just read it)."""
        st = self.state
        router = self.router
        assert router is not None
        raw_key = self.meta.key
        key = None if raw_key is None else raw_key.decode("latin-1")
        if isinstance(router, Pool):  # compiled: a direct call, not a look-up by name
            upstream = router.acquire(now, key, self.tried)
        else:
            upstream = router.acquire(now, key, self.tried)
        if upstream is None:
            if self.attempts == 0:
                wait = max(1, math.ceil(router.retry_after(now)))
                self.reply(503, "no upstream available", retry_after=wait)
            else:
                self.reply(502, "no other upstream to retry on")
            return
        self.attempts += 1
        self.upstream = upstream
        self.stats = stats = st.metrics.for_upstream(upstream)
        stats.in_flight += 1
        self.t_attempt = now
        self.ttfb_at = 0.0
        self.sent = False
        key_addr = (upstream.host, upstream.port)
        pool = st.pool
        idle = stats.idle
        if idle is None or stats.idle_pool is not pool:  # the first attempt there
            stats.idle = idle = pool.idle_list(key_addr)
            stats.idle_pool = pool
        # looked at first: closed or sent to, not taken; after a stale one, a fresh connection
        conn = pool.take_from(idle, key_addr, loop_now) if not self.stale_retried else None
        if conn is not None:
            self._attach(conn, loop_now)
        else:
            self.phase = CONNECT
            self.dialed = True
            self._arm(st.settings.connect_timeout)
            self.connecting = st.pool.connect(key_addr, self._connected)

    def _connected(self, conn: UpstreamConnection | None, error: OSError | None) -> None:
        if self.connecting is None:  # timed out or abandoned meanwhile: keep a fresh connection
            if conn is not None:
                self.state.pool.put(conn)
            return
        self.connecting = None
        if conn is None:
            refused = isinstance(error, ConnectionRefusedError)
            outcome = Outcome.REFUSED if refused else Outcome.CONNECT_ERROR
            self._attempt_failed(outcome, 502, f"cannot connect to upstream: {error}")
        else:
            self._attach(conn)

    def _attach(self, conn: UpstreamConnection, loop_now: float = -1.0) -> None:
        self.conn = conn
        self.sent = True
        conn.exchange = self
        pending = self.pending
        if self.req_done and not self.replayable:
            self._hold(pending)
        transport = conn.transport
        assert transport is not None
        if pending:
            transport.writelines([self.meta.head, *pending])
            self.pending = None
            if self.pending_bytes > self.state.settings.max_pending_bytes:
                self.client.pause_reading_for_upstream(False)
            self.pending_bytes = 0
        else:
            conn.send(self.meta.head)
        if self.req_done:
            self._wait_first_byte(loop_now)
        else:
            self.phase = UPLOAD
            self._disarm()

    def _hold(self, pending: list[bytes] | None) -> None:
        """Keep a request that is not idempotent, written whole in the one write of
        :meth:`_attach`, for a retry should the replica reset the connection unread (the
        ``replay`` of such a request is set only here: not None means held whole)."""
        if self.pending_bytes <= self.state.settings.retry_body_limit:
            self.replay = pending if pending is not None else []
            self.replay_bytes = self.pending_bytes

    def _wait_first_byte(self, now: float = -1.0) -> None:
        self.phase = FIRST_BYTE
        self.sent_at = now = now if now >= 0.0 else self.state.loop_time()
        settings = self.state.settings
        self._arm(min(settings.first_byte_timeout, settings.idle_timeout), now)

    def _attempt_failed(
        self,
        outcome: Outcome,
        status: int,
        message: str,
        unread: bool = False,
        stale: bool = False,
    ) -> None:
        """The attempt ended before any response byte: retry if safe, else answer ``status``.
        ``unread``: the replica reset the connection, so it never read the whole request;
        ``stale``: that connection had carried earlier responses (see the module docstring)."""
        self._drop_conn()
        sent = self.sent
        st = self.state
        replayable = self.replayable
        safe = not sent or (replayable and outcome is not Outcome.TIMEOUT)
        if not safe and unread and self.replay is not None and st.settings.retry_on_reset:
            safe = True  # not idempotent, but held whole and never read (see the docstring)
        if stale and safe and not self.stale_retried and not self.client.closed:
            self.stale_retried = True
            self._release(Outcome.CLIENT_ABORT, counted=False)  # not the replica's failure
            st.metrics.retry("stale")
            self.pending = list(self.replay or ())
            self.pending_bytes = self.replay_bytes
            self.attempts -= 1  # not one of the max_retries
            self.attempt(st.clock())
            return
        self._release(outcome)
        if safe and self.attempts <= st.settings.max_retries and not self.client.closed:
            now = st.clock()
            allowed = getattr(self.router, "retry_allowed", None)
            if allowed(now) if allowed is not None else st.budget.retry_allowed(now):
                assert self.stats is not None and self.stats.upstream is not None
                self.tried = self.tried | {self.stats.upstream.id}
                st.metrics.retry("not_sent" if not sent else "replayed" if replayable else "unread")
                if sent:
                    self.pending = list(self.replay or ())
                    self.pending_bytes = self.replay_bytes
                self.attempt(now)
                return
        self.reply(status, message)

    # -- response side (the upstream connection calls these) ---------------------------------
    def response_head(self, conn: UpstreamConnection, status: int, head: bytes) -> None:
        if status < 200:
            self.interim = True  # 100 Continue / 103 Early Hints: not forwarded
            self.stale_retried = True  # the replica answers on this connection: not stale
            if not self.replayable:
                self.replay = None  # the replica read the head: no retry after a reset now
            return
        self.ttfb_at = now = self.state.clock()
        assert self.stats is not None
        self.stats.ttfb.observe(now - self.t_attempt)
        is_head = self.method == b"HEAD"
        # ValueError (a transfer coding an HTTP/1.0 client cannot be sent): an invalid
        # response, answered 502 by upstream_garbage (the status is not set yet)
        self.resp, self.keep_alive = _response_head(
            status,
            head,
            no_body=is_head or status == 204 or status == 304,
            client_keep_alive=self.keep_alive and not self.state.stopping,
            client_http10=self.http10,
            request_id=self.meta.request_id,
        )
        self.status = status
        self.out.append(self.resp.head)
        self.phase = STREAM
        conn.as_is = self.resp.chunks_as_is and conn.pass_chunks
        if conn.as_is:  # whole chunks may be relayed: the idle timer looks from now on
            self._arm(self.state.settings.idle_timeout / STREAM_LOOKS)
        if is_head:  # httptools would wait for the body a HEAD answer announces but never sends
            self.response_complete(conn, False)

    def whole_response(
        self,
        conn: UpstreamConnection,
        data: bytes,
        end: i64,
        status: int,
        cut: i64,
        cut_end: i64,
        has_id: bool,
        close: bool,
        size: i64,
        framing: i64,
    ) -> bool:
        """The read ``data`` is one whole plain response, its head ending at ``end``, or a
        chunked one's head and whole chunks (:func:`~vigil.balancer._http_whole.whole_response`
        says so, where the upstream's plain ``Connection`` line is, the body's ``size`` and
        ``framing``): answered as :meth:`response_head`, :meth:`response_body` (or
        :meth:`response_chunks`) and :meth:`response_complete` would, the head made as the fast
        path of :func:`~vigil.balancer._http_raw.response_head` makes it (a chunked head keeps
        its ``Transfer-Encoding`` line), head and body in one piece. A chunked body that goes on
        (``CHUNKS``) leaves the exchange streaming and ``conn`` following the chunks with its
        parser not fed (:meth:`UpstreamConnection.stream_unparsed`). False, with nothing done,
        for the answer to a HEAD (its ``Content-Length`` is the size of a body it does not
        have: the parser's path knows), and for a chunked body to an HTTP/1.0 client (the
        codings undone) or with chunks not passed as they come (tests)."""
        if self.method == b"HEAD":
            return False
        if framing != LENGTH and (self.http10 or not conn.pass_chunks):
            return False
        st = self.state
        self.ttfb_at = now = st.clock()
        assert self.stats is not None
        self.stats.ttfb.observe(now - self.t_attempt)
        self.status = status
        self.keep_alive = keep_alive = self.keep_alive and not st.stopping
        answer = whole_answer(
            data, end, cut, cut_end, has_id, keep_alive, self.http10, self.meta.request_id
        )
        self.bytes_out += size
        if framing == CHUNKS:  # the stream goes on: the first events are with the head
            self.resp = _STREAM
            self.phase = STREAM
            self._arm(st.settings.idle_timeout / STREAM_LOOKS)  # see on_timer
            conn.stream_unparsed(close)
            self.send_now(answer)
            return True
        self.resp = _WHOLE
        self._complete(conn, not close, None, now, self.send_now(answer))
        return True

    def response_body(self, data: bytes) -> None:
        resp = self.resp
        if resp is None:
            return
        if resp.chunked_out:
            self.out.append(chunk(data))
        elif resp.decoder is None:
            self.out.append(data)
        else:  # an HTTP/1.0 client: the transfer codings undone (ValueError: corrupt)
            resp.decoder.feed(data)
            self.decode_out()
            return
        self.bytes_out += len(data)

    def stream_end(self, conn: UpstreamConnection, data: bytes, size: i64, reusable: bool) -> None:
        """The read ``data`` is whole chunks holding ``size`` bytes of data and the last chunk,
        of a stream whose head the parser never saw (:meth:`whole_response`): written as it
        came, and the response ends, as :meth:`response_chunks` and :meth:`response_complete`
        would end it."""
        self.bytes_out += size
        self._complete(conn, reusable, None, self.state.clock(), self.send_now(data))

    def response_chunks(self, data: bytes, size: i64) -> None:
        """The read ``data`` is a run of whole chunks holding ``size`` bytes of data, framed
        as :meth:`response_body` would frame them (the upstream connection checked it:
        :mod:`vigil.balancer._http_chunks`): written as it came, the same bytes object, as
        :meth:`flush` writes a read's output (no list, no join)."""
        self.bytes_out += size
        out = self.out
        if out:  # each read's output is written at its end: cannot be, kept in order anyway
            out.append(data)
            self.flush()
            return
        client = self.client
        if not client.closed:  # before connection_made its send discards
            client.send(data)
        self.relayed += 1  # not the loop's time (a call and a float per event): see on_timer

    def decode_out(self) -> None:
        """Write what the decoder holds, a slice at a time, while the client takes it: a read
        that decodes to megabytes stops at the client's write buffer (``pause_writing``; the
        upstream's reading is paused then) and goes on at ``resume_writing``
        (:meth:`ClientConnection.resume_writing`), then the response ends if it had."""
        resp = self.resp
        decoder = resp.decoder if resp is not None else None
        if decoder is None:
            return
        client = self.client
        while not client.write_paused:
            data = decoder.take(SLICE)  # ValueError: corrupt, or past the bound
            if not data:
                break
            self.out.append(data)
            self.bytes_out += len(data)
            self.flush()
        ending = self.ending
        if ending is not None and not decoder.pending():
            self.ending = None
            self.response_complete(ending[0], ending[1])

    def response_complete(self, conn: UpstreamConnection, reusable: bool) -> None:
        if self.interim:
            self.interim = False
            return
        resp = self.resp
        assert resp is not None
        if resp.chunked_out:
            self.out.append(b"0\r\n\r\n")
        elif resp.decoder is not None:  # ValueError: the coded body was cut short
            if resp.decoder.pending():  # the client has not taken it all: end then
                self.ending = (conn, reusable)
                return
            self.out.append(resp.decoder.end())
        # the answer came now: timed before the write and the bookkeeping, so that the last
        # answer other workers read (their silence test) does not lag it (the one clock read
        # the release would make after them)
        self._complete(conn, reusable, resp.retry_after, self.state.clock())

    def _complete(
        self,
        conn: UpstreamConnection,
        reusable: bool,
        retry_after: float | None,
        now: float = -1.0,
        loop_now: float = -1.0,
    ) -> None:
        """The response ended: write what is left, let the connection go, report the attempt
        (``now``: the clock's time when the caller has just read it; ``loop_now``: the loop's
        time :meth:`send_now` returned, when the caller wrote the end itself)."""
        # The client gets the end of the response first: the bookkeeping below (pool, router,
        # metrics, access log) is not on the path of its latency.
        if loop_now < 0.0:
            loop_now = self.flush()
        self.conn = None
        if reusable and self.req_done:
            self.state.pool.put(conn, loop_now)
        else:
            conn.exchange = None
            conn.close()
        status = self.status
        outcome = Outcome.OK
        if status >= 500 or status == 429:
            outcome = Outcome.OVERLOADED if status == 503 or status == 429 else Outcome.SERVER_ERROR
        self._release(outcome, retry_after, now=now)
        self._finish(loop_now=loop_now)

    def upstream_lost(self, conn: UpstreamConnection, exc: Exception | None) -> None:
        if self.ending is not None:  # it had answered whole; the client has not taken it all
            self.ending = (conn, False)
            return
        self.conn = None
        if self.status == 0:
            self.state.pool.check(conn.key)  # closed before answering: is anything left there?
            # it waited idle in the pool (a server may close such a one when it likes), and
            # no byte of an answer came
            stale = conn.idle_since > 0.0 and not conn.partial
            if isinstance(exc, ConnectionResetError) and not conn.partial:  # no response byte
                self._attempt_failed(
                    Outcome.CONNECT_ERROR, 502, "upstream reset the connection", True, stale
                )
            else:
                self._attempt_failed(
                    Outcome.CONNECT_ERROR, 502, "upstream closed the connection", False, stale
                )
        elif self.resp is not None and self.resp.close_delimited and exc is None:
            self.interim = False
            try:
                self.response_complete(conn, False)  # the body ended with the connection
            except ValueError:  # a transfer coding undone for an HTTP/1.0 client, cut short
                self._stream_failed(Outcome.PROTOCOL_ERROR)
        else:  # cut short (a body ending with the connection too, when it was reset: exc)
            self._stream_failed(Outcome.SERVER_ERROR)

    def upstream_garbage(self, conn: UpstreamConnection, exc: Exception) -> None:
        if self.status == 0:
            self._drop_conn()
            self._release(Outcome.PROTOCOL_ERROR)
            cause = exc.__context__ if exc.__context__ is not None else exc
            detail = f": {cause}" if isinstance(cause, ValueError) else ""
            self.reply(502, "upstream sent an invalid response" + detail)
        else:
            self._stream_failed(Outcome.PROTOCOL_ERROR)

    def decode_failed(self) -> None:
        """The held coded body proved corrupt, or past the bound, while the client took it
        (:meth:`decode_out` from ``resume_writing``): cut, as when a read finds it."""
        self.ending = None
        self._stream_failed(Outcome.PROTOCOL_ERROR)

    def _stream_failed(self, outcome: Outcome) -> None:
        """The response began and cannot be completed: cut the client off (it sees truncation)."""
        self._drop_conn()
        self._release(outcome)
        self.keep_alive = False
        self._finish()

    # -- timer -------------------------------------------------------------------------------
    def _arm(self, delay: float, now: float = -1.0) -> None:
        """Fire :meth:`on_timer` ``delay`` seconds from now (the proxy's ticker checks);
        ``now``: the loop's time when the caller has just read it."""
        st = self.state
        self.deadline = (now if now >= 0.0 else st.loop_time()) + delay
        if not self.timed:
            self.timed = True
            st.arm(self)

    def on_timer(self) -> None:
        """The deadline passed (called by :class:`~vigil.balancer._proxy_state.ProxyState`)."""
        self.timed = False
        settings = self.state.settings
        now = self.state.loop.time()
        if self.phase == CONNECT:
            self._attempt_failed(Outcome.TIMEOUT, 504, "upstream connect timed out")
        elif self.phase == FIRST_BYTE:
            due = self.sent_at + settings.first_byte_timeout
            if now < due:
                self._arm(min(due - now, settings.idle_timeout))
            else:
                self._attempt_failed(Outcome.TIMEOUT, 504, "upstream timed out")
        elif self.phase == STREAM:
            if self.relayed != self.relayed_seen:  # whole chunks went out since the last look
                self.relayed_seen = self.relayed  # (at most a look ago): the last at most now
                self.last_io = now
            due = max(self.last_io, self.sent_at) + settings.idle_timeout
            if now < due:  # looks at most 1/STREAM_LOOKS of the timeout apart
                self._arm(min(due - now, settings.idle_timeout / STREAM_LOOKS), now)
            else:
                self._stream_failed(Outcome.TIMEOUT)
