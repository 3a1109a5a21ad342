"""Plain request heads taken without the request parser (``_http_plain``), on the wire: such a
head is forwarded exactly as written, compiled (from source the parser takes every read); the
requests before and after it on the same connection are parsed as before (the parser, which
never saw it, is still between two requests); and each read the plain path must leave to the
parser gets the parser's answer: a body, a head over the limit (431), a bare CR or a SP before
a colon (400), a value with obs-text (rebuilt).
"""

from __future__ import annotations

import asyncio

from httptools import HttpRequestParser

from vigil.balancer._pure import build

from ._routers import RoundRobinRouter, upstream
from ._upstreams import proxying
from .test_proxy_request_heads import _lines, _proxy_lines_at_end, _send

COMPILED = build() == "compiled"


class Request:
    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.method = b""


class ParsedUpstream(asyncio.Protocol):
    """An upstream that parses what it gets with httptools and answers each request 200 ``ok``
    (a HEAD without the body): the requests as a server reads them."""

    requests: list[Request] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.parser = HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.requests.append(Request())

    def on_url(self, url: bytes) -> None:
        self.requests[-1].url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.requests[-1].headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.requests[-1].body += body

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        self.requests[-1].method = method
        body = b"" if method == b"HEAD" else b"ok"
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + body)  # type: ignore[attr-defined]


async def _exchange(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader, data: bytes, head: bool = False
) -> bytes:
    """Write ``data`` as one read of its own and read one answer (its head, and ``ok``)."""
    writer.write(data)
    await writer.drain()
    got = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    if got.startswith(b"HTTP/1.1 200") and not head:
        got += await asyncio.wait_for(reader.readexactly(2), 5)
    await asyncio.sleep(0.02)  # the next write is a read of its own
    return got


async def test_a_plain_head_is_forwarded_exactly_as_written() -> None:
    # 20 lines "name:value": beyond what the head taken from the parsed read allows (16), so
    # the parser's path rebuilds it; the plain path forwards it byte for byte
    lines = b"".join(b"H%d:v%d\r\n" % (i, i) for i in range(20))
    request = b"GET /a/b?c=d HTTP/1.1\r\nHost: svc\r\n" + lines + b"\r\n"
    heads, got = await _send(request)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n")
    (head,) = heads
    if COMPILED:
        assert head.startswith(request[:-2] + b"X-Forwarded-For: ")
    else:
        assert _lines(head)[2:22] == [b"H%d: v%d" % (i, i) for i in range(20)]
    _proxy_lines_at_end(_lines(head))


