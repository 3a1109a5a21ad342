"""A stream's idle timeout when its chunks are relayed whole (no loop time read per event).

``Exchange.response_chunks`` counts the reads it relays instead of reading the loop's time, and
the stream's timer looks at the count at most 1/``STREAM_LOOKS`` of the idle timeout apart: a
look that finds chunks relayed since the last one takes the last as now. Driven here on null
transports, the timer called directly (no clock in the assertions); over sockets, a stream that
goes on longer than its idle timeout is not cut, and one that stalls after whole chunks is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer._proxy_exchange import STREAM_LOOKS
from vigil.balancer._proxy_upstream import UpstreamConnection
from vigil.balancer._upstream import Outcome, Upstream
from vigil.balancer.pool import Pool, PoolSettings
from vigil.balancer.proxy import Proxy, ProxySettings

from ._routers import RoundRobinRouter, upstream
from ._upstreams import proxying, read_response, serving

GET = b"GET /v1/stream HTTP/1.1\r\nHost: s\r\n\r\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
EVENT = b"data: tok\n\n"
CHUNK = b"%x\r\n%s\r\n" % (len(EVENT), EVENT)
IDLE = 60.0


class _Null:
    def write(self, data: bytes) -> None:
        pass

    def writelines(self, data: list[bytes]) -> None:
        pass

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


@asynccontextmanager
async def streaming() -> AsyncIterator[tuple[Any, Any, Any]]:
    """A stream begun on null transports: the proxy's state, the upstream connection, and its
    exchange, in the stream phase with the head relayed."""
    pool = Pool([Upstream("sse", "127.0.0.1", 9)], PoolSettings(policy="round_robin"))
    proxy = Proxy(pool, settings=ProxySettings(idle_timeout=IDLE))
    await proxy.start("127.0.0.1", 0)
    try:
        state = proxy.state
        conn = UpstreamConnection(state.pool, ("127.0.0.1", 9))
        conn.connection_made(_Null())  # type: ignore[arg-type]
        state.pool.put(conn)
        client = ClientConnection(state)
        client.connection_made(_Null())  # type: ignore[arg-type]
        client.data_received(GET)
        conn.data_received(HEAD)
        ex = conn.exchange
        assert ex is not None
        yield state, conn, ex
    finally:
        await proxy.stop(0.1)


async def test_the_stream_timer_looks_a_fraction_of_the_idle_timeout_ahead() -> None:
    async with streaming() as (state, _, ex):
        assert ex.timed
        assert ex.deadline <= state.loop.time() + IDLE / STREAM_LOOKS


async def test_a_look_that_finds_relayed_chunks_keeps_the_stream() -> None:
    async with streaming() as (state, conn, ex):
        for _ in range(3):
            conn.data_received(CHUNK)
        ex.last_io = ex.sent_at = state.loop.time() - 2 * IDLE  # the last time read: long ago
        before = state.loop.time()
        ex.on_timer()
        assert not ex.done
        assert conn.exchange is ex
        assert ex.last_io >= before  # the chunks relayed since are taken as of this look
        assert ex.timed
        assert ex.deadline <= state.loop.time() + IDLE / STREAM_LOOKS


async def test_a_look_without_relayed_chunks_still_cuts_an_idle_stream() -> None:
    async with streaming() as (state, conn, ex):
        conn.data_received(CHUNK)
        ex.on_timer()  # this look sees the chunk
        assert not ex.done
        ex.last_io = ex.sent_at = state.loop.time() - 2 * IDLE  # then nothing for too long
        ex.on_timer()
        assert ex.done
        assert conn.exchange is None


async def test_a_stream_longer_than_its_idle_timeout_is_not_cut() -> None:
    events = 12

    async def tokens(req: object, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        for _ in range(events):
            await asyncio.sleep(0.05)
            writer.write(CHUNK)  # one whole chunk per write: relayed as it came
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async with serving(tokens) as (a,):
        router = RoundRobinRouter([upstream("a", a.port)])
        async with proxying(router, idle_timeout=0.3) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            response = await asyncio.wait_for(read_response(reader), 10)
            writer.close()
    assert response.status == 200
    assert response.body == EVENT * events
    assert router.outcomes() == [("a", Outcome.OK)]


async def test_a_stream_that_stalls_after_whole_chunks_is_cut() -> None:
    async def stall(req: object, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        for _ in range(3):
            await asyncio.sleep(0.05)
            writer.write(CHUNK)
            await writer.drain()
        await asyncio.sleep(5)

    async with serving(stall) as (a,):
        router = RoundRobinRouter([upstream("a", a.port)])
        async with proxying(router, idle_timeout=0.2) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            with pytest.raises(asyncio.IncompleteReadError):
                await asyncio.wait_for(read_response(reader), 4)
            writer.close()
    assert router.outcomes() == [("a", Outcome.TIMEOUT)]
