"""Listening sockets that cannot be had: the API's port or a balancer's port already taken
(another program, a second service's balancer, a controller of another data directory) is a
:class:`~vigil.errors.ConfigError` naming the setting and the fix, not an ``OSError`` traceback.

Used by :class:`vigil.daemon.Controller` (``vigil up``) and
:class:`vigil.daemon.StandaloneBalancers` (``vigil balance``).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from vigil.daemon._balancing import Balancers
from vigil.errors import ConfigError
from vigil.settings import Service

HOW = "free it or choose another port (0 picks a free one)"


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


API_BACKLOG = 2048
"""uvicorn's default backlog (it listens again with its own when it starts serving)."""


def bind_api(sock: socket.socket, host: str, port: int) -> None:
    """``sock.bind((host, port))`` and listen at once; ConfigError naming ``api.port`` when it
    cannot be had. Bound but not yet listening (uvicorn listens later, when it serves), the port
    was taken again by a balancer given the same one: `vigil up` said "API on ...:P" while P
    answered for the balancer (HTTP 503 to every API call). Listening, the balancer's bind
    fails and names its ``services[i].balancer.port``."""
    try:
        sock.bind((host, port))
        sock.listen(API_BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            [f"api.port: cannot listen on {host}:{port} for the API: {_why(exc)}; {HOW}"]
        ) from exc


async def start_balancers(balancers: Balancers, services: Sequence[Service]) -> None:
    """``balancers.start()``; ConfigError naming the service whose port cannot be had (the
    balancers already listening are stopped first)."""
    try:
        await balancers.start()
    except OSError as exc:
        started = set(balancers.ports)
        await balancers.stop()
        for i, svc in enumerate(services):
            b = svc.balancer
            if b is not None and svc.name not in started:  # they start in this order
                raise ConfigError(
                    [
                        f"services[{i}].balancer.port: cannot listen on {b.host}:{b.port} for "
                        f"{svc.name}'s balancer: {_why(exc)}; {HOW}"
                    ]
                ) from exc
        raise
