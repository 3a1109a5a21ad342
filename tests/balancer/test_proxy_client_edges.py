"""Client-side edges of the data plane, on the wire: a request head trickled a byte at a time
(slowloris) is cut off ``client_timeout`` after it began, however often bytes come; an upstream
answering before the upload ends, or a connect failing while the body waits for it, lets the
client finish its upload and go on; an HTTP/1.0 client gets
no 100 Continue; an upgrade request is answered 400 alone and never forwarded; an HTTP/1.0
request with Transfer-Encoding closes its connection after its answer; a chunked body's
trailers are not kept; the proxy's own answer to a HEAD request has no body.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

from ._routers import RoundRobinRouter, dead_port, upstream
from ._upstreams import Received, Response, fixed, proxying, read_response, serving

TIMEOUT = 0.3
# The trickle goes on for twenty times the client timeout: a cut that waits for a pause between
# bytes (each pause is a third of the timeout) never comes within it.
TRICKLE = 60


async def test_a_head_trickled_a_byte_at_a_time_gets_a_408_after_the_client_timeout() -> None:
    async with serving(fixed(b"never")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, client_timeout=TIMEOUT) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: svc\r\nX-Slow: ")
            got = b""
            sent = 0
            while sent < TRICKLE and not reader.at_eof():
                try:
                    writer.write(b"a")
                    await writer.drain()
                except ConnectionError:
                    break
                sent += 1
                with contextlib.suppress(TimeoutError):
                    got += await asyncio.wait_for(reader.read(4096), TIMEOUT / 3)
            got += await asyncio.wait_for(reader.read(), 5)
            writer.close()
    assert sent < TRICKLE, "the head was never cut off while bytes kept coming"
    assert got.startswith(b"HTTP/1.1 408 ")
    assert up.requests == []


async def _upload_then_get(port: int, size: int) -> tuple[Response, Response]:
    """A POST of ``size`` bytes sent whole (1 MiB writes, each drained), then a GET on the same
    connection: the answers to both."""
    piece = b"x" * (1 << 20)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /up HTTP/1.1\r\nHost: svc\r\nContent-Length: %d\r\n\r\n" % size)
    for _ in range(size // len(piece)):
        writer.write(piece)
        await asyncio.wait_for(writer.drain(), 10)
    answer = await asyncio.wait_for(read_response(reader), 5)
    writer.write(b"GET /next HTTP/1.1\r\nHost: svc\r\n\r\n")
    second = await asyncio.wait_for(read_response(reader), 5)
    writer.close()
    return answer, second


class EarlyAnswer:
    """An upstream that answers a POST 413 after reading only the first MiB of its body, then
    reads nothing more (as a server refusing an upload does), and answers a GET ``ok``."""

    def __init__(self) -> None:
        self.port = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"GET"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                await reader.read()
                return
            await reader.readexactly(1 << 20)
            await asyncio.sleep(0.3)  # the proxy's buffers towards us fill meanwhile
            writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
            await writer.drain()
            await reader.read()  # the rest, once the proxy has the answer and lets go
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_an_answer_before_the_upload_ends_lets_the_client_finish_and_go_on() -> None:
    # the upload fills every buffer up to the upstream, which stops reading, so the proxy stops
    # reading the client; the upstream's answer ends the exchange: the rest of the body is then
    # read and discarded (the client was told keep-alive) and the next request is served
    up = EarlyAnswer()
    await up.start()
    async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
        answer, second = await _upload_then_get(port, 64 << 20)
    assert up.server is not None
    up.server.close()
    assert (answer.status, answer.body) == (413, b"big")
    assert (second.status, second.body) == (200, b"ok")


async def test_an_http10_client_expecting_100_continue_gets_no_interim_answer() -> None:
    # RFC 9110 §15.2: no 1xx to an HTTP/1.0 client (it would take it for the answer), and an
    # HTTP/1.0 request's 100-continue expectation is ignored; an HTTP/1.1 client gets its 100
    head = b" / HTTP/1.%d\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    firsts = []
    async with serving(fixed(b"done")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            for minor in (0, 1):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"POST" + head % minor)
                await writer.drain()
                if minor == 1:  # as a client expecting 100 does: the body once it came
                    firsts.append(await asyncio.wait_for(reader.readuntil(b"\r\n"), 5))
                else:  # a pause: the head is read alone, the body has not come yet
                    await asyncio.sleep(0.05)
                writer.write(b"{}")
                if minor == 0:
                    firsts.append(await asyncio.wait_for(reader.readuntil(b"\r\n"), 5))
                await asyncio.wait_for(reader.readuntil(b"done"), 5)
                writer.close()
    assert firsts == [b"HTTP/1.1 200 X\r\n", b"HTTP/1.1 100 Continue\r\n"]
    assert [r.body for r in up.requests] == [b"{}", b"{}"]


async def _to_the_close(raw: bytes) -> tuple[bytes, list[Received]]:
    """``raw`` sent through a proxy over one upstream answering ``done``: all the client read
    until the proxy closed, and the requests the upstream got."""
    async with serving(fixed(b"done")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            got = await asyncio.wait_for(reader.read(), 5)  # to the proxy's close
            writer.close()
    return got, up.requests


async def test_an_upgrade_request_gets_one_400_and_never_reaches_the_upstream() -> None:
    upgrade = (
        b"GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    got, requests = await _to_the_close(upgrade)
    assert got.startswith(b"HTTP/1.1 400 ") and got.count(b"HTTP/1.1 ") == 1
    assert requests == []


async def test_an_http10_request_with_transfer_encoding_is_served_then_its_connection_closed() -> (
    None
):
    # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (a 1.0 hop
    # before us may not have known chunked and framed it otherwise): the connection is closed
    # after it, so what follows in it is never taken for a request of its own
    request = (
        b"POST /a HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\nHost: svc\r\n\r\n"
    )
    got, requests = await _to_the_close(request)
    assert got.startswith(b"HTTP/1.1 200 X\r\n") and got.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close\r\n" in got
    assert [(r.path, r.body) for r in requests] == [("/a", b"{}")]


async def test_a_chunked_body_s_trailers_are_not_kept_however_many() -> None:
    # trailers are dropped (never forwarded); llhttp hands them over like header lines, and no
    # head limit applies after the head: kept, an endless trailer section grew without bound
    async with serving(fixed(b"done")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, max_header_bytes=4096) as (proxy, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /t HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\n{}\r\n0\r\n" + b"X-T: 1\r\n" * 20_000 + b"\r\n"
            )
            response = await asyncio.wait_for(read_response(reader), 5)
            (client,) = proxy.state.clients  # still open: kept alive
            kept = len(client.headers)  # type: ignore[attr-defined]
            writer.close()
    assert response.body == b"done" and up.requests[0].body == b"{}"
    assert kept == 2  # the head's Host and Transfer-Encoding, no trailer


async def test_the_proxy_s_own_answer_to_a_head_request_has_no_body() -> None:
    # a HEAD answer ends at its empty line whatever its Content-Length says: a body after it
    # would be read by the client as the start of its next answer on the connection
    router = RoundRobinRouter([upstream("a", dead_port())])
    async with proxying(router) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        got = []
        for method in ("HEAD", "GET"):
            writer.write(method.encode() + b" / HTTP/1.1\r\nHost: svc\r\n\r\n")
            got.append(await asyncio.wait_for(read_response(reader, method), 5))
        writer.close()
    assert [r.status for r in got] == [502, 502]
    assert got[0].headers["content-length"] == got[1].headers["content-length"]
    assert got[1].body == b"no other upstream to retry on\n"  # refused, then none left


async def test_an_upload_waiting_for_a_connect_that_fails_lets_the_client_finish_and_go_on() -> (
    None
):
    # the body is buffered while the upstream connection opens, and reading pauses past
    # max_pending_bytes; the connect times out (a listener whose backlog is full takes no
    # more): the proxy answers itself, reads and discards the rest, and serves the next request
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname())  # fills the backlog
    try:
        router = RoundRobinRouter([upstream("a", listener.getsockname()[1])])
        async with proxying(router, connect_timeout=0.3, max_pending_bytes=64 << 10) as (_, port):
            answer, second = await _upload_then_get(port, 8 << 20)
    finally:
        filler.close()
        listener.close()
    assert (answer.status, answer.body) == (502, b"no other upstream to retry on\n")
    assert second.status == 502


async def test_idle_client_connections_share_one_timer_and_are_closed_on_time() -> None:
    """The clients' timeouts are one sweep of the proxy, not a loop timer per connection (the
    asyncio loop's own timer list shows it); every idle connection is still closed after the
    timeout, and the sweep stops once no connection is left."""
    connections = 20
    async with serving(fixed(b"one")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, client_timeout=TIMEOUT) as (proxy, port):
            loop = asyncio.get_running_loop()
            if not isinstance(loop, asyncio.BaseEventLoop):
                pytest.skip("uvloop keeps its timers out of reach")
            opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
            for _ in range(100):
                if len(proxy.state.clients) == connections:
                    break
                await asyncio.sleep(0.01)
            timers = len(loop._scheduled)  # the proxy's, and at most a test's sleep
            closed = [await asyncio.wait_for(reader.read(), 3) for reader, _ in opened]
            for _, writer in opened:
                writer.close()
            for _ in range(100):
                if not proxy.state.clients:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(TIMEOUT)  # a sweep with no client left: the last one
            sweeping = getattr(proxy.state, "_sweeper", None) is not None
    assert timers <= 2
    assert len(proxy.state.clients) == 0
    assert closed == [b""] * connections
    assert not sweeping
