"""A service's balancer in several worker processes, kept in step with the controller's pool.

Used by :class:`vigil.daemon._balancing.Balancers` when a service's ``balancer.workers`` is above
1 (``vigil up`` and ``vigil balance``). The processes share the balancer's port through
``SO_REUSEPORT`` (:class:`vigil.balancer.proxy.Workers`); each builds its own pool from a
:class:`WorkerSeed` (the upstreams and their health when the balancer started). The controller's
own pool stays the place where health verdicts and operators' changes are made (the seed carries
each upstream's admin state and weight too, so a drain kept across a restart holds from a
worker's first request: sent as an update, it reached the workers a few ms after they had
started to accept); every later change is
sent to the workers as a :class:`~vigil.balancer.proxy.PoolUpdate` through the health channel, in
the order it was made, from one :class:`~vigil.daemon._writer.OrderedWriter` thread (the event
loop never waits on a worker).

The workers share their in-flight counts (shared memory, :mod:`vigil.balancer._proxy_shared`):
each worker's policy reads every replica's requests in flight over all workers. What stays per
worker: passive outlier ejection and latency estimates (each worker judges the traffic it
carries) and its Prometheus metrics (the ``in_flight`` gauge counts that worker's attempts),
which the controller's ``/metrics`` does not include.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial

from vigil.balancer import AdminState, Pool, PoolSettings, Upstream
from vigil.balancer.proxy import PoolUpdate, Proxy, ProxySettings, Workers
from vigil.daemon._writer import OrderedWriter


@dataclass(frozen=True)
class WorkerSeed:
    """What a worker process needs to build its proxy (picklable: workers are spawned)."""

    upstreams: tuple[tuple[str, str, int, bool], ...]  # id, host, port, healthy
    pool: PoolSettings
    proxy: ProxySettings
    admin: tuple[tuple[str, AdminState, float], ...] = ()
    """id, admin state, configured weight: the upstreams not ready or not of weight 1."""


def build_worker_proxy(seed: WorkerSeed) -> Proxy:
    """The proxy of one worker process, over a pool like the controller's at start."""
    pool = Pool(settings=seed.pool)
    now = time.monotonic()
    for upstream_id, host, port, healthy in seed.upstreams:
        pool.add(Upstream(id=upstream_id, host=host, port=port), now)
        pool.set_health(upstream_id, healthy, now)
    for upstream_id, state, weight in seed.admin:  # before the worker accepts a request
        pool.set_state(upstream_id, state, now)
        pool.set_weight(upstream_id, weight, now)
    return Proxy(pool, settings=seed.proxy)


class WorkerGroup:
    """The worker processes of one service's balancer and the ordered stream of pool updates
    sent to them."""

    def __init__(self, workers: Workers, service: str) -> None:
        self.workers = workers
        self.service = service
        self._sender = OrderedWriter(
            f"vigil-workers-{service}", what=f"a pool update for balancer {service}'s workers"
        )

    @classmethod
    async def launch(
        cls,
        service: str,
        seed: WorkerSeed,
        host: str,
        port: int,
        count: int,
        balance: str = "kernel",
    ) -> WorkerGroup:
        workers = await asyncio.to_thread(
            partial(
                Workers.launch,
                partial(build_worker_proxy, seed),
                host,
                port,
                workers=count,
                share=[upstream[0] for upstream in seed.upstreams],
                balance=balance,
            )
        )
        return cls(workers, service)

    @property
    def port(self) -> int:
        return self.workers.port

    def send(self, update: PoolUpdate) -> None:
        """Queue ``update`` for every worker; returns at once (see :meth:`flush`). A worker that
        refuses it or does not answer is logged; the updates behind it still go out."""
        self._sender.submit(partial(self.workers.apply, update))

    async def flush(self) -> None:
        """Return once every update sent so far has been applied (or failed) in every worker."""
        await self._sender.drain()

    async def stop(self, grace: float) -> None:
        await self.flush()
        self._sender.close()
        await asyncio.to_thread(self.workers.stop, grace)
