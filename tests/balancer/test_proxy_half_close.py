"""A client that half-closes (``shutdown(SHUT_WR)``) right after whole requests: with
``answer_half_closed`` it still gets their answers, then the close (HAProxy's way); by default
the FIN is a client gone (a close looks the same) and the request is aborted (nginx's way). A
half-close in the middle of a head or a body, or on an idle connection, ends the connection
with no answer either way.
"""

from __future__ import annotations

import asyncio

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, serving, slow_first_byte

GET = b"GET /%d HTTP/1.1\r\nHost: svc\r\n\r\n"


async def _half_closed(handler, raw: bytes, answer: bool = True, outcomes: list | None = None):
    """``raw`` written to a proxy (``answer_half_closed=answer``), then the write side shut:
    all the client read until the proxy closed (and the router's ``outcomes`` put in the list
    given)."""
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, answer_half_closed=answer) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            writer.write_eof()
            got = await asyncio.wait_for(reader.read(), 5)  # to the proxy's close
            writer.close()
        if outcomes is not None:
            outcomes += router.outcomes()
        return got


async def test_a_request_sent_whole_before_the_half_close_is_answered() -> None:
    got = await _half_closed(slow_first_byte(0.2), GET % 1)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n"), got
    assert got.endswith(b"\r\n\r\nlate")


async def test_pipelined_requests_before_the_half_close_are_all_answered() -> None:
    got = await _half_closed(fixed(b"up"), GET % 1 + GET % 2 + GET % 3)
    assert got.count(b"HTTP/1.1 200") == 3, got


async def test_a_post_with_its_body_before_the_half_close_is_answered() -> None:
    raw = b"POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\n\r\nhello"
    got = await _half_closed(slow_first_byte(0.1), raw)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n"), got


async def test_a_half_close_inside_a_head_ends_the_connection_unanswered() -> None:
    assert await _half_closed(fixed(b"up"), b"GET / HTTP/1.1\r\nHost: s") == b""


async def test_a_half_close_inside_a_body_ends_the_connection_unanswered() -> None:
    raw = b"POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 10\r\n\r\nhello"
    assert await _half_closed(slow_first_byte(0.1), raw) == b""


async def test_a_half_close_on_an_idle_connection_closes_it() -> None:
    assert await _half_closed(fixed(b"up"), b"") == b""


async def test_by_default_a_half_closed_client_is_gone_and_its_request_aborted() -> None:
    outcomes: list = []
    got = await _half_closed(slow_first_byte(0.5), GET % 1, answer=False, outcomes=outcomes)
    assert got == b""
    assert outcomes == [("a", Outcome.CLIENT_ABORT)]
