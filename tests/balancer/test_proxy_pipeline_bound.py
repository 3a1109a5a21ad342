"""Pipelined requests behind a slow one, on the wire: the proxy stops reading from a client
while a request waits behind the one in progress (the client's further requests stay in the
kernel's buffers), so a client that keeps writing requests without reading answers cannot make
the proxy hold an unbounded queue of them; every answer still comes, in order, with a body that
was split across reads while reading was paused.
"""

from __future__ import annotations

import asyncio

from vigil.balancer._proxy_client import ClientConnection

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_response, serving

PIPELINED = 300


def first_held(release: asyncio.Event) -> object:
    """Answers the first request once ``release`` is set, every later one at once, with its
    path and body."""
    seen = 0

    async def handle(req: Received, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        seen += 1
        if seen == 1:
            await asyncio.wait_for(release.wait(), 10)
        body = req.path.encode() + b":" + req.body
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    return handle


def _queued(proxy: object) -> int:
    clients: set[ClientConnection] = proxy.state.clients  # type: ignore[attr-defined]
    return max((len(c.queue) for c in clients), default=0)


async def test_a_client_pipelining_behind_a_slow_request_is_not_read_without_bound() -> None:
    release = asyncio.Event()
    async with serving(first_held(release)) as (up,):  # type: ignore[arg-type]
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (proxy, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /slow HTTP/1.1\r\nHost: svc\r\n\r\n")
            await asyncio.sleep(0.05)
            most = 0
            for i in range(PIPELINED):  # one request per write: a read each, as a client sends
                writer.write(b"GET /p%d HTTP/1.1\r\nHost: svc\r\n\r\n" % i)
                await asyncio.sleep(0.0005)
                most = max(most, _queued(proxy))
            # a POST whose body's second half is sent only once every answer before it came:
            # it starts last, with nothing behind it, and must be read on
            writer.write(b"POST /body HTTP/1.1\r\nHost: svc\r\nContent-Length: 6\r\n\r\nabc")
            await asyncio.sleep(0.05)
            most = max(most, _queued(proxy))
            release.set()
            answers = [
                await asyncio.wait_for(read_response(reader), 10) for _ in range(PIPELINED + 1)
            ]
            writer.write(b"def")
            answers.append(await asyncio.wait_for(read_response(reader), 10))
            writer.close()
    assert most <= 100, f"{most} requests queued behind the slow one: reading never paused"
    assert [a.body for a in answers[:2]] == [b"/slow:", b"/p0:"]
    assert [a.body for a in answers[1:-1]] == [b"/p%d:" % i for i in range(PIPELINED)]
    assert answers[-1].body == b"/body:abcdef"
