"""Upstream response heads taken whole, on the wire: every case the fast path hands to the full
rewrite, and the ones it keeps, through real sockets on both legs — a head split over reads, an
upstream ``Connection: close`` / ``Keep-Alive`` / list, ``Transfer-Encoding: chunked``, two
``Content-Length`` lines and obs-fold (refused by llhttp: 502), interim 1xx heads before the
answer (in its read and apart), a 101, HEAD, 204 and 304 without a body, empty lines before a
status line, an HTTP/1.0 upstream, lower-case (uvicorn/h11) names, and a transfer coding other
than chunked (kept in the client's ``Transfer-Encoding``).
"""

from __future__ import annotations

import asyncio
import gzip

import pytest

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_head, read_response, serving

GET = b"GET / HTTP/1.1\r\nHost: svc\r\n\r\n"


def answering(*pieces: bytes, close: bool = False):  # type: ignore[no-untyped-def]
    """An upstream handler writing ``pieces`` with a pause between them (separate reads)."""

    async def handle(req: Received, writer: asyncio.StreamWriter) -> bool:
        for i, piece in enumerate(pieces):
            if i:
                await writer.drain()
                await asyncio.sleep(0.03)
            writer.write(piece)
        return not close

    return handle


async def _twice(handler, method: bytes = b"GET"):  # type: ignore[no-untyped-def]
    """Two requests on one client connection through the proxy to one upstream: the raw head
    lines and bodies the client got, the upstream, and the router."""
    request = method + b" / HTTP/1.1\r\nHost: svc\r\n\r\n"
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            got = []
            for _ in range(2):
                writer.write(request)
                got.append(await asyncio.wait_for(read_response(reader, method.decode()), 5))
            writer.close()
    return got, up, router


async def _once(handler):  # type: ignore[no-untyped-def]
    """One GET through the proxy to one upstream answering with ``handler``: the response the
    client got, and the router."""
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    return response, router


async def _raw_get(handler):  # type: ignore[no-untyped-def]
    """One GET through the proxy to one upstream answering with ``handler``: the client's
    status line and header pairs as sent (names as spelled), and a body of two bytes."""
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            line, pairs = await asyncio.wait_for(read_head(reader), 5)
            body = await asyncio.wait_for(reader.readexactly(2), 5)
            writer.close()
    return line, pairs, body


async def test_a_response_head_split_over_three_reads_is_forwarded_whole() -> None:
    head = b"HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n"
    got, up, router = await _twice(answering(head[:9], head[9:40], head[40:] + b"body"))
    for response in got:
        assert response.status == 200 and response.body == b"body"
        assert response.headers["server"] == "t" and response.headers["content-length"] == "4"
        assert "connection" not in response.headers and len(response.headers["x-request-id"]) > 8
    assert up.connections == 1  # kept alive and reused
    assert router.outcomes() == [("a", Outcome.OK)] * 2


@pytest.mark.parametrize(
    "line",
    [b"Connection: close", b"connection: Close", b"CONNECTION: close"],
    ids=["canonical", "lower", "upper"],
)
async def test_an_upstream_connection_close_is_cut_and_its_connection_not_reused(
    line: bytes,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + line + b"\r\nX-A: 1\r\n\r\nok"
    got, up, _ = await _twice(answering(head, close=True))
    for response in got:
        assert response.body == b"ok" and response.headers["x-a"] == "1"
        assert "connection" not in response.headers  # the client's connection stays open
    assert up.connections == 2


async def test_keep_alive_and_the_headers_a_connection_names_are_dropped() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive, X-Hop\r\n"
        b"X-Hop: secret\r\nX-Kept: 1\r\nContent-Length: 2\r\n\r\nok"
    )
    got, _, _ = await _twice(answering(head))
    for response in got:
        assert response.body == b"ok" and response.headers["x-kept"] == "1"
        for name in ("keep-alive", "connection", "x-hop"):
            assert name not in response.headers


