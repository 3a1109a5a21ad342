"""Client-side edges of the data plane, on the wire: a request head trickled a byte at a time
(slowloris) is cut off ``client_timeout`` after it began, however often bytes come.
"""

from __future__ import annotations

import asyncio
import contextlib

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, serving

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

