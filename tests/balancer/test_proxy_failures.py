"""The data plane when things go wrong: retries, timeouts, garbage, bad clients, no upstream."""

# Nested `async with`: each upstream outlives the proxy in front of it, as the layout shows.

from __future__ import annotations

import asyncio

import pytest

from vigil.balancer._upstream import Outcome, Upstream

from ._routers import RoundRobinRouter, dead_port, upstream
from ._upstreams import (
    close_before_response,
    fixed,
    garbage,
    partial_then_close,
    proxying,
    read_response,
    roundtrip,
    serving,
    slow_first_byte,
)

GET = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
POST = b"POST /v1/completions HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}"


async def test_a_connect_failure_is_retried_on_another_upstream_for_a_get() -> None:
    async with serving(fixed(b"from b")) as (b,):
        router = RoundRobinRouter([upstream("dead", dead_port()), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            response = await roundtrip(port, GET)
    assert response.body == b"from b"
    assert router.outcomes() == [("dead", Outcome.REFUSED), ("b", Outcome.OK)]


async def test_a_post_is_retried_when_its_connection_could_not_be_opened() -> None:
    async with serving(fixed(b"done")) as (b,):
        router = RoundRobinRouter([upstream("dead", dead_port()), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            response = await roundtrip(port, POST)
    assert response.body == b"done"
    assert b.requests[0].body == b"{}"


async def test_a_post_is_not_retried_after_the_request_was_sent() -> None:
    async with serving(close_before_response, fixed(b"never")) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            response = await roundtrip(port, POST)
    assert response.status == 502
    assert len(a.requests) == 1
    assert b.requests == []
    assert router.outcomes() == [("a", Outcome.CONNECT_ERROR)]


async def test_a_get_is_retried_when_the_upstream_closes_before_answering() -> None:
    async with serving(close_before_response, fixed(b"from b")) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            response = await roundtrip(
                port, b"PUT /k HTTP/1.1\r\nHost: s\r\nContent-Length: 3\r\n\r\nabc"
            )
    assert response.body == b"from b"
    assert b.requests[0].body == b"abc"  # the body was kept and replayed


async def test_no_retry_once_the_response_began_streaming() -> None:
    async with serving(partial_then_close(b"partial"), fixed(b"never")) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            with pytest.raises(asyncio.IncompleteReadError):
                await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert b.requests == []
    assert router.outcomes() == [("a", Outcome.SERVER_ERROR)]


async def test_retries_stop_when_the_budget_is_spent() -> None:
    ups = [upstream(f"dead{i}", dead_port()) for i in range(4)]
    router = RoundRobinRouter(ups)
    async with proxying(router, max_retries=3, retry_budget_burst=1.0, retry_budget_ratio=0.0) as (
        _,
        port,
    ):
        first = await roundtrip(port, GET)
        second = await roundtrip(port, GET)
    assert first.status == second.status == 502
    assert len(router.released) == 3  # 2 attempts, then 1: the budget had one retry


async def test_no_upstream_answers_503_with_retry_after_at_once() -> None:
    router = RoundRobinRouter([], retry_after=2.5)
    async with proxying(router) as (_, port):
        response = await asyncio.wait_for(roundtrip(port, GET), 2)
    assert response.status == 503
    assert response.headers["retry-after"] == "3"


async def test_a_slow_first_byte_gets_504_and_a_timeout_is_reported() -> None:
    async with serving(slow_first_byte(5.0), fixed(b"never")) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router, first_byte_timeout=0.2) as (_, port):
            response = await roundtrip(port, GET)
    assert response.status == 504
    assert b.requests == []  # the replica may be working: not retried
    assert router.outcomes() == [("a", Outcome.TIMEOUT)]


async def test_an_idle_stream_is_cut_after_the_idle_timeout() -> None:
    async def stall(req, writer):
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await asyncio.sleep(5)

    async with serving(stall) as (a,):
        router = RoundRobinRouter([upstream("a", a.port)])
        async with proxying(router, idle_timeout=0.2) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            with pytest.raises(asyncio.IncompleteReadError):
                await asyncio.wait_for(read_response(reader), 3)
            writer.close()
    assert router.outcomes() == [("a", Outcome.TIMEOUT)]


async def test_garbage_from_an_upstream_gets_502_and_is_reported_as_a_protocol_error() -> None:
    async with serving(garbage) as (a,):
        router = RoundRobinRouter([upstream("a", a.port)])
        async with proxying(router) as (_, port):
            response = await roundtrip(port, GET)
    assert response.status == 502
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


@pytest.mark.parametrize(
    "raw",
    [
        b"NOT A REQUEST\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: s\r\nContent-Length: abc\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: s\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"\x00\x01\x02\xff" * 10,
    ],
    ids=["request-line", "content-length", "cl-and-te", "header", "binary"],
)
async def test_a_malformed_request_gets_400_and_the_connection_closed(raw: bytes) -> None:
    router = RoundRobinRouter([upstream("a", dead_port())])
    async with proxying(router) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        response = await asyncio.wait_for(read_response(reader), 5)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed
        writer.close()
        # the proxy still serves others
        assert (await roundtrip(port, GET)).status == 502
    assert response.status == 400
    assert response.headers["connection"] == "close"


async def test_an_oversized_request_head_gets_431() -> None:
    router = RoundRobinRouter([upstream("a", dead_port())])
    async with proxying(router, max_header_bytes=4096) as (_, port):
        big = b"GET / HTTP/1.1\r\nHost: s\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
        response = await roundtrip(port, big)
        long_url = await roundtrip(port, b"GET /" + b"u" * 8000 + b" HTTP/1.1\r\n\r\n")
    assert response.status == 431
    assert long_url.status == 414


async def test_a_client_that_sends_nothing_is_closed_after_the_client_timeout() -> None:
    router = RoundRobinRouter([upstream("a", dead_port())])
    async with proxying(router, client_timeout=0.2) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 3) == b""
        writer.close()


async def test_the_pool_ejects_an_upstream_that_sends_garbage() -> None:
    pool_module = pytest.importorskip("vigil.balancer.pool")
    async with serving(garbage, fixed(b"good")) as (bad, good):
        pool = pool_module.Pool(
            [Upstream("bad", "127.0.0.1", bad.port), Upstream("good", "127.0.0.1", good.port)]
        )
        async with proxying(pool) as (_, port):
            statuses = [(await roundtrip(port, GET)).status for _ in range(20)]
    assert 502 in statuses
    assert statuses[-10:] == [200] * 10  # ejected: no more requests reach it
    assert pool.get("bad").ejections >= 1


async def test_the_pool_ejects_a_replica_whose_port_refuses_at_the_first_refusal() -> None:
    """A refused connection means nothing listens: the process is gone. One is enough to eject
    (the request itself moves on to the live replica), so the dead replica is never tried again
    while its ejection lasts, whenever the policy would have come back to it."""
    pool_module = pytest.importorskip("vigil.balancer.pool")
    async with serving(fixed(b"live")) as (live,):
        pool = pool_module.Pool(
            [Upstream("dead", "127.0.0.1", dead_port()), Upstream("live", "127.0.0.1", live.port)],
            pool_module.PoolSettings(policy="round_robin", slow_start=0),
        )
        async with proxying(pool) as (proxy, port):
            bodies = [(await roundtrip(port, GET)).body for _ in range(2)]
            now = proxy.state.clock()
            assert pool.get("dead").ejected(now)
            assert pool.get("dead").errors == 1  # refused once, never picked again
    assert bodies == [b"live", b"live"]


async def test_an_idle_connection_after_a_request_is_closed_without_an_answer() -> None:
    # the head state is reset when a message completes (no on_message_begin): a connection
    # waiting for its next request has begun no head, so its timeout sends no 408
    async with serving(fixed(b"one")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, client_timeout=0.3) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            response = await asyncio.wait_for(read_response(reader), 5)
            assert await asyncio.wait_for(reader.read(), 3) == b""
            writer.close()
    assert response.body == b"one"


@pytest.mark.parametrize("first", [False, True], ids=["fresh", "after-a-request"])
async def test_a_head_left_unfinished_gets_a_408(first: bool) -> None:
    async with serving(fixed(b"one")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, client_timeout=0.3) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if first:
                writer.write(GET)
                await asyncio.wait_for(read_response(reader), 5)
            writer.write(b"GET /next HTTP/1.1\r\nHost: s\r\n")
            rest = await asyncio.wait_for(reader.read(), 3)
            writer.close()
    assert rest.startswith(b"HTTP/1.1 408 ")


async def test_a_second_head_split_over_reads_on_a_kept_connection_is_served_whole() -> None:
    async with serving(fixed(b"ok")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /first HTTP/1.1\r\nHost: s\r\nX-A: 1\r\n\r\n")
            await asyncio.wait_for(read_response(reader), 5)
            for piece in (b"GET /sec", b"ond HTTP/1.1\r\nHo", b"st: t\r\n\r\n"):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.03)
            second = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert second.body == b"ok"
    assert [r.path for r in up.requests] == ["/first", "/second"]
    assert "x-a" not in up.requests[1].headers and up.requests[1].headers["host"] == "t"
