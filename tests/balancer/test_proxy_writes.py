"""How the data plane writes: one write per small response, sent before the bookkeeping.

Driven through the protocols with recording transports (no sockets), so the number and order of
writes is exact: a response that arrives whole goes to the client in one write (head and body
together: one TCP segment), and that write happens before the attempt is released to the router
(pool, metrics and access log are off the client's latency). Streams still get one write per
upstream read. Also the head-size limits, which are checked per read rather than per header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer._proxy_upstream import MAX_UPSTREAM_HEAD, UpstreamConnection
from vigil.balancer._upstream import Outcome
from vigil.balancer.proxy import Proxy, ProxyState

from ._routers import RoundRobinRouter, upstream


@dataclass
class Recorder:
    """A transport that records each write call, and what the router had seen at that time."""

    router: RoundRobinRouter
    writes: list[bytes] = field(default_factory=list)
    released_at_write: list[int] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.released_at_write.append(len(self.router.released))

    def writelines(self, parts: list[bytes]) -> None:
        self.write(b"".join(parts))

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


@dataclass
class Rig:
    state: ProxyState
    router: RoundRobinRouter
    client: ClientConnection
    client_io: Recorder
    conn: UpstreamConnection
    upstream_io: Recorder


@asynccontextmanager
async def rig() -> AsyncIterator[Rig]:
    """A started proxy with one idle upstream connection in its pool and one client."""
    router = RoundRobinRouter([upstream("a", 9)])
    proxy = Proxy(router)
    await proxy.start()
    try:
        state = proxy.state
        conn = UpstreamConnection(state.pool, ("127.0.0.1", 9))
        upstream_io = Recorder(router)
        conn.connection_made(upstream_io)  # type: ignore[arg-type]
        state.pool.put(conn)
        client = ClientConnection(state)
        client_io = Recorder(router)
        client.connection_made(client_io)  # type: ignore[arg-type]
        yield Rig(state, router, client, client_io, conn, upstream_io)
        client.connection_lost(None)
    finally:
        await proxy.stop(0.1)


RESPONSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"
)


async def test_a_whole_small_response_goes_out_in_one_write_before_the_release() -> None:
    async with rig() as r:
        r.client.data_received(b"GET /x HTTP/1.1\r\nHost: s\r\n\r\n")
        assert len(r.upstream_io.writes) == 1  # the request head, in one write
        assert r.upstream_io.writes[0].startswith(b"GET /x HTTP/1.1\r\n")
        r.conn.data_received(RESPONSE_HEAD + b"hello")
        assert len(r.client_io.writes) == 1
        out = r.client_io.writes[0]
        assert out.startswith(b"HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 5\r\n")
        assert out.endswith(b"\r\n\r\nhello")
        assert r.client_io.released_at_write == [0]  # written before the router heard of it
        assert r.router.outcomes() == [("a", Outcome.OK)]
        assert r.state.pool.take(("127.0.0.1", 9)) is r.conn  # back in the pool for reuse


async def test_a_request_is_watched_by_the_ticker_until_its_response_ends() -> None:
    async with rig() as r:
        r.client.data_received(b"GET /x HTTP/1.1\r\nHost: s\r\n\r\n")
        (watched,) = r.state.timers  # waiting for the first byte, no loop timer of its own
        assert watched.deadline > r.state.loop.time()
        r.conn.data_received(RESPONSE_HEAD + b"hel")
        assert r.state.timers == {watched}  # streaming: the idle timeout
        r.conn.data_received(b"lo")
        assert r.state.timers == set()


async def test_each_upstream_read_of_a_stream_is_written_at_once() -> None:
    async with rig() as r:
        r.client.data_received(b"GET /s HTTP/1.1\r\nHost: s\r\n\r\n")
        r.conn.data_received(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        r.conn.data_received(b"b\r\ndata: one\n\n\r\n")
        r.conn.data_received(b"b\r\ndata: two\n\n\r\n")
        assert len(r.client_io.writes) == 3  # the head, then one write per event
        assert r.client_io.writes[1] == b"b\r\ndata: one\n\n\r\n"
        assert r.client_io.writes[2] == b"b\r\ndata: two\n\n\r\n"
        assert r.router.outcomes() == []
        r.conn.data_received(b"0\r\n\r\n")
        assert r.client_io.writes[3] == b"0\r\n\r\n"
        assert r.router.outcomes() == [("a", Outcome.OK)]


async def test_an_upstream_head_over_the_limit_is_garbage_whole_or_in_pieces() -> None:
    big = b"X-Big: " + b"y" * MAX_UPSTREAM_HEAD + b"\r\n"
    for pieces in ([big], [big[:1000], big[1000:40000], big[40000:]]):
        async with rig() as r:
            r.client.data_received(b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
            r.conn.data_received(b"HTTP/1.1 200 OK\r\n")
            for piece in pieces:
                r.conn.data_received(piece)
            r.conn.data_received(b"Content-Length: 0\r\n\r\n")
            assert r.client_io.writes[0].startswith(b"HTTP/1.1 502 ")
            assert r.router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


async def test_an_upstream_head_just_under_the_limit_is_forwarded() -> None:
    value = b"y" * (MAX_UPSTREAM_HEAD - 200)
    async with rig() as r:
        r.client.data_received(b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
        r.conn.data_received(b"HTTP/1.1 200 OK\r\nX-Big: " + value + b"\r\n")
        r.conn.data_received(b"Content-Length: 2\r\n\r\nok")
        assert r.client_io.writes[0].startswith(b"HTTP/1.1 200 OK\r\nX-Big: yyy")
        assert r.router.outcomes() == [("a", Outcome.OK)]


async def test_a_request_head_over_the_limit_gets_431_in_one_read_or_several() -> None:
    async with rig() as r:
        limit = r.state.settings.max_header_bytes
    head = b"GET / HTTP/1.1\r\nHost: s\r\nX-Big: " + b"y" * limit + b"\r\n\r\n"
    for pieces in ([head], [head[:100], head[100:20000], head[20000:]]):
        async with rig() as r:
            for piece in pieces:
                r.client.data_received(piece)
            assert r.client_io.writes[0].startswith(b"HTTP/1.1 431 ")
            assert r.client_io.closed
            assert r.upstream_io.writes == []


async def test_a_request_head_near_the_limit_is_forwarded() -> None:
    async with rig() as r:
        value = b"y" * (r.state.settings.max_header_bytes - 100)
        r.client.data_received(b"GET / HTTP/1.1\r\nHost: s\r\nX-Big: " + value[:5000])
        r.client.data_received(value[5000:] + b"\r\n\r\n")
        assert len(r.upstream_io.writes) == 1
        assert b"\r\nX-Big: yyy" in r.upstream_io.writes[0]
