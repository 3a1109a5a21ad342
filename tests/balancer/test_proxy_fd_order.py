"""The order :meth:`UpstreamConnection.peer_gone` relies on, on real sockets, under uvloop (what
the proxy runs on) and asyncio's own loop: when the upstream resets or closes a connection, the
loop closes the socket's descriptor only after the protocol's ``connection_lost`` has returned.

``peer_gone`` polls the descriptor number it took at ``connection_made`` unless the connection is
marked closed, which ``connection_lost`` does first. Were the descriptor closed before, a socket
opened in between (an accepted client, a new upstream connection) could take its number, and the
poll would look at that socket. Both loops close it after: uvloop's
``UVBaseTransport._call_connection_lost`` calls the protocol, then ``_close()`` (``uv_close``, which
closes the descriptor); a read error or EOF only marks the transport closing and schedules that
call. asyncio's ``_SelectorTransport._call_connection_lost`` likewise closes the socket after
the protocol's call. This test fails if a loop's release changes that order.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import Callable

import pytest
import uvloop

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "uvloop": uvloop.new_event_loop,
    "asyncio": asyncio.new_event_loop,
}


class _Watch(asyncio.Protocol):
    """Records, in ``connection_lost``, whether its descriptor is still its own socket."""

    def __init__(self) -> None:
        self.fd = -1
        self.inode = -1
        self.closing_seen = False
        self.same_at_lost: bool | None = None
        self.lost = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.fd = transport.get_extra_info("socket").fileno()
        self.inode = os.fstat(self.fd).st_ino

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing_seen = self.transport.is_closing()
        try:
            self.same_at_lost = os.fstat(self.fd).st_ino == self.inode
        except OSError:  # closed already
            self.same_at_lost = False
        self.lost.set_result(None)


async def _peer_ends(reset: bool) -> _Watch:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[socket.socket] = loop.create_future()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)

    async def accept() -> None:
        conn, _ = await loop.sock_accept(listener)
        accepted.set_result(conn)

    task = asyncio.ensure_future(accept())
    _, watch = await loop.create_connection(_Watch, *listener.getsockname())
    peer = await accepted
    await task
    if reset:  # SO_LINGER 0: the close sends an RST
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    # sockets opened meanwhile take the lowest free numbers, as a new connection would
    others = [socket.socket() for _ in range(4)]
    await asyncio.wait_for(watch.lost, 5)
    for other in others:
        other.close()
    listener.close()
    return watch


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "close"])
@pytest.mark.parametrize("loop_name", list(LOOPS))
def test_the_descriptor_outlives_connection_lost(loop_name: str, reset: bool) -> None:
    loop = LOOPS[loop_name]()
    try:
        watch = loop.run_until_complete(_peer_ends(reset))
    finally:
        loop.close()
    assert watch.closing_seen  # the transport was closing: the upstream's end was read
    assert watch.same_at_lost  # and its descriptor was still its own socket
