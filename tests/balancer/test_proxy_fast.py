"""The fast path (a whole simple message in one read) and its fall-backs to httptools.

The parser tests pin each decision of :mod:`vigil.balancer._proxy_fast` (taken or left to
httptools); the socket tests check that both sides of every decision give the same answer on the
wire: heads split over reads, framing the fast path refuses, upstream responses without a
``Content-Length`` or with ``Connection: close``, HTTP/1.0, pipelining, and smuggling attempts.
"""

# Nested `async with`: each upstream outlives the proxy in front of it, as the layout shows.
# ruff: noqa: SIM117

from __future__ import annotations

import asyncio

import pytest

from vigil.balancer._http_headers import RequestIds
from vigil.balancer._proxy_fast import RequestParser, header_list, parse_response
from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, dead_port, upstream
from ._upstreams import Received, fixed, proxying, read_response, roundtrip, serving

GET = b"GET /x?y=1 HTTP/1.1\r\nHost: svc\r\nAccept: */*\r\n\r\n"
OK = b"HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


def parser(affinity: bytes | None = None) -> RequestParser:
    return RequestParser(
        ids=RequestIds(), proto=b"http", affinity=affinity, head_limit=4096, body_limit=100
    )


# -- request decisions ---------------------------------------------------------------------------
def test_a_whole_simple_request_is_rewritten_without_httptools() -> None:
    parsed = parser().parse(GET, b"10.0.0.1")
    assert parsed is not None
    method, url, meta, keep_alive, http10, lines = parsed
    assert (method, url, keep_alive, http10) == (b"GET", b"/x?y=1", True, False)
    assert header_list(lines) == [(b"Host", b"svc"), (b"Accept", b"*/*")]
    assert meta.head == (
        b"GET /x?y=1 HTTP/1.1\r\nHost: svc\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.1\r\n"
        b"X-Forwarded-Proto: http\r\nX-Request-Id: " + meta.request_id + b"\r\n\r\n"
    )
    assert meta.content_length == -1 and not meta.chunked


def test_a_request_with_its_whole_content_length_body_carries_the_body_in_the_head() -> None:
    raw = b"PUT /k HTTP/1.1\r\nHost: s\r\ncontent-length: 3\r\n\r\nabc"
    parsed = parser().parse(raw, b"1.2.3.4")
    assert parsed is not None
    meta = parsed[2]
    assert meta.content_length == 3
    assert meta.head.startswith(b"PUT /k HTTP/1.1\r\nHost: s\r\ncontent-length: 3\r\n")
    assert meta.head.endswith(b"\r\n\r\nabc")


def test_an_http10_request_is_not_kept_alive() -> None:
    parsed = parser().parse(b"GET / HTTP/1.0\r\nHost: s\r\n\r\n", b"1.2.3.4")
    assert parsed is not None and parsed[3:5] == (False, True)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: s\r\n",  # head not finished in this read
        b"GET / HTTP/1.1\r\nHost: s\r\n\r\nGET / HTTP/1.1\r\n\r\n",  # pipelined
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",  # body not all here
        b"POST / HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + b"a" * 500,  # over the replay limit
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n",  # smuggling: httptools says no
        b"POST / HTTP/1.1\r\nX: y\r\n transfer-encoding: chunked\r\n\r\n",  # folded
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
        b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na",
        b"POST / HTTP/1.1\r\nContent-Length : 1\r\n\r\na",
        b"GET / HTTP/1.1\r\nHost: s\nX: y\r\n\r\n",  # bare LF
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        b"GET / HTTP/1.1\r\nX-Forwarded-For: 10.1.1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX-Request-Id: mine\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"NOT A REQUEST\r\n\r\n",
    ],
)
def test_requests_the_fast_path_leaves_to_httptools(raw: bytes) -> None:
    assert parser().parse(raw, b"1.2.3.4") is None


def test_the_affinity_header_sends_a_request_to_httptools_which_reads_the_key() -> None:
    raw = b"GET / HTTP/1.1\r\nX-Session: abc\r\n\r\n"
    assert parser(b"x-session").parse(raw, b"1.2.3.4") is None
    assert parser().parse(raw, b"1.2.3.4") is not None


# -- response decisions --------------------------------------------------------------------------
def test_a_whole_response_is_forwarded_with_connection_dropped_and_a_request_id() -> None:
    parsed = parse_response(OK, b"rid", True, False)
    assert parsed == (
        200,
        b"HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 2\r\nX-Request-Id: rid\r\n\r\nok",
        2,
        True,
        True,
    )


def test_a_response_to_a_closing_or_http10_client_says_so() -> None:
    closing = parse_response(OK, b"r", False, False)
    http10 = parse_response(OK, b"r", True, True)
    assert closing is not None and closing[1].endswith(b"\r\nConnection: close\r\n\r\nok")
    assert http10 is not None and http10[1].endswith(b"\r\nConnection: keep-alive\r\n\r\nok")


