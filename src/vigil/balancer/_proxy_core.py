"""The state of one proxied request and the ways it ends; the base of
:class:`~vigil.balancer._proxy_exchange.Exchange`.

Holds every field of an exchange (slots: one is created per request), releases attempts to the
router with the metrics, aborts upstream connections, and writes the endings: the proxy's own
error answers, the access log line, the hand-back to the client connection
(:mod:`vigil.balancer._proxy_client`) and the abort when the client went away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from vigil.balancer._http_answers import error_response
from vigil.balancer._http_headers import Headers, RequestMeta
from vigil.balancer._http_response import ResponseMeta
from vigil.balancer._proxy_access import log_access
from vigil.balancer._proxy_connpool import Waiter
from vigil.balancer._proxy_metrics import UpstreamStats
from vigil.balancer._proxy_state import ProxyState
from vigil.balancer._proxy_upstream import UpstreamConnection
from vigil.balancer._upstream import Outcome, Router, Upstream
from vigil.balancer.pool import Pool

if TYPE_CHECKING:
    from vigil.balancer._proxy_client import ClientConnection

IDEMPOTENT: Final = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
# nginx's status for "the client went away" (access log and metrics only)
CLIENT_CLOSED: Final = 499
# Timer phases of an exchange
UPLOAD: Final = 0
CONNECT: Final = 1
FIRST_BYTE: Final = 2
STREAM: Final = 3
_NONE_TRIED: Final[frozenset[str]] = frozenset()


class ExchangeCore:
    """The fields of one client request across its attempts, and its endings."""

    __slots__ = (
        "attempts",
        "bytes_out",
        "client",
        "client_ip",
        "conn",
        "connecting",
        "deadline",
        "dialed",
        "done",
        "ending",
        "headers",
        "http10",
        "idempotent",
        "interim",
        "keep_alive",
        "last_io",
        "meta",
        "method",
        "out",
        "pending",
        "pending_bytes",
        "phase",
        "relayed",
        "relayed_seen",
        "replay",
        "replay_bytes",
        "replayable",
        "req_done",
        "resp",
        "router",
        "sent",
        "sent_at",
        "stale_retried",
        "started",
        "state",
        "stats",
        "status",
        "t_attempt",
        "t_start",
        "timed",
        "tried",
        "ttfb_at",
        "upstream",
        "url",
    )

    def __init__(self, client: ClientConnection, state: ProxyState) -> None:
        """An exchange of ``client``'s; :meth:`begin` gives it its request. The client keeps a
        finished one for its next request (:meth:`reusable`): no object made and freed per
        request."""
        self.client = client
        self.state = state
        self.client_ip = client.ip
        # the response ended while decoded bytes wait for the client (see decode_out); None
        # again when it is written, or the connection closes: not reset per request
        self.ending: tuple[UpstreamConnection, bool] | None = None
        self.out = client.out  # the client's list: what the last read produced, to write

    def begin(
        self,
        method: bytes,
        url: bytes,
        headers: Headers,
        meta: RequestMeta,
        keep_alive: bool,
        http10: bool,
    ) -> None:
        """Set every per-request field for a new request (on a new or a reused exchange)."""
        self.method = method
        self.url = url
        self.headers = headers
        self.meta = meta
        self.keep_alive = keep_alive
        self.http10 = http10
        self.idempotent = method in IDEMPOTENT
        self.started = self.done = self.req_done = self.interim = self.sent = False
        self.dialed = False  # an upstream connection was asked of the pool's connect()
        # body pieces waiting for the upstream connection, and those kept for a replay: made
        # with the first piece (most requests have no body: no list each)
        self.pending: list[bytes] | None = None
        self.pending_bytes = 0
        self.replayable = self.idempotent  # the body so far, if any, is in ``replay``
        self.replay: list[bytes] | None = None
        self.replay_bytes = 0
        self.router: Router | None = None
        self.upstream: Upstream | None = None
        self.stats: UpstreamStats | None = None
        self.conn: UpstreamConnection | None = None
        self.connecting: Waiter | None = None  # waiting for an upstream connection
        self.tried: frozenset[str] = _NONE_TRIED
        # sent again once after a reused connection closed unanswered (see Exchange), or a
        # 1xx came (the replica answers on that connection: it was not stale)
        self.stale_retried = False
        self.attempts = 0
        self.status = 0
        self.resp: ResponseMeta | None = None
        self.bytes_out = 0
        self.t_start = self.t_attempt = self.sent_at = self.last_io = 0.0
        # reads of whole chunks relayed, and as many when the timer last looked: a stream's
        # idle timeout counts them instead of reading the loop's time per event (Exchange)
        self.relayed = 0
        self.relayed_seen = 0
        self.ttfb_at = 0.0
        self.deadline = 0.0  # when the proxy's ticker calls on_timer (while ``timed``)
        self.timed = False
        self.phase = UPLOAD

    def reusable(self) -> bool:
        """Whether nothing can call this finished exchange any more, so the client may
        :meth:`begin` it again: its request was read whole, and no upstream connection, connect
        (whose callback a pool may still hold) or deadline refers to it."""
        return (
            self.done
            and self.req_done
            and not self.dialed
            and self.conn is None
            and self.connecting is None
            and not self.timed
        )

    def _drop_conn(self) -> None:
        """Abort the current upstream connection, or stop waiting for one."""
        self._disarm()
        if self.connecting is not None:
            self.connecting.cancel()
            self.connecting = None
        conn = self.conn
        if conn is not None:
            self.conn = None
            conn.exchange = None
            conn.abort()

    def _release(
        self,
        outcome: Outcome,
        retry_after: float | None = None,
        counted: bool = True,
        now: float = -1.0,
    ) -> None:
        """Report the attempt to the router and the metrics; ``counted`` False: not as an
        error in the metrics either (a stale connection's attempt, reported as CLIENT_ABORT:
        not the upstream's fault); ``now``: the clock's time when the caller has just read it."""
        upstream = self.upstream
        if upstream is None:
            return
        self.upstream = None
        if now < 0.0:
            now = self.state.clock()
        stats = self.stats
        assert stats is not None and self.router is not None
        stats.in_flight -= 1
        stats.duration.observe(now - self.t_attempt)
        if outcome is not Outcome.OK and counted:
            stats.error(outcome.value)
        latency = (self.ttfb_at or now) - self.t_attempt
        router = self.router
        if isinstance(router, Pool):  # compiled: a direct call, not a look-up by name
            router.release(upstream, now, outcome=outcome, latency=latency, retry_after=retry_after)
        else:
            router.release(upstream, now, outcome=outcome, latency=latency, retry_after=retry_after)

    def flush(self) -> float:
        """Write what the last read produced (once per upstream read: an event is never held);
        returns the loop's time it read then, or -1.0 when there was nothing to write."""
        out = self.out
        if out:
            self.client.write_many(out)
            out.clear()  # the transport took the pieces; the list serves the next read
            self.last_io = now = self.state.loop_time()
            return now
        return -1.0

    def send_now(self, data: bytes) -> float:
        """Write ``data`` at once, as :meth:`flush` would with it appended to what is held (a
        whole answer: no append to ``out`` and no clear of it, whose item array is freed and
        made again per request); returns the loop's time it read then."""
        out = self.out
        if out:  # (cannot be: each read's output is written at its end) kept in order anyway
            out.append(data)
            return self.flush()
        client = self.client
        if not client.closed:  # before connection_made its send discards
            client.send(data)
        self.last_io = now = self.state.loop_time()
        return now

    def _disarm(self) -> None:
        if self.timed:
            self.timed = False
            self.state.timers.discard(self)

    # -- endings -----------------------------------------------------------------------------
    def reply(self, status: int, message: str, *, retry_after: int = -1) -> None:
        """Answer with the proxy's own response (no upstream response reached the client)."""
        self.status = status
        stats = self.stats if self.stats is not None else self.state.metrics.unrouted()
        stats.status(status)
        self.out.append(
            error_response(
                status,
                message,
                request_id=self.meta.request_id,
                close=not self.keep_alive,
                retry_after=retry_after,
                no_body=self.method == b"HEAD",
                http10=self.http10,
            )
        )
        self._finish(counted=True)

    def _finish(self, *, counted: bool = False, loop_now: float = -1.0) -> None:
        """The exchange is over (``loop_now``: the loop's time when the caller has just read
        it, after writing the end of the response: nothing is left to flush then)."""
        self.done = True
        self._disarm()
        if loop_now < 0.0:
            loop_now = self.flush()
        if not self.req_done:
            # answered before the client sent its whole body: what is left is read and
            # discarded (request_body), so reading resumes if the upstream had paused it
            self.client.pause_reading_for_upstream(False)
        st = self.state
        st.active -= 1
        if st.stopping and not st.active:
            st.idle_event.set()
        if not counted and self.stats is not None:
            self.stats.status(self.status)
        if st.access_enabled(self.last_io):  # the loop time flush() just read (or earlier)
            log_access(st.access, self, st.clock() - self.t_start)
        self.client.exchange_done(self, loop_now)

    def client_lost(self) -> None:
        """The client went away: abort the upstream request so the replica stops working."""
        if self.done or not self.started:
            return
        self._drop_conn()
        self._release(Outcome.CLIENT_ABORT)
        self.done = True
        self.status = self.status or CLIENT_CLOSED
        st = self.state
        st.active -= 1
        if st.stopping and not st.active:
            st.idle_event.set()
        if st.access.isEnabledFor(20):
            log_access(st.access, self, st.clock() - self.t_start)
