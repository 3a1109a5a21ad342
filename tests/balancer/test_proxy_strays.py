"""Upstream bytes after a response, on the wire: whatever an upstream sends behind the response
it owed (in the same read) is never taken for the next request's answer — garbage, a second
response whole, its head alone, or a head cut short — the connection is dropped, not pooled, and
the next client (on another connection) gets its own answer; a body that ends with the
connection is not ended as whole when the connection was reset; and a stray response that
reaches an idle connection in another read, read in the same loop pass as the request that
takes the connection (the request first), is not forwarded as that request's answer: the
connection is looked at before it is reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time

import pytest

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_head, read_response, serving

GET = b"GET / HTTP/1.1\r\nHost: svc\r\n\r\n"


def _first_with(extra: bytes):  # type: ignore[no-untyped-def]
    """An upstream handler answering ``one`` followed, in the same write, by ``extra`` to the
    first request it gets, and ``two`` to every later one."""
    served = 0

    async def handle(req: Received, writer: asyncio.StreamWriter) -> bool:
        nonlocal served
        served += 1
        if served == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none" + extra)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo")
        return True

    return handle


@pytest.mark.parametrize(
    "extra",
    [
        b"XXXX",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
        b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nX-Pad: ",
    ],
    ids=["garbage", "whole-response", "head-without-its-body", "head-cut-short"],
)
async def test_bytes_after_a_response_never_reach_the_next_client(extra: bytes) -> None:
    async with serving(_first_with(extra)) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            got = []
            for _ in range(2):  # two clients, one after the other, each on its own connection
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(GET)
                got.append(await asyncio.wait_for(read_response(reader), 5))
                writer.close()
    assert [(r.status, r.body) for r in got] == [(200, b"one"), (200, b"two")]
    assert router.outcomes() == [("a", Outcome.OK)] * 2
    assert up.connections == 2  # the first connection was dropped, not pooled


async def test_a_body_without_a_length_cut_by_a_reset_is_not_ended_as_whole() -> None:
    # a body that ends when the upstream closes ends with a FIN; a reset (RST) in the middle of
    # it is a truncation, which the client must see: no last chunk, the connection cut
    async def reset_midway(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart")
        await writer.drain()
        await asyncio.sleep(0.1)  # the proxy has forwarded "part"
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # closed with SO_LINGER 0: a reset
        return False

    async with serving(reset_midway) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            line, pairs = await asyncio.wait_for(read_head(reader), 5)
            rest = b""
            while not rest.endswith(b"0\r\n\r\n"):  # the last chunk, or the proxy's close
                data = await asyncio.wait_for(reader.read(4096), 5)
                if not data:
                    break
                rest += data
            writer.close()
    assert line == "HTTP/1.1 200 OK" and ("Transfer-Encoding", "chunked") in pairs
    assert rest == b"4\r\npart\r\n"  # the chunk that came, then the close: no "0" chunk
    assert router.outcomes() == [("a", Outcome.SERVER_ERROR)]


class _BlockingUpstream(threading.Thread):
    """An upstream on plain blocking sockets (its own thread: it writes while the test holds
    the proxy's loop): answers its requests ``one``, ``two``... whatever connection they come
    on (a thread per connection), and ``stray()`` writes a response nobody asked for on the
    first connection."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.answers = iter([b"one", b"two", b"333"])
        self.lock = threading.Lock()

    def run(self) -> None:
        with contextlib.suppress(OSError):  # the listener closed by the test
            while True:
                conn, _ = self.listener.accept()
                self.conns.append(conn)
                if self.conn is None:
                    self.conn = conn
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with contextlib.suppress(OSError):  # reset or closed by the proxy, or by the test
            while data := conn.recv(65536):
                buf += data
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    with self.lock:
                        answer = next(self.answers)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + answer)

    def stray(self) -> None:
        assert self.conn is not None
        self.conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")


def _response(sock: socket.socket) -> bytes:
    got = b""
    while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 3:
        data = sock.recv(65536)
        if not data:
            break
        got += data
    return got


def _next_request_then_a_stray(client: socket.socket, up: _BlockingUpstream) -> None:
    """Blocking, on the loop's thread: the client's request, then the stray response, both
    in the proxy's socket buffers before its loop polls again."""
    client.sendall(GET)
    time.sleep(0.05)
    up.stray()
    time.sleep(0.05)


async def test_a_response_nobody_asked_for_read_with_the_next_request_is_not_its_answer() -> None:
    # the loop is held while the client's next request and then a stray response on the idle
    # upstream connection arrive: one pass of the loop sees both, the client's first (ready
    # first); its request takes the idle connection, then the stray is read there
    up = _BlockingUpstream()
    up.start()
    async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (_, port):
        client = socket.create_connection(("127.0.0.1", port))
        client.settimeout(5)  # a request never answered fails the test, does not hang it
        client.sendall(GET)
        first = await asyncio.to_thread(_response, client)
        await asyncio.sleep(0.05)  # the upstream connection is idle in the pool
        _next_request_then_a_stray(client, up)  # called, not awaited: the loop is held
        second = await asyncio.to_thread(_response, client)
        client.close()
    up.listener.close()
    for conn in up.conns:
        conn.close()
    assert first.endswith(b"\r\n\r\none")
    assert second.endswith(b"\r\n\r\ntwo")
    assert len(up.conns) == 2  # the connection with the stray was not reused
