"""The listener's resume pass (``Listener._finish``) is bounded: after a burst, an idle listener
schedules no more passes, even when an accept coroutine's future never completes (uvloop leaves
it pending when the protocol's ``connection_made`` raises: ``_call_connection_made`` sets the
waiter only after ``connection_made`` returned). Before, ``_finish`` re-scheduled itself at every
loop iteration while any waiter was pending: 100 % CPU for as long as the process lived.

Passes are counted (``Listener.passes``), not timed; real sockets, both supported loops."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvloop

from vigil.balancer._proxy_accept import Listener

from .test_proxy_accept_coroutines import BURST, Echo, burst, listening

LOOPS = [asyncio.new_event_loop, uvloop.new_event_loop]


class Refusing(Echo):
    """A protocol whose ``connection_made`` raises (a bug in it, or MemoryError) once."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        raise RuntimeError("connection_made failed")


async def idle_passes(listener: Listener, iterations: int = 200) -> int:
    """The passes the listener schedules over ``iterations`` idle loop iterations."""
    before = listener.passes
    for _ in range(iterations):
        await asyncio.sleep(0)
    return listener.passes - before


@pytest.mark.parametrize("loop_factory", LOOPS, ids=["asyncio", "uvloop"])
def test_an_idle_listener_after_a_burst_schedules_no_pass(loop_factory) -> None:
    made: list[Echo] = []

    async def scenario() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        sock = listening()
        listener = Listener(loop, sock, lambda peer: Echo(made, peer))
        clients = burst(sock.getsockname()[1], BURST)
        try:
            for _ in range(400):
                if len(made) == BURST and not listener._waiting:
                    break
                await asyncio.sleep(0.005)
            return listener.passes, await idle_passes(listener)
        finally:
            for client in clients:
                client.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        passes, idle = runner.run(scenario())
    assert len(made) == BURST
    # two wake-ups of ACCEPT_BATCH, at most two passes each (the first connection's, the rest)
    assert 1 <= passes <= 4
    assert idle == 0


@pytest.mark.parametrize("loop_factory", LOOPS, ids=["asyncio", "uvloop"])
def test_a_connection_whose_connection_made_raised_does_not_spin_the_loop(loop_factory) -> None:
    """One connection's ``connection_made`` raises; the others are made and answer. Under
    uvloop its future is never completed: the listener must stop looking at it."""
    made: list[Echo] = []
    errors: list[dict[str, Any]] = []
    protocols = iter([Refusing] + [Echo] * 7)

    async def scenario() -> tuple[int, list[bytes]]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: errors.append(context))
        sock = listening()
        listener = Listener(loop, sock, lambda peer: next(protocols)(made, peer))
        clients = burst(sock.getsockname()[1], 8)
        try:
            for _ in range(400):
                if len(made) == 7 and errors:
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.01)
            idle = await idle_passes(listener)
            answers = []
            for i, echo in enumerate(made):  # the others still answer
                client = next(c for c in clients if c.getsockname() == echo.peer)
                client.setblocking(False)
                await loop.sock_sendall(client, b"%d" % i)
                answers.append(await loop.sock_recv(client, 16))
            return idle, answers
        finally:
            for client in clients:
                client.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        idle, answers = runner.run(scenario())
    assert len(made) == 7
    assert answers == [b"%d" % i for i in range(7)]
    assert any("connection_made failed" in str(e.get("exception")) for e in errors)
    assert idle <= 1  # was one pass per loop iteration (200) under uvloop


@pytest.mark.parametrize("loop_factory", LOOPS, ids=["asyncio", "uvloop"])
def test_a_waiter_left_pending_is_resumed_when_done_without_a_pass_per_iteration(
    loop_factory,
) -> None:
    """A loop that completes an accept coroutine's future late (neither supported loop does:
    see the module docstring; a third-party loop, an older uvloop whose
    ``_call_connection_made`` had no ``try`` around ``connection_made``): the listener stops
    looking at it after a pass that resumed nothing and resumes it from the future's done
    callback instead. A real burst beside it is made as usual."""
    made: list[Echo] = []
    resumed: list[str] = []

    async def late_accept(waiter: asyncio.Future[bool]) -> None:
        await waiter
        resumed.append("late")

    async def scenario() -> tuple[int, int, int]:
        loop = asyncio.get_running_loop()
        sock = listening()
        late: asyncio.Future[bool] = loop.create_future()
        coro = late_accept(late)
        assert coro.send(None) is late

        def inject() -> None:  # queued before the first connection's pass: seen by it
            listener._waiting.append((late, coro.__await__()))  # its step iterator

        def factory(peer: object) -> Echo:
            if not made and listener.accepted == 1:
                loop.call_soon(inject)
            return Echo(made, peer)

        listener = Listener(loop, sock, factory)
        clients = burst(sock.getsockname()[1], 8)
        try:
            for _ in range(400):
                if len(made) == 8:
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.01)
            idle = await idle_passes(listener)
            waiting = len(listener._waiting)
            late.set_result(True)
            await asyncio.sleep(0)
            return idle, waiting, len(resumed)
        finally:
            for client in clients:
                client.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        idle, waiting, resumed_count = runner.run(scenario())
    assert len(made) == 8
    assert idle == 0  # before: one pass per loop iteration while the future was pending
    assert waiting == 0
    assert resumed_count == 1  # resumed once its future completed
