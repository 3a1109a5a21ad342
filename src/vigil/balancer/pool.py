"""The upstreams of one service, their health and admin state, and the choice for each request.

:class:`Pool` implements :class:`~vigil.balancer._upstream.Router` for the proxy data plane
(:mod:`vigil.balancer.proxy`: ``acquire`` / ``release`` around each attempt, ``retry_allowed``
and ``note_request`` for the retry budget, ``retry_after`` for 503s). The controller feeds it
membership (``set_upstreams``, ``add``, ``remove``) and health (``set_health``); the API sets
admin states and weights (``set_state``, ``set_weight``) and reads ``snapshot``. Every change
applies to the next ``acquire``; requests in flight are never cut. Single-threaded (the event
loop), and the clock is passed in, so tests and ``bench/balance_sim.py`` run it on fake time.

An upstream is *eligible* when its admin state is ``ready``, the controller finds it healthy, it
is not ejected, not inside a 429/503 ``Retry-After``, and not on probation with its trial request
still in flight. Passive outlier ejection: consecutive failures (see
:func:`~vigil.balancer._pool_health.failure_points`) eject an upstream for ``k * eject_base``
seconds (k-th ejection in a row, capped at ``eject_max``), never more than
``max_ejection_percent`` of the ready upstreams and never the last one; when the time is up it
gets one trial request and that result decides (success: slow start; failure: ejected again).

Worker processes of one balancer (``balancer.workers`` above 1) each hold a pool; :meth:`Pool.share`
attaches the counts they share (:mod:`vigil.balancer._pool_shared`), after which ``in_flight``
and ``oldest_pending`` as the policy reads them are over every worker (refreshed just before
each pick), with ``peers_answered_at`` the latest answer another worker got, while probation
and :meth:`Pool.drained` go by this process's own requests; and a policy that learns
(p2c_ewma's ``share_models``) is given what every worker's policy has learned
(:mod:`vigil.balancer._pool_learned`).
Without it (one process) nothing changes and nothing is paid.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Final

from vigil.balancer._pool_budget import RetryBudget
from vigil.balancer._pool_health import (
    FAILURES,
    eject,
    failure_points,
    observe_latency,
    ramp_weight,
    status_of,
)
from vigil.balancer._pool_learned import SharedLearned
from vigil.balancer._pool_settings import PoolSettings, UpstreamStatus
from vigil.balancer._pool_shared import SharedInFlight
from vigil.balancer._upstream import AdminState, Outcome, Upstream
from vigil.balancer.policies import Learner, Policy, make_policy
from vigil.balancer.policies._p2c import PeakEwmaP2C
from vigil.balancer.policies._p2c_pooled import PARTS
from vigil.balancer.policies._rotation import RoundRobin, SmoothWeighted
from vigil.errors import InputError, NotFoundError

# A deque's methods, called through these (compiled, ``upstream.pending.append(now)`` looks the
# method up by name at every call, ~150 instructions; the descriptor is called directly)
_PENDING_ADD: Final = deque.append
_PENDING_DONE: Final = deque.popleft


class Pool:
    """The upstreams of one service behind the balancer, and the policy that picks among them.

    ``upstreams`` given at creation start at full weight (no slow start); later additions and
    returns to service ramp up. ``rng`` drives the random choices (seed it in tests).
    """

    def __init__(
        self,
        upstreams: Iterable[Upstream] = (),
        settings: PoolSettings | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or PoolSettings()
        self._rng = rng or random.Random()
        self._policy = self._make_policy(self.settings.policy)
        self._learner = self._policy if isinstance(self._policy, Learner) else None
        self._p2c: PeakEwmaP2C | None = (
            self._policy if isinstance(self._policy, PeakEwmaP2C) else None
        )
        self._counted = _reads_counts(self._policy)
        # read per release: PoolSettings is a frozen dataclass, not compiled (a look-up by name)
        self._alpha = self.settings.ewma_alpha
        self._decay = self.settings.peak_decay
        self._budget = RetryBudget(
            self.settings.retry_ratio, self.settings.retry_floor, self.settings.retry_burst
        )
        self._upstreams: dict[str, Upstream] = {}
        # the same upstreams in the same order, as a list (made again at each add and remove):
        # compiled, eligible() walks it natively, where a dict's values are an iterator whose
        # every step is a call (~140 instructions per upstream per request)
        self._members: list[Upstream] = []
        self._ramping: dict[str, Upstream] = {}
        self._shared: SharedInFlight | None = None
        self._learned: SharedLearned | None = None
        for upstream in upstreams:
            upstream.slow_start = self.settings.slow_start
            upstream.weight = upstream.configured_weight
            self._upstreams[upstream.id] = upstream
        self._members = list(self._upstreams.values())

    # -- membership and admin state (controller, API) ---------------------------------------

    @property
    def policy(self) -> Policy:
        """The balancing policy in use."""
        return self._policy

    @property
    def shared(self) -> SharedInFlight | None:
        """The in-flight counts shared with the other workers (None: this process alone)."""
        return self._shared

    def share(self, shared: SharedInFlight, learned: frozenset[str] = PARTS) -> None:
        """Read every upstream's in-flight count over all the workers from now on, and publish
        this pool's own; with ``learned`` (the parts of p2c_ewma's models to pool,
        :data:`~vigil.balancer.policies._p2c_pooled.PARTS`; empty: none) its policy also
        reads and publishes what the workers have learned. Call it before the first request;
        every upstream held must have a slot (InputError naming ``balancer.upstreams``
        otherwise)."""
        if any(u.in_flight for u in self._upstreams.values()):
            raise RuntimeError("Pool.share: requests are in flight already; share before serving")
        missing = [uid for uid in self._upstreams if shared.slot(uid) < 0]
        if missing:
            raise InputError(
                f"balancer.upstreams: {', '.join(map(repr, missing))} have no slot in the shared "
                "in-flight counts (the parent assigns them; pass every upstream to Workers.launch)"
            )
        self._shared = shared
        self._learned = SharedLearned(shared, learned) if learned else None
        self._attach()

    def set_policy(self, name: str) -> None:
        """Switch to the policy named ``name`` (UnknownPolicyError if there is none)."""
        self._policy = self._make_policy(name)
        self._learner = self._policy if isinstance(self._policy, Learner) else None
        self._p2c = self._policy if isinstance(self._policy, PeakEwmaP2C) else None
        self._counted = _reads_counts(self._policy)
        self._attach()

    def __iter__(self) -> Iterator[Upstream]:
        return iter(list(self._upstreams.values()))

    def __len__(self) -> int:
        return len(self._upstreams)

    def get(self, upstream_id: str) -> Upstream:
        """The upstream with this id (NotFoundError if there is none)."""
        try:
            return self._upstreams[upstream_id]
        except KeyError:
            raise NotFoundError("upstream", upstream_id) from None

    def set_upstreams(self, upstreams: Iterable[Upstream], now: float) -> None:
        """Make the pool hold exactly ``upstreams``. An upstream already held with the same id,
        host and port keeps its object (state, weight, counters); the others are added (slow
        start) or removed (requests in flight on them finish)."""
        wanted = {u.id: u for u in upstreams}
        for upstream_id in list(self._upstreams):
            old = self._upstreams[upstream_id]
            new = wanted.get(upstream_id)
            if new is None or (new.host, new.port) != (old.host, old.port):
                self.remove(upstream_id)
        for upstream_id, upstream in wanted.items():
            if upstream_id not in self._upstreams:
                self.add(upstream, now)

    def add(self, upstream: Upstream, now: float) -> None:
        """Add an upstream (replacing one with the same id); it ramps up if the pool was not
        empty, so a new replica is not flooded while its neighbours are warm."""
        warm = bool(self._upstreams)
        self._upstreams.pop(upstream.id, None)
        self._ramping.pop(upstream.id, None)
        upstream.slow_start = self.settings.slow_start
        self._upstreams[upstream.id] = upstream
        self._members = list(self._upstreams.values())
        if self._shared is not None:
            self._shared.slot(upstream.id)  # re-reads the names for one added since
        if warm and self._serving(upstream):
            self._admit(upstream, now)
        else:
            upstream.weight = upstream.configured_weight

    def remove(self, upstream_id: str) -> Upstream:
        """Take the upstream out; requests in flight on it still finish (and are released)."""
        upstream = self.get(upstream_id)
        del self._upstreams[upstream_id]
        self._members = list(self._upstreams.values())
        self._ramping.pop(upstream_id, None)
        return upstream

    def set_state(self, upstream_id: str, state: AdminState, now: float) -> None:
        """Set the admin state (API: drain, maint, ready); applies to the next request."""
        upstream = self.get(upstream_id)
        before = self._serving(upstream)
        upstream.state = AdminState(state)
        self._serving_changed(upstream, before, now)

    def set_health(self, upstream_id: str, healthy: bool, now: float) -> None:
        """The controller's readiness verdict. Kept apart from the admin state, so that a
        replica an operator put in maint stays there when its probes pass."""
        upstream = self.get(upstream_id)
        before = self._serving(upstream)
        upstream.healthy = healthy
        self._serving_changed(upstream, before, now)

    def set_weight(self, upstream_id: str, weight: float, now: float) -> None:
        """Set the configured weight (> 0); a ramp in progress scales with it."""
        if not (weight > 0.0 and math.isfinite(weight)):
            raise InputError(f"weight of upstream {upstream_id!r}: must be > 0 (got {weight})")
        upstream = self.get(upstream_id)
        upstream.configured_weight = weight
        if not ramp_weight(upstream, now, self.settings.slow_start_floor):
            self._ramping.pop(upstream_id, None)

    def drained(self, upstream_id: str) -> bool:
        """True when nothing is in flight on the upstream (a draining one may then be stopped);
        with shared counts, nothing from this process."""
        upstream = self.get(upstream_id)
        return (upstream.in_flight if self._shared is None else self._shared.own(upstream)) == 0

    # -- the data plane (Router) ------------------------------------------------------------

    def eligible(self, now: float, exclude: frozenset[str] = frozenset()) -> list[Upstream]:
        """The upstreams that may take a new request now, in pool order."""
        result = []
        for upstream in self._members:
            if upstream.state is not AdminState.READY or not upstream.healthy:
                continue
            if upstream.ejected_until is not None and now < upstream.ejected_until:
                continue
            if upstream.retry_after_until is not None and now < upstream.retry_after_until:
                continue
            if upstream.probation and self._trial_out(upstream):
                continue  # its trial request is still out
            if exclude and upstream.id in exclude:
                continue
            result.append(upstream)
        return result

    def acquire(
        self, now: float, key: str | None = None, exclude: frozenset[str] = frozenset()
    ) -> Upstream | None:
        """Choose an upstream for a new request by the policy, and count it in flight."""
        if self._ramping:
            self._ramp(now)
        candidates = self.eligible(now, exclude)
        if not candidates:
            return None
        shared = self._shared
        if shared is not None and self._counted:
            # every worker's counts read for the pick (a rotation's picks do not read them:
            # nor do its releases re-read them; snapshot() reads them all)
            shared.refresh(candidates)
        # The two policies of the plain path are called natively (compiled, a direct C call;
        # through the Policy protocol, a look-up by name and keyword parsing per request).
        policy = self._policy
        if isinstance(policy, RoundRobin):  # noqa: SIM114 (one branch per narrowed type)
            index = policy.select(candidates, now=now, rng=self._rng, key=key)
        elif isinstance(policy, PeakEwmaP2C):
            index = policy.select(candidates, now=now, rng=self._rng, key=key)
        else:
            index = policy.select(candidates, now=now, rng=self._rng, key=key)
        if index is None:
            return None
        upstream = candidates[index]
        learner = self._learner
        if learner is not None:
            p2c = self._p2c  # typed as the class: a native call (the Learner protocol is not)
            if p2c is not None:
                p2c.started(upstream, now)
            else:
                learner.started(upstream, now)
        upstream.in_flight += 1
        upstream.requests += 1
        _PENDING_ADD(upstream.pending, now)
        if shared is not None:
            shared.started(upstream)
        return upstream

    def release(
        self,
        upstream: Upstream,
        now: float,
        *,
        outcome: Outcome,
        latency: float,
        retry_after: float | None = None,
    ) -> None:
        """The attempt ended: update in-flight, latency, errors, Retry-After and ejection."""
        upstream.in_flight = max(upstream.in_flight - 1, 0)
        if upstream.pending:
            _PENDING_DONE(upstream.pending)
        if self._shared is not None:
            self._shared.finished(upstream, now, outcome is not Outcome.CLIENT_ABORT, self._counted)
        # an OK answer (most of them) is told apart by identity: no hashing of the enum member
        ok = outcome is Outcome.OK
        failed = not ok and (outcome in FAILURES or outcome is Outcome.OVERLOADED)
        learner = self._learner
        if learner is not None:
            seen = None if outcome is Outcome.CLIENT_ABORT else latency
            p2c = self._p2c
            if p2c is not None:  # natively, as in acquire
                p2c.finished(upstream, now, seen, failed)
            else:
                learner.finished(upstream, now, seen, failed)
        if outcome is Outcome.CLIENT_ABORT:
            return
        settings = self.settings
        observe_latency(
            upstream,
            now,
            latency,
            alpha=self._alpha,
            decay=self._decay,
            failed=failed,
        )
        if ok:
            upstream.consecutive_failures = 0
            if upstream.probation and not upstream.ejected(now):
                upstream.probation = False
                if self._upstreams.get(upstream.id) is upstream:  # not removed meanwhile
                    self._admit(upstream, now)
            return
        upstream.errors += 1
        upstream.last_error_at = now
        if outcome is Outcome.OVERLOADED:
            wait = retry_after if retry_after is not None else settings.default_retry_after
            upstream.retry_after_until = now + max(wait, 0.0)
            return
        if self._upstreams.get(upstream.id) is not upstream or upstream.ejected(now):
            return  # a late answer from before the ejection, or from a removed upstream
        self._count_failure(upstream, outcome, now)

    def unreachable(self, host: str, port: int, now: float) -> None:
        """Nothing listens at ``host:port``, found outside a request (the proxy checks when an
        upstream closes a connection unasked): eject the upstreams there as a refused attempt
        would, within the ejection cap."""
        for upstream in self._upstreams.values():
            if upstream.host != host or upstream.port != port:
                continue
            if self._serving(upstream) and not upstream.ejected(now):
                self._count_failure(upstream, Outcome.REFUSED, now)

    def _count_failure(self, upstream: Upstream, outcome: Outcome, now: float) -> None:
        """Add the failure's points (:func:`failure_points`); eject at the threshold, or at
        once on probation."""
        threshold = self.settings.failure_threshold
        upstream.consecutive_failures += failure_points(outcome, threshold)
        if upstream.probation or upstream.consecutive_failures >= threshold:
            self._eject(upstream, now)

    def retry_after(self, now: float) -> float:
        """Whole seconds (>= 1) until the first ready upstream held back by an ejection or a
        ``Retry-After`` may take requests again; 1 if none is held back that way."""
        waits = [
            until - now
            for u in self._upstreams.values()
            if u.state is AdminState.READY and u.healthy
            for until in (u.ejected_until, u.retry_after_until)
            if until is not None and until > now
        ]
        return float(max(1, math.ceil(min(waits)))) if waits else 1.0

    def retry_allowed(self, now: float) -> bool:
        """Whether the retry budget allows one more retry now; takes a token if so."""
        return self._budget.allow(now)

    def note_request(self, now: float) -> None:
        """Count one new client request (not a retry) into the retry budget."""
        self._budget.note_request(now)

    # -- the API's view ---------------------------------------------------------------------

    def snapshot(self, now: float) -> list[UpstreamStatus]:
        """Every upstream with its state and the share of new requests the policy would give
        it now (:meth:`Policy.shares` over the eligible ones), highest share first."""
        if self._ramping:
            self._ramp(now)
        if self._shared is not None:  # every worker's requests, as of now
            self._shared.refresh(list(self._upstreams.values()))
        candidates = self.eligible(now)
        shares = dict(
            zip(
                (u.id for u in candidates),
                self._policy.shares(candidates, now=now),
                strict=True,
            )
        )
        decay = self.settings.peak_decay
        rows = [status_of(u, now, shares.get(u.id), decay) for u in self._upstreams.values()]
        rows.sort(key=lambda row: (-row.share, row.id))
        return rows

    # -- internals --------------------------------------------------------------------------

    def _make_policy(self, name: str) -> Policy:
        return make_policy(
            name, decay=self.settings.peak_decay, load_factor=self.settings.hash_load_factor
        )

    def _attach(self) -> None:
        """Give the policy what the workers have learned, if it can use it (p2c_ewma)."""
        if self._learned is not None:
            hook = getattr(self._policy, "share_models", None)
            if hook is not None:
                hook(self._learned)

    def _trial_out(self, upstream: Upstream) -> bool:
        """Whether this process has a request out on ``upstream`` (its probation trial)."""
        if self._shared is None:
            return upstream.in_flight > 0
        return self._shared.own(upstream) > 0

    @staticmethod
    def _serving(upstream: Upstream) -> bool:
        return upstream.state is AdminState.READY and upstream.healthy

    def _serving_changed(self, upstream: Upstream, before: bool, now: float) -> None:
        if self._serving(upstream) and not before:
            # back in service (a restart, an operator): a fresh start, ramping up
            upstream.consecutive_failures = 0
            upstream.ejected_until = None
            upstream.ejections = 0
            upstream.probation = False
            upstream.retry_after_until = None
            self._admit(upstream, now)
        elif before and not self._serving(upstream):
            self._ramping.pop(upstream.id, None)

    def _admit(self, upstream: Upstream, now: float) -> None:
        upstream.admitted_at = now
        if ramp_weight(upstream, now, self.settings.slow_start_floor):
            self._ramping[upstream.id] = upstream

    def _ramp(self, now: float) -> None:
        floor = self.settings.slow_start_floor
        done = [u.id for u in self._ramping.values() if not ramp_weight(u, now, floor)]
        for upstream_id in done:
            del self._ramping[upstream_id]

    def _eject(self, upstream: Upstream, now: float) -> None:
        ready = [u for u in self._upstreams.values() if self._serving(u)]
        if eject(upstream, now, ready, self.settings):
            self._ramping.pop(upstream.id, None)


def _reads_counts(policy: Policy) -> bool:
    """Whether ``policy``'s picks read the upstreams' in-flight counts, oldest requests or
    answers (all but the rotations): with workers sharing their counts, only then are every
    worker's read before each pick and after each release (for a rotation those reads cost
    ~6,600 instructions per request, a fifth of a sharing worker's, for nothing)."""
    return not isinstance(policy, (RoundRobin, SmoothWeighted))
