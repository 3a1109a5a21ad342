"""The balancer's data plane: an HTTP/1.1 reverse proxy in front of model replicas.

``vigil balance`` runs it alone and ``vigil up`` runs it next to the controller; both build a
:class:`Proxy` over a router (a :class:`vigil.balancer.pool.Pool`, or a function choosing the
pool of a request) and call :meth:`Proxy.start` / :meth:`Proxy.stop`. :func:`serve_workers` /
:class:`Workers` run the same proxy in several processes sharing one port (``SO_REUSEPORT``);
:meth:`Workers.apply` sends each worker's pool a :class:`PoolUpdate` (drain, health, weight).

It works at the callback level (``asyncio.Protocol`` and httptools; run it under uvloop for
speed), accepts every pending connection at each wake-up (:mod:`vigil.balancer._proxy_accept`;
uvloop's own servers take one per loop iteration), keeps connections alive on both legs with an
idle pool per replica whose waiters take the first connection free
(:mod:`vigil.balancer._proxy_connpool`), streams both ways with
each upstream read written to the client at once (Server-Sent Events are never buffered),
connect / first-byte / idle timeouts, retries only where safe (see
:mod:`vigil.balancer._proxy_exchange`), the upstream request aborted when the client leaves,
``X-Forwarded-For`` / ``X-Forwarded-Proto`` / ``X-Request-Id``, an access log
(:mod:`vigil.balancer._proxy_access`) and per-replica Prometheus metrics
(:class:`ProxyMetrics`). Malformed requests get 400 (431 / 414 for oversized heads) and a close;
a replica that sends garbage gets 502 and is reported as ``Outcome.PROTOCOL_ERROR``; no replica
available gets 503 with ``Retry-After`` at once; an upstream timeout gets 504.

Example::

    pool = Pool([Upstream("a", "127.0.0.1", 8001), Upstream("b", "127.0.0.1", 8002)])
    proxy = Proxy(pool, metrics=ProxyMetrics(registry))
    port = await proxy.start("0.0.0.0", 8080)
    ...
    await proxy.stop(grace=10.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections.abc import Callable
from typing import cast

from vigil.balancer._proxy_accept import Listener, bind
from vigil.balancer._proxy_balance import BalancedListener, ConnectionShare
from vigil.balancer._proxy_channel import PoolUpdate
from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer._proxy_metrics import ProxyMetrics
from vigil.balancer._proxy_state import (
    ACCESS_LOGGER,
    ProxySettings,
    ProxyState,
    RequestInfo,
    RouterFor,
)
from vigil.balancer._proxy_workers import Workers, serve_workers, settle_gc
from vigil.balancer._upstream import Router

__all__ = [
    "ACCESS_LOGGER",
    "PoolUpdate",
    "Proxy",
    "ProxyMetrics",
    "ProxySettings",
    "RequestInfo",
    "RouterFor",
    "Workers",
    "serve_workers",
    "settle_gc",
]


class Proxy:
    """A reverse proxy listening on one address.

    ``router`` is either one :class:`~vigil.balancer._upstream.Router` for every request, or a
    function ``(RequestInfo) -> Router | None`` called per request (``None``: 404), for
    several services behind one listener. ``clock`` gives the ``now`` passed to the router.
    Without ``metrics`` the proxy still counts (in a :class:`ProxyMetrics` in no registry).
    """

    def __init__(
        self,
        router: Router | RouterFor,
        *,
        settings: ProxySettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: ProxyMetrics | None = None,
    ) -> None:
        self.settings = settings or ProxySettings()
        self.metrics = metrics if metrics is not None else ProxyMetrics()
        self.router = router
        self.clock = clock
        self._listeners: list[Listener] = []
        self._state: ProxyState | None = None

    @property
    def state(self) -> ProxyState:
        """The live state (connections, pool); only after :meth:`start`."""
        if self._state is None:
            raise RuntimeError("the proxy is not started")
        return self._state

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        reuse_port: bool = False,
        sock: socket.socket | list[socket.socket] | None = None,
        balance: ConnectionShare | None = None,
    ) -> int:
        """Listen on ``host:port`` (every address ``host`` resolves to; port 0: any free port)
        or on ``sock`` (bound; or several); return the port. Connections are accepted by
        :class:`~vigil.balancer._proxy_accept.Listener` objects (up to 32 at a wake-up);
        with ``balance`` (a worker sharing its sockets with siblings) by
        :class:`~vigil.balancer._proxy_balance.BalancedListener`s, within its share."""
        if self._listeners:
            raise RuntimeError("the proxy is already started")
        loop = asyncio.get_running_loop()
        fixed: Router | None = None
        router_for: RouterFor = _no_router
        if hasattr(self.router, "acquire"):
            fixed = cast(Router, self.router)
        else:
            router_for = self.router
        self._state = state = ProxyState(
            settings=self.settings,
            router=fixed,
            router_for=router_for,
            clock=self.clock,
            metrics=self.metrics,
            loop=loop,
        )
        factory = functools.partial(ClientConnection, state)
        if sock is None:
            socks = await bind(host, port, backlog=self.settings.backlog, reuse_port=reuse_port)
        else:
            socks = [sock] if isinstance(sock, socket.socket) else list(sock)
            for s in socks:
                s.listen(self.settings.backlog)
        if balance is None:
            self._listeners = [Listener(loop, s, factory) for s in socks]
        else:
            balance.start(loop, state)
            self._listeners = [BalancedListener(loop, s, factory, share=balance) for s in socks]
        return int(socks[0].getsockname()[1])

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting; let requests in flight finish for up to ``grace`` seconds, then cut
        what is left and close the idle upstream connections."""
        listeners, state = self._listeners, self._state
        if not listeners or state is None:
            return
        self._listeners = []
        state.stopping = True
        for listener in listeners:
            listener.close()
        for client in list(state.clients):
            if isinstance(client, ClientConnection) and client.active is None:
                client.close()
        if state.active > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.idle_event.wait(), grace)
        for client in list(state.clients):
            if isinstance(client, ClientConnection) and client.transport is not None:
                client.transport.abort()
        state.pool.close()
        state.stop_ticker()


def _no_router(request: RequestInfo) -> Router | None:
    return None
