"""Settings and shared state of one :class:`~vigil.balancer.proxy.Proxy` instance.

Every client connection of a proxy holds the same :class:`ProxyState`: the settings, how to find
the router of a request, the upstream connection pool, the retry budget, the metrics and the
access logger. Built by :class:`vigil.balancer.proxy.Proxy`; read by
:mod:`vigil.balancer._proxy_client` and :mod:`vigil.balancer._proxy_exchange`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any, Final, Protocol

from vigil.balancer._http_headers import Headers, RequestIds
from vigil.balancer._proxy_connpool import UpstreamPool
from vigil.balancer._proxy_metrics import ProxyMetrics
from vigil.balancer._proxy_trust import trusted_networks
from vigil.balancer._upstream import Router

ACCESS_LOGGER: Final = "vigil.balancer.access"
# Seconds between two reads of whether the access log is on (see ProxyState.access_enabled).
ACCESS_RECHECK: Final = 0.1


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """Timeouts, limits and retry rules of the data plane. Every field has a working default."""

    connect_timeout: float = 2.0
    """Seconds to open a TCP connection to an upstream; then the attempt fails (retried)."""
    first_byte_timeout: float = 300.0
    """Seconds from the request being sent to the response head; then 504 (not retried: the
    replica may be generating, and retrying would double the GPU work). Long prompts are slow."""
    idle_timeout: float = 60.0
    """Seconds without a byte from the upstream while a response streams; then both are closed."""
    client_timeout: float = 60.0
    """Seconds a client connection may stay idle (keep-alive) or take to send a request head
    (watched by a sweep every quarter of it, at most every second: closed up to that later)."""
    max_retries: int = 2
    """Extra attempts per request, each on a replica not yet tried."""
    retry_budget_ratio: float = 0.2
    """Retries allowed as a share of requests when the router has no ``retry_allowed``."""
    retry_budget_burst: float = 10.0
    """Retries that may be spent at once before the ratio applies (the bucket's size)."""
    retry_body_limit: int = 64 * 1024
    """An idempotent request whose body fits is kept so it can be replayed on another replica;
    so is any request that fits and was written to the replica whole, for ``retry_on_reset``."""
    retry_on_reset: bool = True
    """Retry a request that is not idempotent (POST, PATCH) on another replica when the replica
    reset the connection (``ECONNRESET``) before any response byte: the kernel resets a socket
    closed with data unread, so the replica's program never read the whole request (a process
    killed with the request still in its socket; a server that read a request and died closes
    with FIN, and that stays an error). Only a request written whole in one write and held by
    the proxy (``retry_body_limit``) qualifies, never after a 1xx. Turn it off if a replica
    resets connections on purpose (``SO_LINGER`` 0) after handling a request without answering,
    or acts on a request's head before reading its body: such a request would run twice."""
    max_header_bytes: int = 32 * 1024
    """Request line plus headers beyond this get 431 (414 for the URL alone)."""
    max_pending_bytes: int = 256 * 1024
    """Request body bytes buffered while the upstream connection opens before reading pauses."""
    upstream_max_idle: int = 1024
    """Idle keep-alive connections kept per upstream. Idle ones expire after
    ``upstream_idle_timeout``, so what is kept follows the recent peak of concurrent requests;
    the cap only bounds it. Below the peak, every burst past the cap closes connections that the
    next burst opens again (at 256, ``wrk -c1000`` through one worker opened 2,000 extra)."""
    upstream_idle_timeout: float = 4.0
    """Seconds an idle upstream connection is kept. Below uvicorn's 5 s keep-alive so that the
    proxy, not the server, closes it (a server-side close races with a new request)."""
    upstream_warm_for: float = 60.0
    """Seconds after an idle upstream connection last carried a response during which it is
    renewed (closed and reopened) instead of expiring, so a burst after a pause finds as many
    warm connections as the recent peak used. 0: idle connections simply expire."""
    affinity_header: str | None = None
    """Request header whose value is the router's consistent-hashing key (session affinity)."""
    forwarded_proto: str = "http"
    """The value of ``X-Forwarded-Proto`` (set to ``https`` behind a TLS terminator)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or CIDR blocks (``10.0.0.0/8``) of the proxies in front: only from such a peer
    are ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port``, ``Forwarded`` and ``X-Real-IP``
    passed on (``X-Forwarded-For`` with the peer appended, its rightmost address not trusted
    the client's in the access log and ``router_for``). From any other peer they are dropped;
    ``X-Forwarded-For`` is the peer alone, ``X-Forwarded-Proto`` is ``forwarded_proto``."""
    answer_half_closed: bool = False
    """Answer the requests a client sent whole before its FIN (a half-close,
    ``shutdown(SHUT_WR)``), as HAProxy does. Off: a FIN is a client gone, and its request is
    aborted at once (nginx's default): a close and a half-close look the same on the wire, and
    a client that timed out and went away would otherwise keep a replica generating for
    nobody until the answer is written (a whole generation for a non-streamed answer)."""
    allow_trace: bool = False
    """Forward ``TRACE`` requests. Off: answered 405 with ``Allow`` (nginx's answer): an
    upstream that echoes a TRACE reflects the headers proxies in front added (cookies,
    ``Authorization``) to whoever sent it (cross-site tracing)."""
    backlog: int = 4096
    """``listen()`` backlog; bursts of new connections beyond it are refused by the kernel."""

    def __reduce__(self) -> tuple[type[ProxySettings], tuple[Any, ...]]:
        """Pickled as a constructor call (worker processes get their settings this way): compiled
        by mypyc, a frozen dataclass cannot be restored field by field."""
        return (ProxySettings, astuple(self))


class RequestInfo(Protocol):
    """What a ``router_for`` callable may read to choose the router (service) of a request."""

    @property
    def method(self) -> bytes: ...
    @property
    def url(self) -> bytes: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def client_ip(self) -> bytes: ...


RouterFor = Callable[[RequestInfo], Router | None]


class Timed(Protocol):
    """Something with a deadline the proxy's ticker watches (an exchange)."""

    deadline: float  # on the loop's clock
    timed: bool  # in ProxyState.timers

    def on_timer(self) -> None: ...


class Swept(Protocol):
    """A client connection, whose timeouts the proxy's sweep watches."""

    def sweep(self, now: float) -> None: ...


class RetryBudget:
    """A token bucket: each request earns ``ratio`` of a retry, each retry spends one.

    Used when the router does not expose ``retry_allowed(now)``. Capped at ``burst`` so a quiet
    period cannot save up a retry storm.
    """

    __slots__ = ("burst", "ratio", "tokens")

    def __init__(self, ratio: float, burst: float) -> None:
        self.ratio = ratio
        self.burst = burst
        self.tokens = burst

    def deposit(self) -> None:
        tokens = self.tokens + self.ratio
        self.tokens = tokens if tokens < self.burst else self.burst

    def retry_allowed(self, now: float) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class ProxyState:
    """What all connections of one proxy share."""

    def __init__(
        self,
        *,
        settings: ProxySettings,
        router: Router | None,
        router_for: RouterFor,
        clock: Callable[[], float],
        metrics: ProxyMetrics,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.settings = settings
        self.router = router  # the one router, or None: ask router_for per request
        self.router_for = router_for
        self.clock = clock
        self.metrics = metrics
        self.loop = loop
        self.loop_time: Callable[[], float] = loop.time  # bound once: read once per event
        self.ids = RequestIds()
        self.proto = settings.forwarded_proto.encode()
        # the last client address a connection came from and its (bytes, proxy lines): a burst
        # of new connections from one address (a client's pool, a load balancer in front)
        # finds them by one compare, not a look-up in _proxy_client's cache (ClientConnection)
        self.peer_host = ""
        self.peer_lines: tuple[bytes, bytes] = (b"", b"")
        self.affinity = (
            settings.affinity_header.lower().encode() if settings.affinity_header else None
        )
        self.trusted = trusted_networks(settings.trusted_proxies)
        self.budget = RetryBudget(settings.retry_budget_ratio, settings.retry_budget_burst)
        self.pool = UpstreamPool(
            loop,
            max_idle=settings.upstream_max_idle,
            idle_timeout=settings.upstream_idle_timeout,
            warm_for=settings.upstream_warm_for,
        )
        self.pool.on_refused = self._refused
        self.access = logging.getLogger(ACCESS_LOGGER)
        self.access_on = False  # the last answer of access_enabled()
        self.access_due = 0.0  # the loop time from which access_enabled() asks the logger again
        self.clients: set[Swept] = set()  # live client connections (stop(), the sweep)
        # exact balance (workers_balance: exact): the workers' shared table of counts and this
        # worker's cell in it; a client connection that closes stores len(clients) there at once
        # (one aligned 8-byte store of an int64, _proxy_client), so the siblings need not wait
        # for a beat. Set and cleared by ConnectionShare.start/close (_proxy_balance).
        self.published: memoryview[int] | None = None
        self.published_at = 0
        # connections the balanced listener accepted whose connection_made has not run yet
        # (same or next loop iteration): the count stored at close adds them, or it would read
        # low until the next accept or beat (branch suspect20). Set by ConnectionShare.
        self.unmade = 0
        self.active = 0  # exchanges in progress
        self.stopping = False
        self.idle_event = asyncio.Event()
        # Exchange timeouts: one ticker for the whole proxy instead of a loop timer armed and
        # cancelled per request (uvloop's call_later + cancel: ~4% of a proxied request's
        # instructions). A timeout fires at most one tick late; the tick is a quarter of the
        # shortest timeout, at most 0.1 s. The ticker only runs while something is watched.
        self.timers: set[Timed] = set()
        shortest = min(settings.connect_timeout, settings.first_byte_timeout, settings.idle_timeout)
        self.tick = min(0.1, max(shortest / 4, 0.001))  # never a busy loop on a 0 timeout
        self._ticker: asyncio.TimerHandle | None = None
        # Client connections' timeouts: one sweep over the live connections every client_tick
        # seconds while there are any, instead of a loop timer per connection (call_later, its
        # cancel and the timer's close: ~5,000 of the ~94,000 instructions a new connection
        # cost, bench/stream_setup.py). A client timeout fires at most one tick late.
        self.client_tick = min(1.0, max(settings.client_timeout / 4, 0.001))
        self._sweeper: asyncio.TimerHandle | None = None

    def _refused(self, key: tuple[str, int]) -> None:
        """A liveness check found nothing listening at ``key``: tell the router, if it can
        eject by address (:meth:`vigil.balancer.pool.Pool.unreachable`). With a router per
        request (``router_for``), the requests' own refusals do it."""
        report = getattr(self.router, "unreachable", None)
        if report is not None:
            report(key[0], key[1], self.clock())

    def access_enabled(self, now: float) -> bool:
        """Whether the access log is on (INFO enabled), asked of the logger at most once per
        :data:`ACCESS_RECHECK` seconds of loop time ``now`` and at the next request end after a
        client connects: ``Logger.isEnabledFor`` is an interpreted call, ~3 % of a proxied
        request's instructions. Switching the log on takes effect within 0.1 s (at once for new
        connections); switched off, ``Logger.info`` itself drops the lines."""
        if now >= self.access_due:
            self.access_on = self.access.isEnabledFor(logging.INFO)
            self.access_due = now + ACCESS_RECHECK
        return self.access_on

    def arm(self, item: Timed) -> None:
        """Watch ``item`` until its ``deadline`` passes (then ``on_timer``) or it is discarded."""
        self.timers.add(item)
        if self._ticker is None:
            self._ticker = self.loop.call_later(self.tick, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        timers = self.timers
        for item in [t for t in timers if t.deadline <= now]:
            if item.timed and item.deadline <= now:  # an earlier on_timer may have changed it
                item.timed = False
                timers.discard(item)
                item.on_timer()
        self._ticker = self.loop.call_later(self.tick, self._tick) if timers else None

    def watch_clients(self) -> None:
        """Run the sweep of :attr:`clients` (a connection was just added), if it is not running."""
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.client_tick, self._sweep)

    def _sweep(self) -> None:
        now = self.loop.time()
        for client in list(self.clients):  # a sweep may close connections (removed later)
            client.sweep(now)
        self._sweeper = None
        if self.clients:
            self._sweeper = self.loop.call_later(self.client_tick, self._sweep)

    def stop_ticker(self) -> None:
        """Stop the exchanges' ticker and the clients' sweep (the proxy stopped)."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
