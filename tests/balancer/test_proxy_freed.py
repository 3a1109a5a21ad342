"""A closed connection is freed by reference counting, not left to the collector.

A connection and its parser (whose callbacks are the connection's methods) form a reference
cycle, as do a client connection and the exchange it keeps for its next request: left in place,
every closed connection lives until a collection runs, and a burst of new streams pays for those
collections (docs/benchmarks.md, "CPU per new stream (branch sse3)"). With the collector off, no
client connection, exchange or upstream connection of a closed connection may be left alive. A
client connection makes its request parser only for a read that needs one.
"""

from __future__ import annotations

import asyncio
import gc

import pytest
import uvloop

from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer._proxy_exchange import Exchange
from vigil.balancer._pure import build
from vigil.balancer.proxy import Proxy

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, read_response, roundtrip, serving, sse, until_no_client

CONNECTIONS = 20
GET = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
# parsed by llhttp (not a plain head: a body), so the connection's parser has run
POST = b"POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 3\r\n\r\nabc"


def alive(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if type(o) is kind)


async def statuses_of_new_connections(port: int) -> list[int]:
    """CONNECTIONS requests through the proxy at ``port``, each on its own connection, GET and
    POST in turn (the collector is off: the caller counts what is left alive)."""
    statuses = []
    for i in range(CONNECTIONS):
        statuses.append((await roundtrip(port, POST if i % 2 else GET)).status)
    return statuses


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
@pytest.mark.parametrize("answer", ["plain", "stream"])
def test_closed_client_connections_are_freed_without_the_collector(loop_factory, answer) -> None:
    handler = fixed(b"ok") if answer == "plain" else sse(3, 0.0)

    async def scenario() -> tuple[int, int, list[int]]:
        async with serving(handler) as (up,):
            proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
            port = await proxy.start()
            try:
                await roundtrip(port, GET)
                await until_no_client(proxy)
                gc.collect()
                gc.disable()
                try:
                    statuses = await statuses_of_new_connections(port)
                    await until_no_client(proxy)
                    await asyncio.sleep(0.05)  # the transports' last callbacks
                    return alive(ClientConnection), alive(Exchange), statuses
                finally:
                    gc.enable()
            finally:
                await proxy.stop(0.5)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        clients, exchanges, statuses = runner.run(scenario())
    assert statuses == [200] * CONNECTIONS
    assert (clients, exchanges) == (0, 0)


async def test_a_connection_makes_its_parser_only_for_a_read_that_needs_it() -> None:
    """Plain heads (compiled) are taken without the parser: a connection of plain GETs never
    makes one; a request with a body does, and the connection's next requests go on."""
    async with serving(fixed(b"ok")) as (up,):
        proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
        port = await proxy.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                statuses, parsers = [], []
                for request in (GET, GET, POST, GET):
                    writer.write(request)
                    statuses.append((await asyncio.wait_for(read_response(reader), 10)).status)
                    (client,) = proxy.state.clients
                    assert isinstance(client, ClientConnection)
                    parsers.append(client.parser is not None)
            finally:
                writer.close()
        finally:
            await proxy.stop(0.5)
    assert statuses == [200] * 4
    compiled = build() == "compiled"
    assert parsers == ([False, False, True, True] if compiled else [True] * 4)


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_closed_upstream_connections_are_freed_without_the_collector(loop_factory) -> None:
    """An upstream that closes after each answer (``Connection: close``): each of its
    connections is closed, and none is left alive for the collector."""
    from vigil.balancer._proxy_upstream import UpstreamConnection

    async def scenario() -> tuple[int, list[int]]:
        async with serving(fixed(b"ok", headers="Connection: close\r\n")) as (up,):
            proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
            port = await proxy.start()
            try:
                await roundtrip(port, GET)
                gc.collect()
                gc.disable()
                try:
                    statuses = await statuses_of_new_connections(port)
                    await asyncio.sleep(0.05)  # the transports' last callbacks
                    return alive(UpstreamConnection), statuses
                finally:
                    gc.enable()
            finally:
                await proxy.stop(0.5)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        upstreams, statuses = runner.run(scenario())
    assert statuses == [200] * CONNECTIONS
    assert upstreams == 0
