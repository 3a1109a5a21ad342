"""Reads of whole chunks written to the client as they came (:mod:`vigil.balancer._http_chunks`),
over real sockets: a raw upstream writing a token stream, with the short way on and off (the
parser's path); what the client gets, the next response on the same upstream connection, and
garbage after whole chunks.
"""

from __future__ import annotations

import asyncio

import pytest

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_head, read_response, serving

GET = b"GET /v1/stream HTTP/1.1\r\nHost: s\r\nX-Request-Id: r1\r\n\r\n"
EVENTS = [b'data: {"token": %d, "text": "%s"}\n\n' % (i, b"x" * (i * 37 % 300)) for i in range(40)]


def chunk(event: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(event), event)


async def stream(req: Received, writer: asyncio.StreamWriter) -> None:
    """A token stream (one chunk per write, a pause after each), three events in one write,
    an upper-case size line, then the last chunk with a trailer; a plain answer to the next."""
    if req.path != "/v1/stream":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
        return
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
    writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
    for event in EVENTS[:30]:
        writer.write(chunk(event))
        await writer.drain()
        await asyncio.sleep(0.002)
    writer.write(b"".join(chunk(event) for event in EVENTS[30:33]))
    await writer.drain()
    await asyncio.sleep(0.002)
    writer.write(b"".join(b"%X\r\n%s\r\n" % (len(event), event) for event in EVENTS[33:]))
    writer.write(b"0\r\nX-Usage: 40\r\n\r\n")


async def relayed(handler: object, pass_chunks: bool) -> tuple[bytes, list[object], int]:
    """What the client read after the head of the stream's answer (to the end, or to the close),
    and the next answer on the same connection (when there is one), the router's outcomes and
    how many connections the upstream saw."""
    async with serving(handler) as (up,):  # type: ignore[arg-type]
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (proxy, port):
            proxy.state.pool.pass_chunks = pass_chunks
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            status, headers = await asyncio.wait_for(read_head(reader), 5)
            assert status.startswith("HTTP/1.1 200") and ("Transfer-Encoding", "chunked") in headers
            try:
                got = await asyncio.wait_for(reader.readuntil(b"\r\n0\r\n\r\n"), 5)
            except asyncio.IncompleteReadError as exc:  # closed: cut short
                got = exc.partial
            else:
                writer.write(b"GET /other HTTP/1.1\r\nHost: s\r\n\r\n")
                nxt = await asyncio.wait_for(read_response(reader), 5)
                got += b"|" + nxt.body
            writer.close()
    return got, router.outcomes(), up.connections


@pytest.mark.parametrize("pass_chunks", [True, False], ids=["as-is", "parser"])
async def test_a_token_stream_reaches_the_client_whole_and_the_connection_serves_the_next(
    pass_chunks: bool,
) -> None:
    got, outcomes, connections = await relayed(stream, pass_chunks)
    # strictly framed as the proxy frames (lower case, no trailer), every event, in order
    assert got == b"".join(chunk(event) for event in EVENTS) + b"0\r\n\r\n|next"
    assert outcomes == [("a", Outcome.OK), ("a", Outcome.OK)]
    assert connections == 1  # the upstream connection was kept and its next answer parsed


@pytest.mark.parametrize("junk", [b"5\r\nhelloXY\r\n", b"zz\r\n", b"5\nhello\n"])
async def test_garbage_after_whole_chunks_cuts_the_client_off_as_the_parser_did(
    junk: bytes,
) -> None:
    async def broken(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for event in EVENTS[:5]:
            writer.write(chunk(event))
            await writer.drain()
            await asyncio.sleep(0.002)
        writer.write(junk)
        await writer.drain()
        await asyncio.sleep(0.5)  # the proxy, not the upstream, closes
        return False

    as_is = await relayed(broken, True)
    parser = await relayed(broken, False)
    assert as_is == parser
    got, outcomes, _ = as_is
    # the events, then what the parser let through before it saw the junk (the data of a chunk
    # whose CRLF is missing), and no last chunk: the client sees the answer cut short
    assert got.startswith(b"".join(chunk(event) for event in EVENTS[:5]))
    assert len(got) <= len(b"".join(chunk(event) for event in EVENTS[:5])) + len(junk) + 3
    assert not got.endswith(b"0\r\n\r\n")
    assert outcomes == [("a", Outcome.PROTOCOL_ERROR)]
