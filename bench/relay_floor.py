"""The floor of an asyncio proxy: a byte relay on uvloop with no HTTP at all.

Used by ``bench/balance_overhead.py --floor`` and ``bench/balance_stream.py --floor`` as a
second, in-run reference next to HAProxy / nginx: whatever Vigil's proxy does, it cannot cost
less than this on the same loop. Each accepted client connection is paired with ONE new
upstream connection (round robin over the backends, per connection); bytes are copied both ways
inside the protocols' callbacks (no task, no coroutine, no parsing, no pool). Flow control is
kept (a side whose write buffer fills pauses the other side's reads), so it is a correct TCP
relay, not a benchmark trick. Connections are accepted by the proxy's own
:class:`vigil.balancer._proxy_accept.Listener` (all pending ones per wake-up), as Vigil does.

Two read styles:

- ``protocol``: ``asyncio.Protocol.data_received`` (uvloop allocates a new ``bytes`` per read);
- ``buffered``: ``asyncio.BufferedProtocol`` (uvloop reads into our ``bytearray``; we write a
  ``memoryview`` slice of it). If the write could not go out at once (the transport buffered
  something), the bytearray is given up to the transport and a new one is used for the next
  read, so a buffered slice is never overwritten whatever the transport keeps a reference to.

Not part of the product (``src/``): a measuring instrument for the benches, run in its own
process with :func:`run_relay`.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing.synchronize
from typing import cast

READ_SIZE = 64 * 1024  # one read of the buffered style; uvloop's own default is 256 KiB


class _Side:
    """One leg of a relayed pair: its transport and the other leg."""

    transport: asyncio.Transport | None = None
    peer: _Side | None = None
    pending: list[bytes] | None = None  # client bytes that arrived before the upstream connected

    def send(self, data: bytes | memoryview) -> None:
        """Write to this side (the peer's bytes), or keep them until it is connected."""
        transport = self.transport
        if transport is not None:
            transport.write(data)
        else:
            if self.pending is None:
                self.pending = []
            self.pending.append(bytes(data))

    def attached(self) -> None:
        if self.pending:
            assert self.transport is not None
            self.transport.writelines(self.pending)
            self.pending = None

    def lost(self) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.close()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _PlainSide(_Side, asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        assert peer is not None
        peer.send(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost()


class _BufferedSide(_Side, asyncio.BufferedProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.buf = bytearray(READ_SIZE)
        self.view = memoryview(self.buf)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        peer = self.peer
        assert peer is not None
        out = peer.transport
        if out is None or out.get_write_buffer_size():
            peer.send(bytes(self.view[:nbytes]))  # queued behind earlier bytes: copy
            return
        out.write(self.view[:nbytes])
        if out.get_write_buffer_size():  # the transport kept (part of) the slice: donate it
            self.buf = bytearray(READ_SIZE)
            self.view = memoryview(self.buf)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost()


def _client_factory(
    loop: asyncio.AbstractEventLoop, backends: list[int], buffered: bool
) -> type[asyncio.BaseProtocol]:
    side = _BufferedSide if buffered else _PlainSide
    ports = itertools.cycle(backends)

    class Client(side):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            upstream = side()
            upstream.peer = self
            self.peer = upstream
            port = next(ports)
            loop.create_task(self._connect(upstream, port))

        async def _connect(self, upstream: _Side, port: int) -> None:
            try:
                await loop.create_connection(lambda: upstream, "127.0.0.1", port)
            except OSError:
                if self.transport is not None:
                    self.transport.close()
                return
            if self.transport is None or self.transport.is_closing():
                if upstream.transport is not None:
                    upstream.transport.close()
                return
            upstream.attached()

    return cast(type[asyncio.BaseProtocol], Client)


def run_relay(
    port: int, backends: list[int], buffered: bool, ready: multiprocessing.synchronize.Event
) -> None:
    """Serve the relay on ``127.0.0.1:port`` until killed (the target of a spawned process)."""
    import uvloop

    from vigil.balancer._proxy_accept import Listener, bind

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        factory = _client_factory(loop, backends, buffered)
        # the proxy's own accept loop: uvloop's servers accept one connection per iteration
        (sock,) = await bind("127.0.0.1", port, backlog=4096, reuse_port=False)
        Listener(loop, sock, lambda peer: factory())  # type: ignore[arg-type,return-value]
        ready.set()
        await asyncio.Event().wait()

    uvloop.run(serve())