async def test_requests_around_plain_ones_on_one_connection_are_read_as_before() -> None:
    ParsedUpstream.requests = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(ParsedUpstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with proxying(RoundRobinRouter([upstream("a", port)])) as (_, proxy_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        sent = [
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            b"HEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST /4 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\n\r\n",
            b"DELETE /5 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"OPTIONS /6 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /7 HTTP/1.1\r\nHost: a\r\nA: caf\xc3\xa9\r\n\r\n",  # obs-text: the parser's path
        ]
        for data in sent:
            got = await _exchange(writer, reader, data, head=data.startswith(b"HEAD"))
            assert got.startswith(b"HTTP/1.1 200 OK\r\n"), (data, got)
        # then a malformed head: the parser, between two requests, answers 400 and closes
        writer.write(b"GET /8 HTTP/1.1\r\nHost: a\r\nA: b\rc\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(65536), 5)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert await asyncio.wait_for(reader.read(65536), 5) == b""
        writer.close()
    server.close()
    got = ParsedUpstream.requests
    assert [(r.method, r.url, r.body) for r in got] == [
        (b"GET", b"/1", b""),
        (b"POST", b"/2", b"hello"),
        (b"HEAD", b"/3", b""),
        (b"POST", b"/4", b"abc"),
        (b"DELETE", b"/5", b""),
        (b"OPTIONS", b"/6", b""),
        (b"GET", b"/7", b""),
    ]
    for r in got:
        names = [name.lower() for name, _ in r.headers]
        assert names.count(b"x-request-id") == 1 and names.count(b"x-forwarded-for") == 1
    assert (b"A", b"caf\xc3\xa9") in got[6].headers


async def _one(data: bytes, **settings: object) -> bytes:
    """What the client gets for ``data`` written as one read (up to the proxy's close)."""
    ParsedUpstream.requests = []
    server = await asyncio.get_running_loop().create_server(ParsedUpstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with proxying(RoundRobinRouter([upstream("a", port)]), **settings) as (_, proxy_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(data)
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.close()
    server.close()
    return answer


async def test_a_plain_head_over_the_limit_gets_431_from_the_parser() -> None:
    data = b"GET / HTTP/1.1\r\nHost: a\r\nA: " + b"b" * 200 + b"\r\n\r\n"
    assert (await _one(data, max_header_bytes=100)).startswith(b"HTTP/1.1 431 ")
    assert not ParsedUpstream.requests


async def test_heads_llhttp_refuses_get_400_whatever_path_looks_first() -> None:
    for data in (
        b"GET / HTTP/1.1\r\nHost: a\r\nA: b\rc\r\n\r\n",  # a bare CR in a value
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",  # a SP before the colon
        b"GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n c\r\n\r\n",  # obs-fold
        b"GET / HTTP/1.1\r\nHost: a\r\nA: b\x00\r\n\r\n",  # NUL
    ):
        assert (await _one(data)).startswith(b"HTTP/1.1 400 "), data
        assert not ParsedUpstream.requests


async def test_a_request_with_two_host_lines_gets_400_and_is_never_forwarded() -> None:
    # RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host line (a
    # router reading the first and an upstream the last would disagree on the target)
    for data in (
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  # a plain head
        b"GET / HTTP/1.1\r\nHost: a\r\nA: b\r\nhOST: b\r\n\r\n",  # any case
        b"POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi",  # parsed
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",  # any version
    ):
        assert (await _one(data)).startswith(b"HTTP/1.1 400 "), data
        assert not ParsedUpstream.requests, data


async def test_a_plain_head_read_while_a_body_is_still_due_is_body() -> None:
    # the read is exactly a plain head, but the request before it still owes that many body
    # bytes: it is body (the parser's), not a request of its own (smuggled past the framing)
    ParsedUpstream.requests = []
    server = await asyncio.get_running_loop().create_server(ParsedUpstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    inner = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
    async with proxying(RoundRobinRouter([upstream("a", port)])) as (_, proxy_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(
            b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\nabcde" % (5 + len(inner))
        )
        await writer.drain()
        await asyncio.sleep(0.05)
        got = await _exchange(writer, reader, inner)
        assert got.startswith(b"HTTP/1.1 200 OK\r\n")
        got = await _exchange(writer, reader, b"GET /y HTTP/1.1\r\nHost: a\r\n\r\n")
        assert got.startswith(b"HTTP/1.1 200 OK\r\n")
        writer.close()
    server.close()
    assert [(r.method, r.url, r.body) for r in ParsedUpstream.requests] == [
        (b"POST", b"/p", b"abcde" + inner),
        (b"GET", b"/y", b""),
    ]


async def test_the_parser_after_a_stray_cr_still_reads_the_request_after_a_plain_head() -> None:
    # a read ending in a stray CR after its request leaves llhttp mid empty line; the plain
    # head after it never reaches llhttp, so the next parsed request finds it there
    ParsedUpstream.requests = []
    server = await asyncio.get_running_loop().create_server(ParsedUpstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with proxying(RoundRobinRouter([upstream("a", port)])) as (_, proxy_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        for data in (
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r",  # the parser's: it ends in a CR
            b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n",  # plain
            b"POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",  # the parser's
        ):
            got = await _exchange(writer, reader, data)
            assert got.startswith(b"HTTP/1.1 200 OK\r\n"), (data, got)
        writer.close()
    server.close()
    assert [(r.method, r.url, r.body) for r in ParsedUpstream.requests] == [
        (b"GET", b"/1", b""),
        (b"GET", b"/2", b""),
        (b"POST", b"/3", b"hi"),
    ]
