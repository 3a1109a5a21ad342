"""Client request heads forwarded as the client wrote them, on the wire: what the upstream gets
when the head is taken from the read (``name:value`` lines kept as written) and every case that
must fall back to the head rebuilt from its pieces — a head split over reads, a second
(pipelined) head in the same read, more than one SP before the URL, HTTP/1.0, a special name,
more header lines than the raw path counts, and a head whose line sizes add up to a place past
its end where empty lines (CRLF CRLF) follow it in the read: never forwarded with an empty line
inside.
"""

from __future__ import annotations

import asyncio

from ._routers import RoundRobinRouter, upstream
from ._upstreams import proxying

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# Two lines the rebuilt head would write "A: b" and "C: d": kept as they are, they show the head
# was forwarded as written (one byte shorter and one longer than "name: value": sizes add up)
ASIS = b"A:b\r\nC:  d\r\n"
# A Host line as the rebuilt head writes it (an HTTP/1.1 request without one is answered 400)
HOST = b"Host: s\r\n"


class RawUpstream:
    """An upstream that keeps each request head exactly as its bytes came (to the empty line)
    and answers 200 ``ok`` to each; requests here have no body."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.port = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                self.heads.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(OK)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def test_a_connection_keeps_no_read_once_parsed() -> None:
    up = RawUpstream()
    await up.start()
    async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (proxy, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: svc\r\nX-Pad: " + b"p" * 4000 + b"\r\n\r\n")
        assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\nok"), 5)).startswith(
            b"HTTP/1.1 200 OK"
        )
        (client,) = proxy.state.clients
        assert client.data == b""  # type: ignore[attr-defined]
        writer.close()
    assert up.server is not None
    up.server.close()


async def _send(*pieces: bytes, answers: int = 1) -> tuple[list[bytes], bytes]:
    """Write ``pieces`` to the proxy (a pause between them: separate reads), read ``answers``
    responses; returns the heads the upstream got and what the client got."""
    up = RawUpstream()
    await up.start()
    router = RoundRobinRouter([upstream("a", up.port)])
    async with proxying(router) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i, piece in enumerate(pieces):
            if i:
                await writer.drain()
                await asyncio.sleep(0.05)
            writer.write(piece)
        got = b""
        while got.count(b"\r\n\r\nok") < answers:
            data = await asyncio.wait_for(reader.read(65536), 5)
            assert data, f"the proxy closed the connection after {got!r}"
            got += data
        writer.close()
    assert up.server is not None
    up.server.close()
    return up.heads, got


def _lines(head: bytes) -> list[bytes]:
    assert head.endswith(b"\r\n\r\n") and head.count(b"\r\n\r\n") == 1
    return head[:-4].split(b"\r\n")


def _proxy_lines_at_end(lines: list[bytes]) -> None:
    assert lines[-3] == b"X-Forwarded-For: 127.0.0.1"
    assert lines[-2] == b"X-Forwarded-Proto: http"
    assert lines[-1].startswith(b"X-Request-Id: ") and len(lines[-1]) > 22


async def test_a_plain_head_is_forwarded_as_written() -> None:
    request = b"GET /a?b=1 HTTP/1.1\r\nHost: svc\r\nUser-Agent:wrk\r\nAccept:  */*  \r\n\r\n"
    heads, got = await _send(request)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n")
    (head,) = heads
    # the lines as the client wrote them: "name:value" and the spaces kept
    assert head.startswith(request[:-2])
    _proxy_lines_at_end(_lines(head))


async def test_a_head_after_empty_lines_in_its_read_is_forwarded_without_them() -> None:
    heads, _ = await _send(b"\r\n\r\nGET / HTTP/1.1\r\n" + HOST + ASIS + b"\r\n")
    (head,) = heads
    assert head.startswith(b"GET / HTTP/1.1\r\n" + HOST + ASIS + b"X-Forwarded-For: ")


async def test_sizes_pointing_at_empty_lines_after_the_head_take_the_rebuilt_head() -> None:
    # four "name:value" lines: counted as "name: value", four bytes past the head's end,
    # where the empty lines after it read CRLF CRLF; the head must end where it ends
    request = b"GET / HTTP/1.1\r\n" + HOST + b"A:b\r\nC:d\r\nE:f\r\nG:h\r\n\r\n\r\n\r\n"
    heads, got = await _send(request)
    assert got.count(b"HTTP/1.1 200 OK") == 1
    (head,) = heads
    lines = _lines(head)
    assert lines[:6] == [b"GET / HTTP/1.1", b"Host: s", b"A: b", b"C: d", b"E: f", b"G: h"]
    _proxy_lines_at_end(lines)


async def test_pipelined_heads_in_one_read_are_each_forwarded_whole() -> None:
    first = b"GET /1 HTTP/1.1\r\n" + HOST + ASIS + b"\r\n"
    second = b"GET /2 HTTP/1.1\r\n" + HOST + ASIS + b"\r\n"
    heads, got = await _send(first + second, answers=2)
    assert got.count(b"HTTP/1.1 200 OK") == 2
    assert heads[0].startswith(first[:-2] + b"X-Forwarded-For: ")
    # where the second head begins in the read is not known: rebuilt from its pieces
    assert heads[1].startswith(b"GET /2 HTTP/1.1\r\nHost: s\r\nA: b\r\nC: d\r\nX-Forwarded-For: ")
    for head in heads:
        _proxy_lines_at_end(_lines(head))


async def test_a_head_split_over_reads_is_rebuilt() -> None:
    heads, _ = await _send(b"GET / HTTP/1.1\r\n" + HOST + b"A:", b"b\r\nC:  d\r\n\r\n")
    (head,) = heads
    assert _lines(head)[:4] == [b"GET / HTTP/1.1", b"Host: s", b"A: b", b"C: d"]


async def test_the_head_after_a_split_one_begins_a_read_and_is_forwarded_as_written() -> None:
    heads, _ = await _send(
        b"GET /1 HTTP/1.1\r\nHost:s",
        b"vc\r\n\r\n",
        b"GET /2 HTTP/1.1\r\n" + HOST + ASIS + b"\r\n",
        answers=2,
    )
    assert heads[1].startswith(b"GET /2 HTTP/1.1\r\n" + HOST + ASIS + b"X-Forwarded-For: ")


async def test_two_spaces_before_the_url_and_http10_are_rebuilt_as_http11() -> None:
    # "A:b" (a byte shorter than counted) makes up for the second SP before the URL
    heads, _ = await _send(b"GET  /x HTTP/1.1\r\nA:b\r\n" + HOST + b"\r\n")
    assert _lines(heads[0])[:2] == [b"GET /x HTTP/1.1", b"A: b"]
    for request in (
        b"GET /x HTTP/1.0\r\n" + ASIS + b"\r\n",
        b"GET /x HTTP/1.0\r\nHost:svc\r\nConnection: keep-alive\r\n\r\n",
    ):
        heads, got = await _send(request)
        assert _lines(heads[0])[:2] == [
            b"GET /x HTTP/1.1",
            b"A: b" if b"A:" in request else b"Host: svc",
        ]
        assert got.startswith(b"HTTP/1.1 200 OK\r\n")


async def test_special_names_and_many_lines_take_the_rebuilt_head() -> None:
    request = b"GET / HTTP/1.1\r\nA:b\r\nX-Request-Id:  abcdefgh12345678\r\n" + HOST + b"\r\n"
    heads, _ = await _send(request)
    lines = _lines(heads[0])
    assert lines[1] == b"A: b" and lines[-1] == b"X-Request-Id: abcdefgh12345678"
    assert lines[2] == b"Host: s"
    # 17 lines whose sizes add up (pairs of "Hn:v" and "Hn:  v", and a plain one); an empty
    # line before the head keeps the read from the plain path (test_proxy_plain_heads.py),
    # which takes such a head as written, checked byte by byte
    many = b"".join(b"H%d:%sv\r\n" % (i, b" " * (i % 2 * 2)) for i in range(16))
    many += b"Z: z\r\n" + HOST
    heads, _ = await _send(b"\r\nGET / HTTP/1.1\r\n" + many + b"\r\n")
    lines = _lines(heads[0])
    assert lines[1:18] == [b"H%d: v" % i for i in range(16)] + [b"Z: z"]
    _proxy_lines_at_end(lines)


async def test_sizes_pointing_into_the_next_request_never_forward_its_bytes() -> None:
    # five "name:value" lines: counted as "name: value", the sizes point five bytes past the
    # head's end, into what the client sent next in the same read; there "Z" CRLF CRLF looks
    # like a head's end. Forwarding up to there would put "Z" CRLF on the upstream connection
    # after this head's empty line: a second request smuggled to the upstream, this request's
    # proxy lines (X-Forwarded-For, the request id) cut off behind it.
    request = b"GET / HTTP/1.1\r\n" + HOST + b"A:b\r\nC:d\r\nE:f\r\nG:h\r\nI:j\r\n\r\n"
    heads, got = await _send(request + b"Z\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 200 OK\r\n")
    assert heads, "the upstream got no request"
    lines = _lines(heads[0])
    assert lines[0] == b"GET / HTTP/1.1"
    _proxy_lines_at_end(lines)
    assert not any(b"Z" in head for head in heads)
