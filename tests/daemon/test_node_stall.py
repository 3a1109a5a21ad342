"""The controller's own loop stalls (a synchronous write, a GC pause, the process descheduled on
a loaded host) while its nodes beat: the heartbeats sent meanwhile wait unread behind the stall,
and the monitor's check, whose timer fell due during it, runs before they are handled. Judged at
the time it ran, that check saw every node silent for the whole stall and downed the live ones
(an incident and an escalation each, healed by the next heartbeat): the flaky failure of
test_node_clock's stepping-back test under a loaded suite. A real controller and store; the
stall is injected (the loop blocked), so the order of events is fixed, not a race."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from vigil.daemon import Controller
from vigil.model import NodeStatus

from ._beats import beat, two_nodes
from ._support import eventually

STALL = 1.0  # seconds the controller's loop is blocked: five times the silence that downs (BEAT)


@pytest.fixture
async def controller(tmp_path: Path) -> AsyncIterator[Controller]:
    async with two_nodes(tmp_path) as controller:
        yield controller


async def test_a_stall_of_the_controller_is_not_a_silence_of_the_nodes_beating_behind_it(
    controller: Controller,
) -> None:
    monitor, loop = controller.monitor, asyncio.get_running_loop()
    seq = await beat(controller, ("n1", "n2"), 20, 0)
    # n1 dies; the loop stalls with the monitor's next check due within it. n2's heartbeat sent
    # during the stall is read after it: one loop step after the check's wake-up (an HTTP
    # heartbeat takes several: read, parse, the handler's task)
    beating: list[asyncio.Task[int]] = []

    def read_behind_the_stall() -> None:
        beating.append(asyncio.create_task(beat(controller, ("n2",), 1000, seq)))

    time.sleep(STALL)  # noqa: ASYNC251 -- the stall under test: the loop blocked
    loop.call_later(0, loop.call_soon, read_behind_the_stall)
    try:
        # a node that did go silent is still downed, a round later
        await eventually(lambda: monitor.status_of("n1") == NodeStatus.DOWN, 20.0, "n1 down")
        assert monitor.status_of("n2") == NodeStatus.UP
    finally:
        for task in beating:
            task.cancel()
        await asyncio.gather(*beating, return_exceptions=True)
    await monitor.drain()
    store = controller.store
    assert list(store.list_incidents(subject="node:n2").items) == [], "n2 was never down"
    assert list(store.list_actions(subject="node:n2").items) == []
    assert len(store.list_incidents(subject="node:n1").items) == 1, "n1 was downed"
