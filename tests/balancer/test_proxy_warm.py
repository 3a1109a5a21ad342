"""Warm spares of the upstream pool, over real sockets: idle connections renewed (closed and
reopened) past the idle timeout while their upstream was used recently, so a burst after a
pause opens no connection (:mod:`vigil.balancer._proxy_connpool`, ``upstream_warm_for``)."""

from __future__ import annotations

import asyncio

from ._routers import RoundRobinRouter, upstream
from ._upstreams import proxying, roundtrip, serving, sse

GET = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
STREAMS = 6
EVENTS = b"data: token 0\n\ndata: token 1\n\n"


async def wait_until(condition, what: str) -> None:
    """Let the loop run until ``condition()`` holds (bounded: the test fails, never hangs)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def burst(port: int) -> None:
    answers = await asyncio.gather(*(roundtrip(port, GET) for _ in range(STREAMS)))
    assert [a.body for a in answers] == [EVENTS] * STREAMS


async def test_a_burst_after_a_pause_longer_than_the_idle_timeout_finds_renewed_connections() -> (
    None
):
    async with serving(sse(2, 0.3)) as (up,):  # long enough for the streams to overlap
        router = RoundRobinRouter([upstream("a", up.port)])
        settings = {"upstream_idle_timeout": 0.2, "upstream_warm_for": 30.0}
        async with proxying(router, **settings) as (proxy, port):
            pool = proxy.state.pool
            key = ("127.0.0.1", up.port)
            await burst(port)  # the streams overlap: one connection each
            kept = len(pool.idle[key])
            assert kept == STREAMS
            # a pause of several idle timeouts: every connection is renewed twice at least
            await wait_until(lambda: pool.renewed >= 2 * kept, "two renewals of each")
            loop = asyncio.get_running_loop()
            idle = pool.idle[key]
            assert len(idle) == kept
            assert all(not c.closed and c.idle_since > loop.time() - 0.2 for c in idle)
            for_requests = pool.opened - pool.renewed
            await burst(port)
            assert pool.opened - pool.renewed == for_requests  # none opened for the burst
    # the upstream saw every connection: the first burst's and the renewed ones
    assert up.connections == pool.opened


async def test_renewal_stops_warm_for_seconds_after_the_last_request_then_idle_ones_expire() -> (
    None
):
    async with serving(sse(2, 0.05)) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        settings = {"upstream_idle_timeout": 0.2, "upstream_warm_for": 0.5}
        async with proxying(router, **settings) as (proxy, port):
            pool = proxy.state.pool
            key = ("127.0.0.1", up.port)
            await burst(port)
            await wait_until(lambda: pool.renewed > 0, "a renewal")
            await wait_until(
                lambda: not pool.idle[key] and not pool.renewing, "every idle connection expired"
            )
            renewed = pool.renewed
            assert renewed < 20 * STREAMS  # bounded by warm_for, not renewing forever
            await asyncio.sleep(0.5)  # two more idle timeouts: nothing is reopened
            assert pool.renewed == renewed and not pool.idle[key]


async def test_without_warm_for_idle_connections_expire_and_none_is_reopened() -> None:
    async with serving(sse(2, 0.05)) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        settings = {"upstream_idle_timeout": 0.2, "upstream_warm_for": 0.0}
        async with proxying(router, **settings) as (proxy, port):
            pool = proxy.state.pool
            key = ("127.0.0.1", up.port)
            await burst(port)
            opened = pool.opened
            await wait_until(lambda: not pool.idle[key], "every idle connection expired")
            assert pool.renewed == 0 and pool.opened == opened
            await burst(port)
            assert pool.opened == opened + STREAMS  # the cold burst opened its own


async def test_spares_no_request_takes_are_let_go_while_lighter_traffic_goes_on() -> None:
    # a burst of 6, then one request at a time: the spares of the burst's peak are renewed for
    # warm_for seconds only, not for as long as any traffic flows
    async with serving(sse(2, 0.3)) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        settings = {"upstream_idle_timeout": 0.2, "upstream_warm_for": 0.6}
        async with proxying(router, **settings) as (proxy, port):
            pool = proxy.state.pool
            key = ("127.0.0.1", up.port)
            await burst(port)
            assert len(pool.idle[key]) == STREAMS
            for _ in range(100):  # each request takes ~0.3 s: bounded, never hangs
                answer = await roundtrip(port, GET)
                assert answer.body == EVENTS
                if len(pool.idle[key]) + pool.renewing <= 2:
                    break
            else:
                raise AssertionError(f"spares kept under light traffic: {len(pool.idle[key])}")
            assert pool.renewed > 0
