"""Listening sockets that cannot be had: the API's port or a balancer's port already taken
(another program, a second service's balancer, a controller of another data directory), or a
host that is none of this machine's addresses, is a :class:`~vigil.errors.ConfigError` naming
the setting (``.port`` or ``.host``) and the fix, not an ``OSError`` traceback.

Used by :class:`vigil.daemon.Controller` (``vigil up``) and
:class:`vigil.daemon.StandaloneBalancers` (``vigil balance``).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

from vigil.daemon._balancing import Balancers
from vigil.errors import ConfigError
from vigil.settings import Service

HOW = "free it or choose another port (0 picks a free one)"
HOST_HOW = "use an address of this machine (127.0.0.1 for local clients only, 0.0.0.0 for all)"


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _host_fault(exc: OSError) -> bool:
    """Whether the host, not the port, is what cannot be had: a name that does not resolve,
    or an address no interface of this machine has (it was blamed on the port, with 'free
    it or choose another port')."""
    return isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL


def _problem(where: str, address: str, what: str, exc: OSError) -> str:
    """``<where>.host`` or ``<where>.port``: cannot listen on ``address`` for ``what``."""
    field, how = ("host", HOST_HOW) if _host_fault(exc) else ("port", HOW)
    sep = ":" if field == "host" else ";"
    return f"{where}.{field}: cannot listen on {address} for {what}: {_why(exc)}{sep} {how}"


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
        raise ConfigError([_problem("api", f"{host}:{port}", "the API", exc)]) from exc


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
                address, what = f"{b.host}:{b.port}", f"{svc.name}'s balancer"
                raise ConfigError(
                    [_problem(f"services[{i}].balancer", address, what, exc)]
                ) from exc
        raise
