"""The listener's accept coroutines: resumed together after their ``connection_made``, none left
suspended, the connections they made left open, and a transport closed before
``connection_made`` leaves no unretrieved exception (real sockets, both loops)."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import struct
from typing import Any

import pytest
import uvloop

from vigil.balancer._proxy_accept import Listener

BURST = 64  # queued while the loop is blocked: two wake-ups of ACCEPT_BATCH


class Echo:
    """A protocol that echoes and records what the loop called."""

    def __init__(self, made: list[Echo], peer: object) -> None:
        self.peer = peer
        self.made = made
        self.transport: Any = None
        self.lost = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.made.append(self)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


class WrappingLoop(uvloop.Loop):  # type: ignore[misc]
    """uvloop with ``connect_accepted_socket`` overridden by a Python coroutine (as a tracing
    or instrumented loop does, bench/stream_trace.py's): not an iterator, unlike uvloop's own."""

    async def connect_accepted_socket(self, factory: Any, sock: Any, **kw: Any) -> Any:
        return await super().connect_accepted_socket(factory, sock, **kw)


LOOPS = [asyncio.new_event_loop, uvloop.new_event_loop, WrappingLoop]
LOOP_IDS = ["asyncio", "uvloop", "uvloop-subclass"]


def listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def burst(port: int, count: int) -> list[socket.socket]:
    """``count`` connections queued on the listening socket (connect completes in the kernel)."""
    clients = []
    for _ in range(count):
        client = socket.socket()
        client.connect(("127.0.0.1", port))
        clients.append(client)
    return clients


@pytest.mark.parametrize("loop_factory", LOOPS, ids=LOOP_IDS)
def test_a_burst_is_made_its_coroutines_finished_and_its_connections_stay_open(
    loop_factory,
) -> None:
    made: list[Echo] = []
    errors: list[dict[str, Any]] = []

    async def scenario() -> tuple[int, list[bytes], int]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: errors.append(context))
        sock = listening()
        listener = Listener(loop, sock, lambda peer: Echo(made, peer))
        clients = burst(sock.getsockname()[1], BURST)
        try:
            for _ in range(200):
                if len(made) == BURST and not listener._waiting:
                    break
                await asyncio.sleep(0.005)
            waiting = len(listener._waiting)
            if len(made) < BURST:  # not all made: fail below (their reads would wait forever)
                return waiting, [], 0
            answers = []
            for i, client in enumerate(clients):  # each connection still answers
                client.setblocking(False)
                await loop.sock_sendall(client, b"%d" % i)
                answers.append(await loop.sock_recv(client, 16))
            return waiting, answers, sum(echo.lost for echo in made)
        finally:
            for client in clients:
                client.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        waiting, answers, lost = runner.run(scenario())
    assert len(made) == BURST
    assert waiting == 0  # every accept coroutine resumed (none held suspended)
    assert answers == [b"%d" % i for i in range(BURST)]
    assert lost == 0  # resuming a coroutine closed no transport
    assert errors == []


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_peers_that_reset_before_they_were_accepted_are_lost_and_the_others_served(
    loop_factory,
) -> None:
    """Half the burst resets (RST) before the listener accepts it: their connections are made
    and lost, every coroutine is finished, nothing reaches the loop's exception handler."""
    made: list[Echo] = []
    errors: list[dict[str, Any]] = []

    async def scenario() -> tuple[int, list[bytes], int]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: errors.append(context))
        sock = listening()
        port = sock.getsockname()[1]
        clients = burst(port, 16)  # queued before the listener watches the socket
        for client in clients[::2]:  # an RST on close, not a FIN
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
        kept = clients[1::2]
        listener = Listener(loop, sock, lambda peer: Echo(made, peer))
        try:
            for _ in range(200):
                done = len(made) == 16 and not listener._waiting
                if done and sum(echo.lost for echo in made) >= 8:
                    break
                await asyncio.sleep(0.005)
            answers = []
            for client in kept:
                client.setblocking(False)
                await loop.sock_sendall(client, b"x")
                answers.append(await loop.sock_recv(client, 16))
            return len(listener._waiting), answers, sum(echo.lost for echo in made)
        finally:
            for client in kept:
                client.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        waiting, answers, lost = runner.run(scenario())
        gc.collect()
        runner.run(asyncio.sleep(0))
    assert waiting == 0 and answers == [b"x"] * 8
    assert len(made) == 16 and lost == 8  # the reset ones, and only those
    assert errors == []


