"""Upstream bytes after a response, on the wire: whatever an upstream sends behind the response
it owed (in the same read) is never taken for the next request's answer — garbage, a second
response whole, its head alone, or a head cut short — the connection is dropped, not pooled, and
the next client (on another connection) gets its own answer.
"""

from __future__ import annotations

import asyncio

import pytest

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_response, serving

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

