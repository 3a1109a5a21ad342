"""A request on a reused upstream connection that the server closes as the request arrives, on
the wire (RFC 9112 §9.3.1: a keep-alive connection can close at any time; an idempotent
request whose connection closed before any answer can be sent again on a new one): it is
retried once on a fresh connection, to the same replica when the policy picks it (the only
one here), and the replica is not charged with a failure; a second such close is an ordinary
failure; a POST is never sent twice.
"""

from __future__ import annotations

import asyncio

from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import Received, proxying, read_response, roundtrip, serving

GET = b"GET /x HTTP/1.1\r\nHost: s\r\n\r\n"
POST = b"POST /x HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}"


def _closing_on_reuse(every_connection: bool = True):  # type: ignore[no-untyped-def]
    """Answers the first request of a connection; the second one on the same connection is
    read whole and the connection closed unanswered (FIN: the server's keep-alive close
    racing the request). With ``every_connection`` False only the first connection does so."""
    seen: dict[int, int] = {}
    # the connections' writers, kept: a freed writer's id() can be a later connection's, which
    # then passed for the closed one (its first request closed unanswered: a 502 now and then)
    writers: list[asyncio.StreamWriter] = []

    async def handle(req: Received, writer: asyncio.StreamWriter) -> bool:
        key = id(writer)
        if key not in seen:
            writers.append(writer)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1 and (every_connection or len(seen) == 1):
            return False  # closed, nothing answered
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return True

    return handle


async def _two_requests(handler, second: bytes):  # type: ignore[no-untyped-def]
    async with serving(handler) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            first = await roundtrip(port, GET)
            await asyncio.sleep(0.05)  # the upstream connection is idle in the pool
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(second)
            answer = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    return first, answer, router, up


async def test_a_get_on_a_connection_closed_as_it_arrives_is_sent_again_on_a_fresh_one() -> None:
    first, answer, router, up = await _two_requests(_closing_on_reuse(), GET)
    assert (first.status, answer.status, answer.body) == (200, 200, b"ok")
    assert len(up.requests) == 3  # the second one sent twice: closed unanswered, then again
    # the stale attempt is not the replica's failure (no connect_error that could eject it)
    assert [o for _, o in router.outcomes()] == [Outcome.OK, Outcome.CLIENT_ABORT, Outcome.OK]


async def test_a_post_on_a_connection_closed_as_it_arrives_is_not_sent_twice() -> None:
    first, answer, router, up = await _two_requests(_closing_on_reuse(), POST)
    assert (first.status, answer.status) == (200, 502)
    assert [r.method for r in up.requests] == ["GET", "POST"]
    assert router.outcomes()[-1] == ("a", Outcome.CONNECT_ERROR)


async def test_a_second_close_unanswered_is_an_ordinary_failure() -> None:
    # every request but the very first is read and its connection closed unanswered: the
    # retry on a fresh connection fails too, and that one counts
    served = 0

    async def only_once(req: Received, writer: asyncio.StreamWriter) -> bool:
        nonlocal served
        served += 1
        if served > 1:
            return False
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return True

    first, answer, router, up = await _two_requests(only_once, GET)
    assert (first.status, answer.status) == (200, 502)
    assert len(up.requests) == 3
    assert [o for _, o in router.outcomes()] == [
        Outcome.OK,
        Outcome.CLIENT_ABORT,
        Outcome.CONNECT_ERROR,
    ]
