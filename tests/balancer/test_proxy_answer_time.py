"""When an answer counts as come: the time the router (and, with workers, the shared block's
last-answer cell other workers' silence test reads) gets for a response's end is read when its
last byte came from the upstream, before it is written to the client, not after the write and
the bookkeeping: another worker would otherwise see a replica silent for that lag longer.

The write is made slow on a fake clock by patching the client connection's write, which only
the pure-Python build calls by name (compiled, the exchange calls it directly).
"""

from __future__ import annotations

import asyncio

import pytest

from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer._pure import build

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, roundtrip, serving

pytestmark = pytest.mark.skipif(
    build() == "compiled", reason="patches a method the compiled exchange calls directly"
)


class TimingRouter(RoundRobinRouter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release_times: list[float] = []

    def release(self, upstream, now, **kwargs):
        self.release_times.append(now)
        super().release(upstream, now, **kwargs)


async def _chunked_in_pieces(req: Received, writer: asyncio.StreamWriter) -> None:
    """A chunked answer (the parser's path) in three reads: head, a chunk, the last chunk."""
    for piece in (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
    ):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.05)


async def test_an_answer_is_timed_when_its_end_came_not_after_its_write(monkeypatch) -> None:
    now = [1000.0]
    writes: list[float] = []
    write_many = ClientConnection.write_many

    def slow_write(self, parts):  # type: ignore[no-untyped-def]
        writes.append(now[0])
        now[0] += 5.0  # the write (and what follows it) takes five seconds of the fake clock
        write_many(self, parts)

    monkeypatch.setattr(ClientConnection, "write_many", slow_write)
    async with serving(_chunked_in_pieces) as (up,):
        router = TimingRouter([upstream("a", up.port)])
        async with proxying(router) as (proxy, port):
            proxy.state.clock = lambda: now[0]  # the router's time
            response = await roundtrip(port, b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
    assert response.status == 200 and response.body == b"hello"
    (released,) = router.release_times
    # the end came before the last write began: timed then, not five seconds later
    assert released <= writes[-1], (released, writes)
