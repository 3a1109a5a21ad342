"""``vigil balance``: the balancers alone, in front of replicas that something else runs.

Called by the CLI. Every service with a ``balancer`` section is balanced over its replicas at
``node address : base_port + index``; their health comes from the service's readiness probe
(or its liveness probe, or, with neither, passive ejection alone). No process is supervised.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import CollectorRegistry

from vigil.bus import EventBus, Subscription
from vigil.collectors import ProbeLoop
from vigil.daemon._balancing import Balancers
from vigil.daemon._listen import start_balancers
from vigil.errors import ConfigError
from vigil.model import HealthChanged, ProbeKind, Replica, replica_id
from vigil.settings import Probe, Settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _probe_for(probe: Probe, address: str) -> Probe:
    """Probe the replica where it runs: an HTTP/TCP probe's host follows the node's address."""
    if address in LOOPBACK:
        return probe
    if probe.http is not None:
        return probe.model_copy(update={"http": probe.http.model_copy(update={"host": address})})
    if probe.tcp is not None:
        return probe.model_copy(update={"tcp": probe.tcp.model_copy(update={"host": address})})
    return probe


class StandaloneBalancers:
    def __init__(
        self,
        settings: Settings,
        registry: CollectorRegistry | None = None,
        *,
        own_process: bool = False,
    ) -> None:
        """``own_process``: ``vigil balance`` (see :class:`Balancers`)."""
        self.settings = settings
        self.bus = EventBus()
        registry = registry or CollectorRegistry()
        self.balancers = Balancers(settings.services, registry, own_process=own_process)
        self._loops: list[ProbeLoop] = []
        self._watch: asyncio.Task[None] | None = None
        if not self.balancers.pools:
            raise ConfigError(["services: no service has a balancer section: nothing to balance"])
        address = {n.name: n.address for n in settings.nodes}
        for i, svc in enumerate(settings.services):
            if svc.balancer is None:
                continue
            if not svc.base_port:
                raise ConfigError(
                    [
                        f"services[{i}].base_port: `vigil balance` needs fixed replica ports "
                        "(replica i at base_port + i); without them only `vigil up` knows the ports"
                    ]
                )
            host = address[svc.node]
            if host is None:  # it was 127.0.0.1, this host, for a node declared elsewhere
                at = next(j for j, n in enumerate(settings.nodes) if n.name == svc.node)
                raise ConfigError(
                    [
                        f"services[{i}].node: node {svc.node!r} has no address, and `vigil "
                        f"balance` must know where its replicas listen: set nodes[{at}].address "
                        "(127.0.0.1 for this host)"
                    ]
                )
            probe = svc.readiness or svc.liveness
            kind = ProbeKind.READINESS if svc.readiness else ProbeKind.LIVENESS
            for index in range(svc.replicas):
                rid = replica_id(svc.name, index)
                port = svc.base_port + index
                replica = Replica(id=rid, service=svc.name, index=index, node=svc.node, port=port)
                # without a probe, only the proxy's passive ejection judges the replica
                self.balancers.add_replica(replica, host=host, healthy=probe is None)
                if probe is not None:
                    target = _probe_for(probe, host)
                    self._loops.append(ProbeLoop(rid, kind, target, port, self.bus))

    async def start(self) -> dict[str, int]:
        sub = self.bus.subscribe("balance", accept=lambda e: isinstance(e, HealthChanged))
        self._watch = asyncio.create_task(self._follow(sub))
        for loop in self._loops:
            loop.start()
        await start_balancers(self.balancers, self.settings.services)
        return dict(self.balancers.ports)

    async def _follow(self, sub: Subscription) -> None:
        async for event in sub:
            if isinstance(event, HealthChanged):
                self.balancers.set_health(event.replica, event.healthy)

    async def stop(self) -> None:
        await self.balancers.stop()
        for loop in self._loops:
            await loop.stop()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
