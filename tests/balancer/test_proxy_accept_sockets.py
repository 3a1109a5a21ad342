"""The sockets the proxy's Listener accepts: closed once, by the transport, under either loop."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
import uvloop

from vigil.balancer._proxy_accept import UvAccepted
from vigil.balancer.proxy import Proxy

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, roundtrip, serving, until_no_client

CONNECTIONS = 30


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_closed_client_connections_leave_no_descriptor_open(loop_factory) -> None:
    async def scenario() -> tuple[int, int, list[int]]:
        async with serving(fixed(b"ok")) as (up,):
            proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
            port = await proxy.start()
            try:
                request = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
                await roundtrip(port, request)  # the pooled upstream connection exists now
                await until_no_client(proxy)
                before = open_descriptors()
                statuses = [(await roundtrip(port, request)).status for _ in range(CONNECTIONS)]
                await until_no_client(proxy)
                return before, open_descriptors(), statuses
            finally:
                await proxy.stop(0.5)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        before, after, statuses = runner.run(scenario())
    assert statuses == [200] * CONNECTIONS
    assert after == before


def test_an_accepted_socket_given_to_uvloop_leaves_its_descriptor_to_libuv() -> None:
    """uvloop calls close() on it after libuv closed the descriptor: by then the number may
    belong to another thread's file, so close() must not close it."""
    a, b = socket.socketpair()
    try:
        accepted = UvAccepted(a.family, a.type, a.proto, os.dup(a.fileno()))
        fd = accepted.fileno()
        accepted.close()
        os.fstat(fd)  # still open: OSError (EBADF) had close() closed it
        assert accepted.fileno() == -1
        os.close(fd)
    finally:
        a.close()
        b.close()