def test_an_upstream_saying_connection_close_is_not_reused() -> None:
    raw = b"HTTP/1.1 404 Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    parsed = parse_response(raw, b"r", True, False)
    assert parsed is not None
    assert parsed[0] == 404 and parsed[3] is False
    assert parsed[1] == b"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\nX-Request-Id: r\r\n\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",  # body not all here
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP",  # bytes after the body
        b"HTTP/1.1 200 OK\r\nServer: t\r\n\r\nclose-delimited",  # no Content-Length
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: upgrade\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Request-Id: theirs\r\n\r\nok",
        b"HTTP/1.1 503 Busy\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 2\r\n\r\nok",
        b"this is not http at all\r\n\r\n",
    ],
)
def test_responses_the_fast_path_leaves_to_httptools(raw: bytes) -> None:
    assert parse_response(raw, b"r", True, False) is None


# -- on the wire ---------------------------------------------------------------------------------
async def test_a_request_head_split_over_two_reads_is_served() -> None:
    async with serving(fixed(b"split ok")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET[:20])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(GET[20:])
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.body == b"split ok"
    assert up.requests[0].headers["x-forwarded-for"] == "127.0.0.1"
    assert response.headers["x-request-id"] == up.requests[0].headers["x-request-id"]


async def test_a_response_split_over_reads_and_one_without_a_length_are_both_framed() -> None:
    async def split(req: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"-half")

    async def unframed(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nServer: t\r\n\r\nuntil the end")
        return False  # the body ends when the upstream closes

    async with serving(split, unframed) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            first = await roundtrip(port, GET)
            second = await roundtrip(port, GET)
    assert first.body == b"first-half"
    assert second.headers["transfer-encoding"] == "chunked"
    assert second.body == b"until the end"
    assert router.outcomes() == [("a", Outcome.OK), ("b", Outcome.OK)]


async def test_an_upstream_connection_close_on_a_whole_response_is_honoured() -> None:
    async with serving(fixed(b"bye", headers="Connection: close\r\n")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            bodies = []
            for _ in range(2):
                writer.write(GET)
                response = await asyncio.wait_for(read_response(reader), 5)
                bodies.append(response.body)
                assert "connection" not in response.headers  # hop-by-hop: the client keeps it
            writer.close()
    assert bodies == [b"bye", b"bye"]
    assert up.connections == 2  # the closed upstream connection was not reused


async def test_a_whole_post_and_a_split_post_reach_the_upstream_alike() -> None:
    body = b'{"prompt": "hi"}'
    raw = b"POST /v1 HTTP/1.1\r\nHost: s\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    async with serving(fixed(b"done")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            whole = await roundtrip(port, raw)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw[:-5])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(raw[-5:])
            split = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert whole.body == split.body == b"done"
    assert [r.body for r in up.requests] == [body, body]
    assert [r.headers["content-length"] for r in up.requests] == [str(len(body))] * 2


async def test_an_http10_client_gets_a_whole_response_and_a_close() -> None:
    async with serving(fixed(b"old")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.0\r\nHost: s\r\n\r\n")
            response = await asyncio.wait_for(read_response(reader), 5)
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after the answer
            writer.close()
    assert response.body == b"old"
    assert response.headers["connection"] == "close"


@pytest.mark.parametrize(
    "raw",
    [
        b"POST / HTTP/1.1\r\nHost: s\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"GET / HTTP/1.1\r\nHost: s\nX: y\r\n\r\n",
    ],
    ids=["space-before-colon", "two-lengths", "bare-lf"],
)
async def test_a_smuggling_attempt_is_refused_not_forwarded(raw: bytes) -> None:
    async with serving(fixed(b"never")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            response = await roundtrip(port, raw)
    assert response.status == 400
    assert up.requests == []


async def test_a_router_function_sees_the_headers_of_a_fast_path_request() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []
    async with serving(fixed(b"routed")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])

        def route(request: object) -> RoundRobinRouter:
            seen.append(list(request.headers))  # type: ignore[attr-defined]
            return router

        async with proxying(route) as (_, port):
            response = await roundtrip(port, GET)
            other = await roundtrip(port, b"GET / HTTP/1.1\r\nHost: dead\r\n\r\n")
    assert response.body == b"routed" and other.status == 200
    assert seen[0] == [(b"Host", b"svc"), (b"Accept", b"*/*")]
    assert seen[1] == [(b"Host", b"dead")]


async def test_garbage_in_a_whole_upstream_response_still_gets_502() -> None:
    async def doubled(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")
        return False

    async with serving(doubled) as (up,):
        router = RoundRobinRouter([upstream("a", up.port), upstream("b", dead_port())])
        async with proxying(router) as (_, port):
            response = await roundtrip(port, GET)
    assert response.status == 502
    assert router.outcomes()[0] == ("a", Outcome.PROTOCOL_ERROR)
