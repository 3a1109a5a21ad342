"""Tiny routers for the proxy tests: round robin over fixed upstreams, recording each release."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.backends import free_port
from vigil.balancer._upstream import Outcome, Upstream


@dataclass
class Released:
    upstream: str
    outcome: Outcome
    latency: float
    retry_after: float | None


class RoundRobinRouter:
    """Round robin in list order (the first request goes to the first upstream)."""

    def __init__(self, upstreams: list[Upstream], *, retry_after: float = 7.0) -> None:
        self.upstreams = upstreams
        self.next = 0
        self.released: list[Released] = []
        self.acquired: list[str] = []
        self._retry_after = retry_after

    def acquire(self, now, key=None, exclude=frozenset()):
        candidates = [u for u in self.upstreams if u.id not in exclude]
        if not candidates:
            return None
        upstream = candidates[self.next % len(candidates)]
        self.next += 1
        upstream.in_flight += 1
        self.acquired.append(upstream.id)
        return upstream

    def release(self, upstream, now, *, outcome, latency, retry_after=None):
        upstream.in_flight -= 1
        self.released.append(Released(upstream.id, outcome, latency, retry_after))

    def retry_after(self, now):
        return self._retry_after

    def outcomes(self) -> list[tuple[str, Outcome]]:
        return [(r.upstream, r.outcome) for r in self.released]


def upstream(name: str, port: int) -> Upstream:
    return Upstream(id=name, host="127.0.0.1", port=port)


def dead_port() -> int:
    """A port nothing listens on (picked as a replica's would be, never bound)."""
    return free_port()


def make_worker_proxy(backend_port: int):
    """A picklable proxy factory for the worker-process test."""
    from vigil.balancer.proxy import Proxy

    return Proxy(RoundRobinRouter([upstream("a", backend_port)]))


def make_pool_worker_proxy(ports: dict[str, int]):
    """A picklable factory: a worker proxy over the project's Pool (round robin) of ``ports``."""
    from vigil.balancer.pool import Pool, PoolSettings
    from vigil.balancer.proxy import Proxy

    upstreams = [upstream(name, port) for name, port in ports.items()]
    return Proxy(Pool(upstreams, PoolSettings(policy="round_robin")))


def make_shared_worker_proxy(ports: dict[str, int], policy: str = "least_conn"):
    """A picklable factory: a worker proxy over the project's Pool of ``ports`` (least_conn, no
    slow start: a replica back in service has its full weight at once), for workers that share
    their in-flight counts."""
    from vigil.balancer.pool import Pool, PoolSettings
    from vigil.balancer.proxy import Proxy

    upstreams = [upstream(name, port) for name, port in ports.items()]
    return Proxy(Pool(upstreams, PoolSettings(policy=policy, slow_start=0.0)))
