"""The data plane over real sockets: round trips, streaming, keep-alive, headers, metrics."""

# Nested `async with`: each upstream outlives the proxy in front of it, as the layout shows.
# ruff: noqa: SIM117

from __future__ import annotations

import asyncio
import itertools
import logging

from prometheus_client import CollectorRegistry, generate_latest

from vigil.balancer._proxy_state import ACCESS_LOGGER, ACCESS_RECHECK
from vigil.balancer._upstream import Outcome
from vigil.balancer.proxy import ProxyMetrics

from ._routers import RoundRobinRouter, upstream
from ._upstreams import (
    Stream,
    echo,
    fixed,
    proxying,
    read_response,
    roundtrip,
    serving,
    sse,
)


async def test_a_get_round_trips_through_the_proxy() -> None:
    async with serving(fixed(b"hello world")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            response = await roundtrip(port, b"GET /x?y=1 HTTP/1.1\r\nHost: svc\r\n\r\n")
    assert response.status == 200
    assert response.body == b"hello world"
    assert up.requests[0].path == "/x?y=1"
    assert router.outcomes() == [("a", Outcome.OK)]


async def test_a_post_body_with_a_content_length_reaches_the_upstream_and_comes_back() -> None:
    body = b"x" * 100_000
    async with serving(echo) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            response = await roundtrip(
                port,
                b"POST /v1 HTTP/1.1\r\nHost: s\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
            )
    assert up.requests[0].body == body
    assert up.requests[0].headers["content-length"] == str(len(body))
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.body == body


async def test_a_chunked_request_body_is_streamed_to_the_upstream_chunked() -> None:
    async with serving(echo) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /v1 HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"5\r\nhello\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"6\r\n world\r\n0\r\n\r\n")
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert up.requests[0].headers["transfer-encoding"] == "chunked"
    assert up.requests[0].body == b"hello world"
    assert response.body == b"hello world"


async def test_keep_alive_reuses_one_upstream_connection_for_many_requests() -> None:
    async with serving(fixed(b"ok")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(20):
                writer.write(b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
                response = await asyncio.wait_for(read_response(reader), 5)
                assert response.body == b"ok"
            writer.close()
    assert len(up.requests) == 20
    assert up.connections == 1


async def test_an_upstream_connection_closing_is_not_reused() -> None:
    async with serving(fixed(b"ok", headers="Connection: close\r\n")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(3):
                writer.write(b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
                response = await asyncio.wait_for(read_response(reader), 5)
                assert response.status == 200
                assert "connection" not in response.headers  # the client connection stays open
            writer.close()
    assert up.connections == 3


async def test_pipelined_requests_are_answered_in_order() -> None:
    async with serving(echo) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"".join(
                    b"POST /%d HTTP/1.1\r\nHost: s\r\nContent-Length: 3\r\n\r\nr%02d" % (i, i)
                    for i in range(5)
                )
            )
            bodies = [(await asyncio.wait_for(read_response(reader), 5)).body for _ in range(5)]
            writer.close()
    assert bodies == [b"r%02d" % i for i in range(5)]


async def test_sse_events_arrive_one_by_one_as_the_upstream_sends_them() -> None:
    first_seen = asyncio.Event()
    async with serving(sse(5, 0.05, first_seen)) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /stream HTTP/1.1\r\nHost: s\r\nAccept: text/event-stream\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert b"text/event-stream" in head
            # the upstream holds event 2 until we have event 1: no buffering in between
            chunk = await asyncio.wait_for(reader.readuntil(b"\n\n\r\n"), 5)
            assert b"data: token 0" in chunk
            first_seen.set()
            loop = asyncio.get_running_loop()
            arrivals = []
            for i in range(1, 5):
                chunk = await asyncio.wait_for(reader.readuntil(b"\n\n\r\n"), 5)
                assert b"data: token %d" % i in chunk
                arrivals.append(loop.time())
            assert await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 5)
            writer.close()
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(gap > 0.02 for gap in gaps)  # spread out like the upstream's 50 ms, not batched


async def test_a_client_leaving_mid_stream_aborts_the_upstream_request() -> None:
    stream = Stream()
    async with serving(stream) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /generate HTTP/1.1\r\nHost: s\r\n\r\n")
            await asyncio.wait_for(reader.readuntil(b"data: 2"), 5)
            writer.close()
            await asyncio.wait_for(stream.cancelled.wait(), 5)
            await asyncio.sleep(0.05)
    assert router.outcomes() == [("a", Outcome.CLIENT_ABORT)]


async def test_a_client_leaving_before_the_answer_aborts_the_upstream_request() -> None:
    async def hang(req, writer):
        await asyncio.sleep(30)

    async with serving(hang) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /v1 HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}")
            for _ in range(500):
                if up.requests:
                    break
                await asyncio.sleep(0.01)
            writer.close()
            for _ in range(200):
                if router.released:
                    break
                await asyncio.sleep(0.01)
    assert router.outcomes() == [("a", Outcome.CLIENT_ABORT)]


async def test_forwarding_headers_and_a_request_id_reach_the_upstream() -> None:
    async with serving(fixed()) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            first = await roundtrip(
                port,
                b"GET / HTTP/1.1\r\nHost: model.example\r\nX-Forwarded-For: 10.0.0.1\r\n"
                b"X-Request-Id: abc-123\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n"
                b"Keep-Alive: timeout=5\r\nProxy-Authorization: Basic x\r\nTE: trailers\r\n\r\n",
            )
            second = await roundtrip(
                port, b"GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: bad id;<script>\r\n\r\n"
            )
    seen, seen2 = up.requests
    assert seen.headers["host"] == "model.example"
    # the client is no trusted proxy: its X-Forwarded-For is not believed (test_proxy_forwarded)
    assert seen.headers["x-forwarded-for"] == "127.0.0.1"
    assert seen.headers["x-forwarded-proto"] == "http"
    assert seen.headers["x-request-id"] == "abc-123"
    for hop in ("connection", "keep-alive", "x-secret", "proxy-authorization", "te"):
        assert hop not in seen.headers
    assert first.headers["x-request-id"] == "abc-123"
    assert seen2.headers["x-forwarded-for"] == "127.0.0.1"
    assert seen2.headers["x-request-id"] not in ("bad id;<script>", "")
    assert second.headers["x-request-id"] == seen2.headers["x-request-id"]


async def test_a_head_request_gets_the_head_without_a_body() -> None:
    async with serving(fixed(b"0123456789")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"HEAD / HTTP/1.1\r\nHost: s\r\n\r\n")
            response = await asyncio.wait_for(read_response(reader, "HEAD"), 5)
            writer.write(b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
            after = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.status == 200
    assert response.headers["content-length"] == "10"
    assert after.body == b"0123456789"


async def test_an_http10_client_gets_a_close_delimited_body() -> None:
    async with serving(sse(2, 0.0)) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            response = await roundtrip(port, b"GET / HTTP/1.0\r\n\r\n")
    assert response.status == 200
    assert response.headers.get("connection") == "close"
    assert "transfer-encoding" not in response.headers
    assert response.body == b"data: token 0\n\ndata: token 1\n\n"


async def test_the_metrics_registry_has_per_replica_series() -> None:
    registry = CollectorRegistry()
    metrics = ProxyMetrics(registry)
    async with serving(fixed(), fixed(b"", status=503, headers="Retry-After: 3\r\n")) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router, metrics=metrics) as (_, port):
            for _ in range(4):
                await roundtrip(port, b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
    text = generate_latest(registry).decode()
    assert 'vigil_proxy_requests_total{code_class="2xx",upstream="a"} 2.0' in text
    assert 'vigil_proxy_requests_total{code_class="5xx",upstream="b"} 2.0' in text
    assert 'vigil_proxy_errors_total{kind="overloaded",upstream="b"} 2.0' in text
    assert 'vigil_proxy_request_duration_seconds_count{upstream="a"} 2.0' in text
    assert 'vigil_proxy_time_to_first_byte_seconds_count{upstream="b"} 2.0' in text
    assert 'vigil_proxy_in_flight{upstream="a"} 0.0' in text
    assert 'vigil_proxy_ejections_total{upstream="a"} 0.0' in text
    assert [r.retry_after for r in router.released if r.upstream == "b"] == [3.0, 3.0]


async def test_the_access_log_has_one_line_per_request(caplog) -> None:
    async with serving(fixed(b"abc")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            with caplog.at_level(logging.INFO, logger="vigil.balancer.access"):
                await roundtrip(port, b"GET /p HTTP/1.1\r\nHost: s\r\nX-Request-Id: r1\r\n\r\n")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "vigil.balancer.access"]
    fields = line.split(" ")
    assert fields[1:7] == ["127.0.0.1", "GET", "/p", "200", "a", "3"]
    assert fields[-1] == "r1"


async def test_each_request_on_a_keep_alive_connection_starts_clean(caplog) -> None:
    # A connection's finished exchange serves its next request: nothing of a request (its body
    # framing, its pieces, its id, its status) may leak into the next one.
    requests = [
        b"POST /1 HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n0\r\n\r\n",
        b"GET /2 HTTP/1.1\r\nHost: s\r\n\r\n",
        b"POST /3 HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\nthird",
        b"DELETE /4 HTTP/1.1\r\nHost: s\r\n\r\n",
    ]
    async with serving(echo) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            with caplog.at_level(logging.INFO, logger="vigil.balancer.access"):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                responses = []
                for raw in requests:
                    writer.write(raw)
                    responses.append(await asyncio.wait_for(read_response(reader), 5))
                writer.close()
    assert [r.body for r in responses] == [b"first", b"", b"third", b""]
    assert [r.body for r in up.requests] == [b"first", b"", b"third", b""]
    assert [r.headers.get("transfer-encoding") for r in up.requests] == [
        "chunked",
        None,
        None,
        None,
    ]
    assert [r.headers.get("content-length") for r in up.requests] == [None, None, "5", None]
    ids = [r.headers["x-request-id"] for r in responses]
    assert len(set(ids)) == 4 and ids == [r.headers["x-request-id"] for r in up.requests]
    lines = [r.getMessage().split(" ") for r in caplog.records if r.name == "vigil.balancer.access"]
    assert [(f[2], f[3], f[4], f[-1]) for f in lines] == [
        (m, f"/{i}", "200", rid)
        for i, (m, rid) in enumerate(zip(["POST", "GET", "POST", "DELETE"], ids, strict=True), 1)
    ]
    assert up.connections == 1


async def test_the_access_log_switched_on_reaches_an_open_connection(caplog) -> None:
    # Whether the log is on is asked of logging at most every ACCESS_RECHECK seconds of loop
    # time: a keep-alive connection opened while it was off logs once that much time has passed.
    async with serving(fixed(b"abc")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for path, wait in ((b"/off", 0.0), (b"/on", ACCESS_RECHECK * 1.5)):
                if wait:
                    caplog.set_level(logging.INFO, logger="vigil.balancer.access")
                    await asyncio.sleep(wait)
                writer.write(b"GET %s HTTP/1.1\r\nHost: s\r\n\r\n" % path)
                assert (await asyncio.wait_for(read_response(reader), 5)).body == b"abc"
            writer.close()
    paths = [r.getMessage().split(" ")[3] for r in caplog.records if r.name == ACCESS_LOGGER]
    assert paths == ["/on"]
