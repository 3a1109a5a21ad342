"""The knobs of one balancer pool, and the status row the pool reports per upstream.

:class:`PoolSettings` is built by the controller from the service's balancer settings and passed
to :class:`vigil.balancer.pool.Pool`; :class:`UpstreamStatus` rows are what
:meth:`Pool.snapshot` returns to the API (``GET /balance_load``, the per-replica views).
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.balancer.policies._hash import LOAD_FACTOR
from vigil.balancer.policies._p2c import DECAY


@dataclass(frozen=True)
class PoolSettings:
    """How one pool balances, ejects and ramps its upstreams. Every field has a default."""

    policy: str = "p2c_ewma"
    """Balancing policy by name (see :func:`vigil.balancer.policies.policy_names`)."""

    failure_threshold: int = 5
    """Consecutive failure points that eject an upstream (Envoy's ``consecutive_5xx`` is 5). A
    5xx or a timeout is 1 point, a reset or unreachable connect half the threshold (two in a row
    are proof enough), a refused connection the whole threshold (nothing listens on the port:
    the process is gone, and waiting for a second refusal left a dead replica in the rotation
    for as long as the policy took to pick it again, 249 ms once in ``bench/balance_faults.py``),
    and so does a protocol error (an upstream that sends garbage is not trusted again until its
    ejection ends)."""

    eject_base: float = 10.0
    """First ejection time in seconds; the k-th consecutive ejection lasts ``k * eject_base``.
    Shorter than Envoy's 30 s because an upstream back from ejection is on probation: its first
    result decides, so a premature return costs one request."""

    eject_max: float = 300.0
    """Cap on an ejection's length; also, after this long without an ejection the count resets."""

    max_ejection_percent: float = 50.0
    """At most this share of the ready upstreams is ejected at once (and never the last one):
    when half a pool fails at once the fault is more likely the clients' or the network's."""

    slow_start: float = 30.0
    """Seconds over which a (re)admitted upstream's weight ramps linearly to its configured
    weight, so a cold replica (empty caches, lazy CUDA init) is not flooded. 0 disables it."""

    slow_start_floor: float = 0.1
    """Share of the configured weight an upstream starts its ramp with."""

    ewma_alpha: float = 0.2
    """Weight of each new latency in the plain EWMA read by ``least_time``."""

    peak_decay: float = DECAY
    """Time constant (seconds) of the peak EWMA, and of the decay of ``p2c_ewma``'s learned
    delays while an upstream answers nothing."""

    hash_load_factor: float = LOAD_FACTOR
    """``c`` of consistent hashing with bounded loads."""

    default_retry_after: float = 1.0
    """Seconds an upstream is skipped after a 429/503 that carries no ``Retry-After``."""

    retry_ratio: float = 0.2
    """Retries the budget allows per client request (Finagle's ``percentCanRetry``)."""

    retry_floor: float = 5.0
    """Retries per second the budget always allows, so a quiet service can still retry."""

    retry_burst: float = 20.0
    """Most retries the budget can save up."""


@dataclass(frozen=True)
class UpstreamStatus:
    """One upstream as the API shows it; :meth:`Pool.snapshot` ranks them by ``share``."""

    id: str
    address: str  # host:port
    state: str  # the admin state: ready, not_ready, draining, maint
    eligible: bool  # would take a new request now (ready, not ejected, not in Retry-After)
    weight: float  # configured
    effective_weight: float  # with slow start applied
    in_flight: int
    ewma_latency: float  # seconds, plain EWMA
    peak_latency: float  # seconds, peak EWMA decayed to now
    ejected_until: float | None  # None unless ejected now
    ejections: int
    requests: int
    errors: int
    share: float  # of new requests, by the pool's policy (0 when not eligible)