async def test_a_chunked_upstream_body_is_rechunked_in_any_spelling() -> None:
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nX-A: 1\r\n\r\n"
    got, _, _ = await _twice(answering(head + b"3\r\nabc\r\n", b"2\r\nde\r\n0\r\n\r\n"))
    for response in got:
        assert response.body == b"abcde" and response.headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok",
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    ],
    ids=["two-lengths", "obs-fold", "length-and-chunked", "bare-lf"],
)
async def test_a_head_llhttp_refuses_is_a_502_split_or_whole(head: bytes) -> None:
    for pieces in ((head,), (head[:20], head[20:])):
        response, router = await _once(answering(*pieces, close=True))
        assert response.status == 502
        assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


@pytest.mark.parametrize("apart", [False, True], ids=["one-read", "apart"])
async def test_interim_heads_before_the_answer_are_not_forwarded(apart: bool) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
    final = b"HTTP/1.1 201 Created\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok"
    pieces = (interim, final) if apart else (interim + final,)
    got, up, _ = await _twice(answering(*pieces))
    for response in got:
        assert response.status == 201 and response.body == b"ok"
        assert response.headers["x-a"] == "1" and "link" not in response.headers
    assert up.connections == 1


async def test_a_switching_protocols_answer_is_a_502() -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    response, _ = await _once(answering(head, close=True))
    assert response.status == 502


async def test_a_head_answer_keeps_its_length_and_sends_no_body() -> None:
    async def head_answer(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nConnection: keep-alive\r\n\r\n")
        return True

    got, _, _ = await _twice(head_answer, b"HEAD")
    for response in got:  # the second answer is read right after the first: nothing between
        assert response.status == 200 and response.headers["content-length"] == "1234"
        assert response.body == b"" and "transfer-encoding" not in response.headers


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified", b"204"])
async def test_bodyless_answers_get_no_framing_and_keep_the_connection(status: bytes) -> None:
    head = b"HTTP/1.1 " + status + b"\r\nETag: x\r\nConnection: keep-alive\r\n\r\n"
    got, up, _ = await _twice(answering(head))
    for response in got:
        assert response.status == int(status[:3])
        assert "transfer-encoding" not in response.headers
        assert "content-length" not in response.headers and response.headers["etag"] == "x"
    assert up.connections == 1


async def test_empty_lines_before_a_status_line_and_an_http10_upstream_are_served() -> None:
    head = b"\r\n\r\nHTTP/1.0 200 Fine\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
    line, pairs, body = await _raw_get(answering(head[:3], head[3:]))
    assert line == "HTTP/1.1 200 Fine" and body == b"ok"
    assert ("Content-Length", "2") in pairs


async def test_lower_case_names_and_an_upstream_request_id_are_forwarded_once() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\ndate: x\r\nserver: uvicorn\r\ncontent-length: 2\r\n"
        b"content-type: application/json\r\nx-request-id: from-up\r\n\r\nok"
    )
    line, pairs, body = await _raw_get(answering(head))
    assert line == "HTTP/1.1 200 OK" and body == b"ok"
    assert [value for name, value in pairs if name.lower() == "x-request-id"] == ["from-up"]
    assert ("server", "uvicorn") in pairs and ("content-length", "2") in pairs


def _dechunk(data: bytes) -> bytes:
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2 :]


@pytest.mark.parametrize("chunked", [True, False], ids=["gzip-chunked", "gzip-to-the-close"])
async def test_a_transfer_coding_other_than_chunked_reaches_the_client(chunked: bool) -> None:
    # Transfer-Encoding is hop-by-hop, but the codings it lists are applied to the body: the
    # proxy re-frames the body (chunked) and must keep telling the client about the others
    packed = gzip.compress(b"hello, world")
    if chunked:
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        handler = answering(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed))
    else:
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"  # the body ends at the close
        handler = answering(head + packed, close=True)
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            _, pairs = await asyncio.wait_for(read_head(reader), 5)
            raw = await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 5)
            writer.close()
    codings = [value.lower() for name, value in pairs if name.lower() == "transfer-encoding"]
    assert codings == ["gzip, chunked"]
    assert gzip.decompress(_dechunk(raw)) == b"hello, world"
