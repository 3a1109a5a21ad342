"""The controller's wall clock steps (NTP, a VM resumed, ``date -s``) while its nodes beat:
heartbeats are judged on a clock that never jumps, so a step neither downs the fleet nor hides
a node that went silent. A real controller and store; heartbeats handed to its monitor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from vigil.daemon import Controller
from vigil.model import NodeStatus

from ._beats import BEAT, beat, two_nodes
from ._support import eventually


@pytest.fixture
async def stepped(tmp_path: Path) -> AsyncIterator[tuple[Controller, list[float]]]:
    """A running controller whose wall clock is real time plus ``offset[0]`` seconds."""
    offset = [0.0]
    async with two_nodes(tmp_path, clock=lambda: time.time() + offset[0]) as controller:
        yield controller, offset


def status(controller: Controller, node: str) -> NodeStatus | None:
    return controller.monitor.status_of(node)


async def test_a_wall_clock_stepping_forward_does_not_down_nodes_that_keep_beating(
    stepped: tuple[Controller, list[float]],
) -> None:
    # judged on the wall clock, an hour's step was an hour of silence from every node: the
    # whole fleet turned Down, with an incident and an escalation each, at the next check
    controller, offset = stepped
    seq = await beat(controller, ("n1", "n2"), 20, 0)
    offset[0] = 3600.0
    await asyncio.sleep(BEAT)  # the monitor's checks run before the next heartbeats
    await beat(controller, ("n1", "n2"), 20, seq)
    assert {status(controller, n) for n in ("n1", "n2")} == {NodeStatus.UP}
    for node in ("n1", "n2"):
        assert list(controller.store.list_incidents(subject=f"node:{node}").items) == []


async def test_a_wall_clock_stepping_back_does_not_hide_a_node_that_goes_silent(
    stepped: tuple[Controller, list[float]],
) -> None:
    # judged on the wall clock, the last heartbeat stayed an hour "in the future": a node that
    # died after the step showed a silence of 0 s, and stayed Up for the hour
    controller, offset = stepped
    seq = await beat(controller, ("n1", "n2"), 20, 0)
    offset[0] = -3600.0
    seq = await beat(controller, ("n1", "n2"), 5, seq)
    task = asyncio.create_task(beat(controller, ("n2",), 1000, seq))  # n1 has died
    try:
        await eventually(
            lambda: status(controller, "n1") == NodeStatus.DOWN,
            20.0,
            "n1 down",
            lambda: controller.monitor.nodes(),
        )
        assert status(controller, "n2") == NodeStatus.UP
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
