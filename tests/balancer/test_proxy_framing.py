"""Message framing on the wire: heads and bodies split over reads or whole in one, upstream
responses without a ``Content-Length`` or with ``Connection: close``, HTTP/1.0 clients, request
smuggling attempts, and what a router function sees. Real sockets on both legs.
"""

# Nested `async with`: each upstream outlives the proxy in front of it, as the layout shows.
# ruff: noqa: SIM117

from __future__ import annotations

import asyncio
import itertools
import re

import pytest

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, dead_port, upstream
from ._upstreams import (
    Received,
    fixed,
    proxying,
    read_head,
    read_response,
    roundtrip,
    serving,
)

GET = b"GET /x?y=1 HTTP/1.1\r\nHost: svc\r\nAccept: */*\r\n\r\n"


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


@pytest.mark.parametrize("header", [b"Connection: keep-alive", b"Proxy-Connection: keep-alive"])
async def test_an_http10_client_asking_for_keep_alive_keeps_it_and_gets_no_chunks(
    header: bytes,
) -> None:
    # llhttp keeps an HTTP/1.0 connection alive for either header; the proxy must still know
    # the client speaks 1.0 (its answer says keep-alive; a body without a length is not chunked)
    async def unframed(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nServer: t\r\n\r\nuntil the end")
        return False

    request = b"GET / HTTP/1.0\r\nHost: s\r\n" + header + b"\r\n\r\n"
    async with serving(fixed(b"old"), unframed) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            first = await asyncio.wait_for(read_response(reader), 5)
            writer.write(request)  # the same connection: it was kept alive
            _, pairs = await asyncio.wait_for(read_head(reader), 5)
            rest = await asyncio.wait_for(reader.read(), 5)  # ends with the close
            writer.close()
    assert first.body == b"old"
    assert first.headers["connection"] == "keep-alive"
    headers = {name.lower(): value.lower() for name, value in pairs}
    assert "transfer-encoding" not in headers
    assert headers["connection"] == "close"
    assert rest == b"until the end"


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


# Chunk sizes around the proxy's table of size lines (4096 entries) and the hex digit changes.
_SIZES = (1, 15, 16, 255, 256, 4095, 4096, 4097, 70_000)


def _pieces() -> list[bytes]:
    return [bytes([65 + i]) * size for i, size in enumerate(_SIZES)]


async def _read_chunks_strictly(reader: asyncio.StreamReader) -> list[bytes]:
    """The chunks of a body as the proxy framed them: each size line lower-case hex with no
    extension and no leading zero, each chunk's data followed by CRLF, no trailer."""
    chunks = []
    while True:
        line = await reader.readuntil(b"\r\n")
        assert re.fullmatch(rb"(0|[1-9a-f][0-9a-f]*)\r\n", line), line
        size = int(line, 16)
        if size == 0:
            assert await reader.readexactly(2) == b"\r\n"
            return chunks
        chunks.append(await reader.readexactly(size))
        assert await reader.readexactly(2) == b"\r\n"


async def test_a_chunked_body_is_reframed_whatever_its_sizes_and_reads() -> None:
    """Chunks of every size class, several whole in one read, one split inside its size line and
    one inside its data, upper-case hex and an extension: the client gets the same data, framed
    by the proxy."""
    pieces = _pieces()

    async def chunked(req: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        wire = b"".join(
            b"%X;ext=%d\r\n%s\r\n" % (len(p), i, p) if i % 2 else b"%x\r\n%s\r\n" % (len(p), p)
            for i, p in enumerate(pieces)
        )
        # cut inside the second size line ("F;ext=1"), the third chunk's data, the 4096 one's...
        cuts = [0, 8, 40, 4500, len(wire) - 30_000, len(wire)]
        for start, end in itertools.pairwise(cuts):
            writer.write(wire[start:end])
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"0\r\n\r\n")

    async with serving(chunked) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            _, headers = await asyncio.wait_for(read_head(reader), 5)
            chunks = await asyncio.wait_for(_read_chunks_strictly(reader), 5)
            writer.close()
    assert ("Transfer-Encoding", "chunked") in headers
    assert b"".join(chunks) == b"".join(pieces)
    assert all(chunks)


async def test_a_chunked_request_body_of_every_size_class_reaches_the_upstream_whole() -> None:
    pieces = _pieces()
    async with serving(fixed(b"ok")) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /up HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in pieces:
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(b"0\r\n\r\n")
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.body == b"ok"
    assert up.requests[0].headers["transfer-encoding"] == "chunked"
    assert up.requests[0].body == b"".join(pieces)


async def test_a_204_reaches_the_client_without_content_length() -> None:
    # RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204; an upstream that does is
    # not believed by the proxy's parser (no body) and must not be repeated to the client,
    # which could wait for the five bytes announced
    async def no_content(req: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nServer: t\r\n\r\n")

    async with serving(no_content, fixed(b"next")) as (a, b):
        router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            first = await asyncio.wait_for(read_response(reader), 5)
            writer.write(GET)  # the same connection: the 204 ended where its head did
            second = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert first.status == 204 and first.headers["server"] == "t"
    assert "content-length" not in first.headers and "transfer-encoding" not in first.headers
    assert second.body == b"next"


async def test_the_proxys_own_answer_to_an_http10_keep_alive_client_says_keep_alive() -> None:
    # An HTTP/1.0 client keeps a connection only when the answer says so (as the proxy's
    # forwarded answers do): without it the client (ab -k, for one) waits for the close the
    # proxy, keeping the connection, never makes
    request = b"GET / HTTP/1.0\r\nHost: s\r\nConnection: keep-alive\r\n\r\n"
    async with proxying(RoundRobinRouter([upstream("a", dead_port())])) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        for _ in range(2):  # the same connection: it was kept alive
            writer.write(request)
            answers.append(await asyncio.wait_for(read_response(reader), 5))
        writer.close()
    for answer in answers:
        assert answer.status >= 500
        assert answer.headers["connection"] == "keep-alive"
