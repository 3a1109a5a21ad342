"""An HTTP/1.0 client and an upstream body in a transfer coding, on the wire (RFC 9112 §6.1: no
``Transfer-Encoding`` in a response to an HTTP/1.0 request; §6.3: the body is delimited by the
close): a chunked body reaches the client unframed and ends with the close; a gzip or deflate
transfer coding is undone for it (it could not be told about it); a coding the proxy cannot undo
is answered 502, never sent as if plain.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_head, serving

TEXT = b"hello, world " * 50


def _answering(head: bytes, body: bytes, *, chunked: bool):  # type: ignore[no-untyped-def]
    """An upstream answering ``head`` and ``body``, chunked in two pieces, or to the close."""

    async def handle(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(head)
        if chunked:
            half = len(body) // 2
            for piece in (body[:half], body[half:]):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(b"0\r\n\r\n")
            return True
        writer.write(body)
        return False  # the body ends with the close

    return handle


async def _get10(handler, request: bytes):  # type: ignore[no-untyped-def]
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            line, pairs = await asyncio.wait_for(read_head(reader), 5)
            rest = await asyncio.wait_for(reader.read(), 5)  # to the close
            writer.close()
    headers = {name.lower(): value.lower() for name, value in pairs}
    return line, headers, rest, router


GET10 = b"GET / HTTP/1.0\r\nHost: s\r\n\r\n"
GET10_KEEP = b"GET / HTTP/1.0\r\nHost: s\r\nConnection: keep-alive\r\n\r\n"


@pytest.mark.parametrize("request_bytes", [GET10, GET10_KEEP], ids=["plain", "keep-alive"])
async def test_a_chunked_body_reaches_an_http10_client_unframed_and_closed(
    request_bytes: bytes,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    line, headers, rest, _ = await _get10(_answering(head, TEXT, chunked=True), request_bytes)
    assert line.startswith("HTTP/1.1 200")
    assert "transfer-encoding" not in headers and headers["connection"] == "close"
    assert rest == TEXT


@pytest.mark.parametrize(
    ("coding", "packed"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
    ],
    ids=["gzip", "x-gzip", "deflate"],
)
@pytest.mark.parametrize("chunked", [True, False], ids=["then-chunked", "to-the-close"])
@pytest.mark.parametrize("request_bytes", [GET10, GET10_KEEP], ids=["plain", "keep-alive"])
async def test_a_transfer_coding_is_undone_for_an_http10_client(
    coding: str, packed: bytes, chunked: bool, request_bytes: bytes
) -> None:
    codings = coding + ", chunked" if chunked else coding
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n" % codings.encode()
    line, headers, rest, router = await _get10(
        _answering(head, packed, chunked=chunked), request_bytes
    )
    assert line.startswith("HTTP/1.1 200")
    assert "transfer-encoding" not in headers and headers["connection"] == "close"
    assert rest == TEXT
    assert router.outcomes() == [("a", Outcome.OK)]


async def test_a_transfer_coding_the_proxy_cannot_undo_is_answered_502_to_an_http10_client() -> (
    None
):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: compress, chunked\r\n\r\n"
    line, headers, rest, router = await _get10(
        _answering(head, b"\x1f\x9d\x90abc", chunked=True), GET10
    )
    assert line.startswith("HTTP/1.1 502")
    assert "transfer-encoding" not in headers
    assert b"compress" in rest
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


async def test_a_corrupt_gzip_body_is_cut_for_an_http10_client_not_passed_on() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    line, _, rest, router = await _get10(
        _answering(head, b"not gzip at all, but long enough" * 4, chunked=True), GET10
    )
    assert line.startswith("HTTP/1.1 200")
    assert b"not gzip" not in rest
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]
