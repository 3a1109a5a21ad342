"""The balancers of a running controller: one pool and one HTTP proxy per service that has a
``balancer`` section.

Built by :class:`vigil.daemon.Controller` (``vigil up``) and by ``vigil balance`` (the balancer
alone). The supervisor's replica changes reach the pool synchronously through
:meth:`Balancers.replica_changed` (a replica that exits is out of rotation before the next
request), and the API's admin changes (weight, drain, maint, ready) apply to the next request.
The controller keeps those changes in the store (:func:`save_admin`, a ``meta`` row per replica)
and gives them back to the new pools after a restart (:func:`restore_admin`): a replica drained
for maintenance stays drained until an operator readies it. Pools run on the monotonic clock,
like the proxy. A service with ``balancer.workers`` above 1 is
served by worker processes (:mod:`vigil.daemon._balancer_workers`) that take every change made to
the pool here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry

from vigil.api import BalancerStatus
from vigil.balancer import AdminState, Pool, PoolSettings, Upstream, UpstreamStatus
from vigil.balancer.proxy import PoolUpdate, Proxy, ProxyMetrics, ProxySettings, settle_gc
from vigil.daemon._balancer_workers import WorkerGroup, WorkerSeed
from vigil.errors import InputError, NotFoundError
from vigil.model import Health, Replica, ReplicaState
from vigil.settings import BalancerSettings, Service
from vigil.store import Store

log = logging.getLogger("vigil.daemon")

STOP_GRACE = 5.0
"""Seconds in-flight requests get to finish when the balancer stops."""
ADMIN_KEY = "balancer.admin:"
"""Prefix of the ``meta`` key that keeps an operator's state and weight of a replica (+ its id)."""


def serving(replica: Replica) -> bool:
    """Whether the balancer may send the replica new requests."""
    return (
        replica.state == ReplicaState.RUNNING
        and replica.pid is not None
        and replica.ready == Health.HEALTHY
    )


def pool_settings(b: BalancerSettings) -> PoolSettings:
    return PoolSettings(
        policy=b.policy,
        failure_threshold=b.failure_threshold,
        eject_base=b.eject_base,
        eject_max=b.eject_max,
        max_ejection_percent=b.max_ejection_percent,
        slow_start=b.slow_start,
        retry_ratio=b.retry_ratio,
    )


def proxy_settings(b: BalancerSettings) -> ProxySettings:
    return ProxySettings(
        connect_timeout=b.connect_timeout,
        first_byte_timeout=b.first_byte_timeout,
        idle_timeout=b.idle_timeout,
        max_retries=b.max_retries,
        retry_budget_ratio=b.retry_ratio,
        retry_on_reset=b.retry_on_reset,
        affinity_header=b.affinity_header,
        trusted_proxies=tuple(b.trusted_proxies),
        answer_half_closed=b.answer_half_closed,
        allow_trace=b.allow_trace,
    )


