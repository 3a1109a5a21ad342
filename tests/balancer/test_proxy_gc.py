"""A proxy worker process settles its garbage collector once it listens (``settle_gc``)."""

from __future__ import annotations

import asyncio
import functools
import gc

import pytest

from vigil.balancer._proxy_workers import GC_YOUNG_THRESHOLD
from vigil.balancer.proxy import Proxy, RequestInfo, Workers

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, roundtrip, serving


def make_gc_telling_proxy(settled_port: int, default_port: int) -> Proxy:
    """A picklable factory: each request goes to the first backend when the worker's collector
    is settled (threshold raised, start-up objects frozen) at the time of the request, else to
    the second: the answer's body tells the parent which."""
    settled = RoundRobinRouter([upstream("settled", settled_port)])
    default = RoundRobinRouter([upstream("default", default_port)])

    def route(request: RequestInfo) -> RoundRobinRouter:
        young = gc.get_threshold()[0]
        return settled if young == GC_YOUNG_THRESHOLD and gc.get_freeze_count() else default

    return Proxy(route)


@pytest.mark.slow
async def test_a_worker_process_serves_with_its_collector_settled() -> None:
    async with serving(fixed(b"settled"), fixed(b"default")) as (settled, default):
        factory = functools.partial(make_gc_telling_proxy, settled.port, default.port)
        workers = await asyncio.to_thread(Workers.launch, factory, "127.0.0.1", 0, workers=1)
        try:
            answer = await roundtrip(workers.port, b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
        finally:
            await asyncio.to_thread(workers.stop, 1.0)
    assert answer.status == 200
    assert answer.body == b"settled"
    assert gc.get_threshold()[0] != GC_YOUNG_THRESHOLD  # the test's own process is untouched