def test_a_future_that_failed_has_its_exception_retrieved_and_its_coroutine_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """uvloop fails an accept coroutine's future when the transport was closed before
    ``connection_made`` ran: the listener's resume must retrieve the exception (else "Future
    exception was never retrieved" is logged when the future is freed) and let the coroutine
    run its cleanup. A real future and a coroutine that waits on it as uvloop's does."""
    errors: list[dict[str, Any]] = []
    cleaned: list[str] = []

    async def accept_like(waiter: asyncio.Future[bool]) -> None:
        try:
            await waiter
        except BaseException:
            cleaned.append("transport closed")
            raise

    async def scenario() -> tuple[int, asyncio.Future[bool]]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: errors.append(context))
        sock = listening()
        listener = Listener(loop, sock, lambda peer: Echo([], peer))
        try:
            waiters = [loop.create_future() for _ in range(3)]
            for waiter in waiters:
                coro = accept_like(waiter)
                assert coro.send(None) is waiter
                listener._waiting.append((waiter, coro.__await__()))  # its step iterator
            waiters[0].set_exception(RuntimeError("closed Transport handle and unset waiter"))
            waiters[1].set_result(True)  # the third is not done: it waits for the next call
            listener._finish()
            left = len(listener._waiting)
            waiters[2].set_result(True)
            await asyncio.sleep(0)  # the _finish the first one scheduled
            await asyncio.sleep(0)
            return left + 10 * len(listener._waiting), waiters[0]
        finally:
            listener.close()

    with (
        caplog.at_level(logging.DEBUG, logger="vigil.balancer._proxy_accept"),
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        left, failed = runner.run(scenario())
        gc.collect()
        runner.run(asyncio.sleep(0))
    assert left == 1  # one waited after the first call, none after the second
    # retrieved: nothing is logged when it is freed ("Future exception was never retrieved")
    assert failed._log_traceback is False  # type: ignore[attr-defined]
    del failed
    gc.collect()
    assert errors == []
    assert cleaned == ["transport closed"]
    assert [r.getMessage() for r in caplog.records if "before it was made" in r.getMessage()]


class DeferringLoop(uvloop.Loop):  # type: ignore[misc]
    """uvloop whose ``connect_accepted_socket`` calls the protocol factory a loop pass later
    (after an ``await``), not in its first step as uvloop's and asyncio's do."""

    async def connect_accepted_socket(self, factory: Any, sock: Any, **kw: Any) -> Any:
        await asyncio.sleep(0)
        return await super().connect_accepted_socket(factory, sock, **kw)


@pytest.mark.parametrize(
    "loop_factory", [*LOOPS, DeferringLoop], ids=[*LOOP_IDS, "factory-deferred"]
)
def test_each_protocol_gets_its_own_connections_peer_address(loop_factory) -> None:
    """Connections from four source addresses queued together and accepted in one wake-up:
    each protocol is given the address of its own connection (the one its transport names),
    or None when the loop calls the factory after the hand-over (the protocol then asks its
    transport), never another connection's."""
    made: list[Echo] = []

    async def scenario() -> list[tuple[object, object]]:
        loop = asyncio.get_running_loop()
        sock = listening()
        port = sock.getsockname()[1]
        listener = Listener(loop, sock, lambda peer: Echo(made, peer))
        clients = []
        for i in range(8):  # 127.0.0.2 .. 127.0.0.5, twice each
            client = socket.socket()
            client.bind((f"127.0.0.{2 + i % 4}", 0))
            client.connect(("127.0.0.1", port))
            clients.append(client)
        try:
            for _ in range(200):
                if len(made) == len(clients) and not listener._waiting:
                    break
                await asyncio.sleep(0.005)
            return [(e.peer, e.transport.get_extra_info("peername")) for e in made]
        finally:
            for client in clients:
                client.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        pairs = runner.run(scenario())
    assert len(pairs) == 8
    for given, own in pairs:
        assert given is None or tuple(given)[:2] == tuple(own)[:2]
    if loop_factory is not DeferringLoop:
        assert all(given is not None for given, _ in pairs)
