"""The health channel from the process that owns the pool to the proxy's worker processes.

With ``balancer.workers`` above 1 in vigil.yaml every worker process
(:mod:`vigil.balancer._proxy_workers`) builds its own :class:`~vigil.balancer.pool.Pool` from the
factory, so a drain, a maintenance window, a health verdict or a weight change made in the parent
must reach every copy. The parent sends each change as a :class:`PoolUpdate` down a pipe per
worker; the worker applies it to its pool on its event loop (the pipe's descriptor is watched with
``add_reader``: no thread, no polling) and acknowledges it with ``(sequence, error or None)`` on
the pipe it reported its port on. :meth:`vigil.balancer.proxy.Workers.apply` sends one update to
all workers and returns once each has applied it, or raises naming the worker and the reason.
Updates are applied in the order sent; a worker whose parent is gone stops listening and keeps
serving with the state it has. An update with an ``address`` adds the upstream (or replaces the
one with that id) before the other fields apply; when the workers share in-flight counts the
parent gives it a slot first (:mod:`vigil.balancer._proxy_shared`)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Protocol

from vigil.balancer._upstream import AdminState, Upstream

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PoolUpdate:
    """One change to one upstream of the workers' pools; fields left ``None`` are unchanged.
    ``address`` (host, port) adds the upstream to the pools first."""

    upstream: str
    state: AdminState | None = None
    healthy: bool | None = None
    weight: float | None = None
    address: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        if self.state is not None:  # also checks a plain string ("draining")
            object.__setattr__(self, "state", AdminState(self.state))
        if self.weight is not None and not (self.weight > 0.0 and math.isfinite(self.weight)):
            raise ValueError(
                f"PoolUpdate.weight of upstream {self.upstream!r}: must be > 0 (got {self.weight})"
            )


class PoolControl(Protocol):
    """What a worker's router must offer to take updates (:class:`~vigil.balancer.pool.Pool`)."""

    def add(self, upstream: Upstream, now: float) -> None: ...
    def set_state(self, upstream_id: str, state: AdminState, now: float) -> None: ...
    def set_health(self, upstream_id: str, healthy: bool, now: float) -> None: ...
    def set_weight(self, upstream_id: str, weight: float, now: float) -> None: ...


def apply_update(router: object, update: PoolUpdate, now: float) -> None:
    """Apply ``update`` to ``router`` (raises what the pool raises, e.g. an unknown upstream)."""
    if not all(hasattr(router, name) for name in ("add", "set_state", "set_health", "set_weight")):
        raise TypeError(
            f"the worker's router ({type(router).__name__}) takes no pool updates: "
            "build the worker's Proxy over a vigil.balancer.pool.Pool"
        )
    pool: PoolControl = router  # type: ignore[assignment]
    if update.address is not None:
        host, port = update.address
        pool.add(Upstream(id=update.upstream, host=host, port=port), now)
    if update.state is not None:
        pool.set_state(update.upstream, update.state, now)
    if update.healthy is not None:
        pool.set_health(update.upstream, update.healthy, now)
    if update.weight is not None:
        pool.set_weight(update.upstream, update.weight, now)


def listen(
    loop: asyncio.AbstractEventLoop,
    updates: Connection,
    acks: Connection,
    router: object,
    clock: Callable[[], float],
) -> None:
    """Apply every ``(sequence, PoolUpdate)`` arriving on ``updates`` to ``router``, answering
    ``(sequence, None)`` or ``(sequence, "<error>")`` on ``acks``. Runs on ``loop``."""
    fd = updates.fileno()

    def readable() -> None:
        try:
            while updates.poll():
                sequence, update = updates.recv()
                error: str | None = None
                try:
                    apply_update(router, update, clock())
                except Exception as exc:  # reported to the parent, which raises it
                    error = f"{type(exc).__name__}: {exc}"
                acks.send((sequence, error))
        except (EOFError, OSError):  # the parent is gone: keep serving as we are
            loop.remove_reader(fd)
            log.warning("pool updates: the parent process closed the channel")

    loop.add_reader(fd, readable)
