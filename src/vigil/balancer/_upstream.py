"""The live state of one upstream (a replica behind the balancer) and the view policies see.

:class:`Upstream` is owned and mutated by the pool (:mod:`vigil.balancer.pool`) and the data
plane (:mod:`vigil.balancer.proxy`) on the event loop's thread; policies
(:mod:`vigil.balancer.policies`) only read it through :class:`UpstreamView`. Times are seconds
on the monotonic clock passed in by the caller.

Two latency estimates are kept, and each policy documents which one it reads:

- ``ewma_latency``: a plain EWMA, ``e <- e + alpha * (x - e)`` per completed request (least_time);
- ``peak_latency`` at ``latency_at``: Finagle's peak EWMA: a slower response raises it at once,
  faster ones pull it down with weight ``1 - exp(-elapsed / tau)``, and readers decay it towards
  zero by ``exp(-(now - latency_at) / tau)`` so an idle upstream is tried again (p2c_ewma).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class AdminState(StrEnum):
    """What the operator (or the controller's health events) asked for."""

    READY = "ready"  # takes new requests
    NOT_READY = "not_ready"  # health says no: no new requests
    DRAINING = "draining"  # no new requests; in-flight ones finish (rolling updates)
    MAINT = "maint"  # taken out by an operator


class UpstreamView(Protocol):
    """What a policy may read about an upstream. All values are plain numbers."""

    @property
    def id(self) -> str: ...
    @property
    def weight(self) -> float: ...  # effective weight (slow start applied), > 0
    @property
    def in_flight(self) -> int: ...
    @property
    def ewma_latency(self) -> float: ...  # seconds, plain EWMA (0.0: nothing measured yet)
    @property
    def peak_latency(self) -> float: ...  # seconds, peak EWMA as of ``latency_at``
    @property
    def latency_at(self) -> float | None: ...  # when ``peak_latency`` was last updated
    @property
    def oldest_pending(self) -> float | None: ...  # start time of the oldest in-flight request
    @property
    def peers_answered_at(
        self,
    ) -> float | None: ...  # latest answer to another worker (None: alone)
    @property
    def last_error_at(self) -> float | None: ...
    @property
    def retry_after_until(self) -> float | None: ...  # from a 429/503 Retry-After


@dataclass
class Upstream:
    """One replica behind the balancer, with its counters. Mutable, single-threaded."""

    id: str
    host: str
    port: int
    configured_weight: float = 1.0
    weight: float = 1.0  # effective weight: configured_weight with slow start applied, by the pool
    state: AdminState = AdminState.READY
    healthy: bool = True  # the controller's readiness verdict; eligible only if READY and healthy
    in_flight: int = 0
    ewma_latency: float = 0.0  # plain EWMA (see the module docstring)
    last_error_at: float | None = None
    retry_after_until: float | None = None
    # outlier ejection
    consecutive_failures: int = 0
    ejected_until: float | None = None  # kept after it passes: the growth of ejection times decays
    ejections: int = 0
    probation: bool = False  # back from an ejection: the first result decides
    # slow start: weight ramps from a small share to configured_weight after (re)admission
    admitted_at: float | None = None
    slow_start: float = 0.0
    # totals for metrics
    requests: int = 0
    errors: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    # peak EWMA (see the module docstring) and the start times of in-flight requests, oldest first
    peak_latency: float = 0.0
    latency_at: float | None = None
    pending: deque[float] = field(default_factory=deque, repr=False)
    # set only by the counts shared between worker processes (vigil.balancer._pool_shared), as
    # of the pool's last look: the oldest start of a request in flight from any worker (None:
    # none), and the time of the latest answer another worker got (None: not shared)
    shared_oldest: float | None = field(default=None, repr=False)
    peers_answered_at: float | None = field(default=None, repr=False)

    @property
    def oldest_pending(self) -> float | None:
        """Start time of the oldest request still in flight (None: nothing in flight); over
        every worker when the pool shares its counts."""
        if self.peers_answered_at is not None:
            return self.shared_oldest
        return self.pending[0] if self.pending else None

    def ejected(self, now: float) -> bool:
        """True while outlier ejection keeps this upstream out."""
        return self.ejected_until is not None and now < self.ejected_until


class Outcome(StrEnum):
    """How one proxied attempt ended, as the data plane reports it to the pool."""

    OK = "ok"  # any response that is not an upstream failure (2xx-4xx except 429)
    SERVER_ERROR = "server_error"  # 5xx other than 503
    OVERLOADED = "overloaded"  # 429 or 503 (honour Retry-After)
    CONNECT_ERROR = "connect_error"  # unreachable, reset or closed before a response
    REFUSED = "refused"  # connection refused: nothing listens on the port (the process is gone)
    TIMEOUT = "timeout"  # connect, first-byte or idle timeout
    PROTOCOL_ERROR = "protocol_error"  # the upstream sent garbage: eject, do not trust
    CLIENT_ABORT = "client_abort"  # the client went away; not the upstream's fault


class Router(Protocol):
    """What the data plane needs from the pool: pick an upstream, and report how it went.

    Implemented by :class:`vigil.balancer.pool.Pool`. Single-threaded (the event loop).
    """

    def acquire(
        self, now: float, key: str | None = None, exclude: frozenset[str] = frozenset()
    ) -> Upstream | None:
        """Choose an upstream for a new request by the pool's policy (None: none available);
        counts it in flight. ``key`` is the affinity key for consistent hashing; ``exclude``
        holds upstreams already tried by this request (retries go elsewhere)."""
        ...

    def release(
        self,
        upstream: Upstream,
        now: float,
        *,
        outcome: Outcome,
        latency: float,
        retry_after: float | None = None,
    ) -> None:
        """The attempt on ``upstream`` ended: update in-flight, latency EWMA, errors, ejection.

        Call it exactly once per successful :meth:`acquire`, when the attempt ends. ``latency``
        is the seconds the upstream took to answer: the whole response for ordinary requests,
        the time to the first byte for streams (token streams last as long as the generation)."""
        ...

    def retry_after(self, now: float) -> float:
        """Seconds a client should wait when no upstream is available (for ``Retry-After``)."""
        ...


class RetryGate(Protocol):
    """The pool-level retry budget, kept apart from :class:`Router` so that routers which do not
    budget retries still fit. :class:`vigil.balancer.pool.Pool` implements both."""

    def retry_allowed(self, now: float) -> bool:
        """Whether the retry budget allows one more retry now (takes a token if so)."""
        ...

    def note_request(self, now: float) -> None:
        """Count one new client request (not a retry) into the retry budget."""
        ...