class Balancers:
    def __init__(
        self,
        services: Sequence[Service],
        registry: CollectorRegistry,
        clock: Callable[[], float] = time.monotonic,
        *,
        own_process: bool = False,
    ) -> None:
        """``own_process``: the process is the balancers' own (``vigil up``, ``vigil balance``):
        :meth:`start` may settle its garbage collector; a library user's is left alone."""
        self._clock = clock
        self._own_process = own_process
        self._services = {s.name: s for s in services if s.balancer is not None}
        self.pools: dict[str, Pool] = {
            name: Pool(settings=pool_settings(s.balancer))
            for name, s in self._services.items()
            if s.balancer is not None
        }
        self._metrics = ProxyMetrics(registry) if self.pools else None
        self._proxies: dict[str, Proxy] = {}
        self.ports: dict[str, int] = {}
        self._owner: dict[str, str] = {}  # replica id -> service
        self._address: dict[str, tuple[str, int]] = {}  # replica id -> upstream host, port
        self._healthy: dict[str, bool] = {}  # replica id -> last health given to the pool
        self.workers: dict[str, WorkerGroup] = {}  # services served by worker processes

    def add_replica(
        self, replica: Replica, host: str = "127.0.0.1", *, healthy: bool | None = None
    ) -> None:
        """Put the replica behind its service's balancer; ``healthy`` (default: judged from the
        supervisor's view of the replica) says whether it takes requests from the start. Also
        after :meth:`start`: worker processes then get it as a :class:`PoolUpdate` with its
        address (and, when they share in-flight counts, a slot of their block)."""
        pool = self.pools.get(replica.service)
        if pool is None:
            return
        upstream = Upstream(id=replica.id, host=host, port=replica.port)
        pool.add(upstream, self._clock())
        self._owner[replica.id] = replica.service
        self._address[replica.id] = (host, replica.port)
        ready = serving(replica) if healthy is None else healthy
        group = self.workers.get(replica.service)
        if group is not None:  # workers already run: they learn the address with the verdict
            self.pools[replica.service].set_health(replica.id, ready, self._clock())
            self._healthy[replica.id] = ready
            group.send(PoolUpdate(replica.id, healthy=ready, address=(host, replica.port)))
            return
        self._set_health(replica.service, replica.id, ready)

    def replica_changed(self, replica: Replica) -> None:
        """The supervisor's hook: every change of a replica's state or health."""
        if replica.service in self.pools and replica.id in self._owner:
            self._set_health(replica.service, replica.id, serving(replica))

    def set_health(self, replica_id: str, healthy: bool) -> None:
        service = self._owner.get(replica_id)
        if service is not None:
            self._set_health(service, replica_id, healthy)

    def _set_health(self, service: str, replica_id: str, healthy: bool) -> None:
        self.pools[service].set_health(replica_id, healthy, self._clock())
        changed = self._healthy.get(replica_id) != healthy
        self._healthy[replica_id] = healthy
        group = self.workers.get(service)
        if group is not None and changed:
            group.send(PoolUpdate(replica_id, healthy=healthy))

    async def start(self) -> None:
        for name, pool in self.pools.items():
            b = self._services[name].balancer
            assert b is not None
            if b.workers > 1:
                seed = self._seed(name, b)
                group = await WorkerGroup.launch(
                    name, seed, b.host, b.port, b.workers, b.workers_balance
                )
                self.workers[name] = group
                for rid, _, _, healthy in seed.upstreams:  # verdicts made while they started
                    if self._healthy.get(rid, False) != healthy:
                        group.send(PoolUpdate(rid, healthy=self._healthy[rid]))
                # operators' changes (restored from the store) are in the seed: the workers
                # had them before they accepted a request
                self.ports[name] = group.port
                continue
            proxy = Proxy(pool, settings=proxy_settings(b), metrics=self._metrics)
            self.ports[name] = await proxy.start(b.host, b.port)
            self._proxies[name] = proxy
        if self._proxies and self._own_process:
            # the data plane runs in this process: its collector settled as a worker's is
            # (a new connection and its parser are a cycle only the collector frees; the
            # stall watch's later freezes still apply)
            settle_gc()

    def _seed(self, service: str, b: BalancerSettings) -> WorkerSeed:
        upstreams = tuple(
            (rid, *self._address[rid], self._healthy.get(rid, False))
            for rid, owner in self._owner.items()
            if owner == service
        )
        pool = self.pools[service]
        admin = tuple(
            (rid, up.state, up.configured_weight)
            for rid, *_ in upstreams
            if (up := pool.get(rid)).state != AdminState.READY or up.configured_weight != 1.0
        )
        return WorkerSeed(upstreams, pool_settings(b), proxy_settings(b), admin)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        for proxy in self._proxies.values():
            await proxy.stop(grace)
        self._proxies.clear()
        for group in self.workers.values():
            await group.stop(grace)
        self.workers.clear()

    def status(self, service: str) -> BalancerStatus | None:
        pool = self.pools.get(service)
        if pool is None:
            return None
        b = self._services[service].balancer
        assert b is not None
        port = self.ports.get(service, b.port)
        return BalancerStatus(service, f"{b.host}:{port}", b.policy, pool.snapshot(self._clock()))

    def admin_state(self, replica_id: str) -> tuple[str, float]:
        """The replica's admin state and configured weight (NotFoundError if not balanced)."""
        service = self._owner.get(replica_id)
        if service is None:
            raise NotFoundError("balanced replica", replica_id)
        upstream = self.pools[service].get(replica_id)
        return AdminState(upstream.state).value, upstream.configured_weight

    def admin(self, replica_id: str, *, state: str | None, weight: float | None) -> UpstreamStatus:
        """Apply an operator's change to one replica's place in its balancer."""
        service = self._owner.get(replica_id)
        if service is None:
            raise NotFoundError("balanced replica", replica_id)
        pool = self.pools[service]
        now = self._clock()
        if state is not None:
            try:
                pool.set_state(replica_id, AdminState(state), now)
            except ValueError as exc:
                raise InputError(
                    f"body.state: must be one of ready, draining, maint (got {state!r})"
                ) from exc
        if weight is not None:
            pool.set_weight(replica_id, weight, now)
        group = self.workers.get(service)
        if group is not None and (state is not None or weight is not None):
            group.send(
                PoolUpdate(replica_id, state=AdminState(state) if state else None, weight=weight)
            )
        return next(row for row in pool.snapshot(now) if row.id == replica_id)


def save_admin(
    store: Store, balancers: Balancers, replica_id: str, *, state: str | None, weight: float | None
) -> None:
    """Keep the replica's admin state and weight as they will be after this change, before it is
    applied (a change the store refused is not applied either). ``ready`` at weight 1 is kept
    too: it says that nothing is left to restore."""
    now_state, now_weight = balancers.admin_state(replica_id)
    record = {"state": state or now_state, "weight": now_weight if weight is None else weight}
    store.set_meta(ADMIN_KEY + replica_id, json.dumps(record, sort_keys=True))


def forget_admin(store: Store, replica_id: str) -> None:
    """A replica gone from the config takes its admin state with it: a later replica of the
    same id (a scale-up) is a new one and starts ready."""
    if store.get_meta(ADMIN_KEY + replica_id) is not None:
        store.set_meta(ADMIN_KEY + replica_id, json.dumps({"state": "ready", "weight": 1.0}))


def restore_admin(store: Store, balancers: Balancers, replica_ids: Iterable[str]) -> None:
    """Give the pools the admin states and weights an earlier run kept (:func:`save_admin`).
    A record that cannot be read is logged, naming its key, and skipped."""
    for rid in replica_ids:
        key = ADMIN_KEY + rid
        text = store.get_meta(key)
        if text is None:
            continue
        try:
            record = json.loads(text)
            state, weight = str(record["state"]), float(record["weight"])
            if state == AdminState.READY.value and weight == 1.0:
                continue
            balancers.admin(rid, state=state, weight=weight)
        except NotFoundError:  # no balancer for its service any more
            continue
        except (ValueError, TypeError, KeyError, InputError) as exc:
            log.warning(
                "meta %r: cannot restore the balancer state of %s (%r: %s); it starts ready",
                key,
                rid,
                text,
                exc,
            )
