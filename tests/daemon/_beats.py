"""A running controller of two nodes, n1 and n2, fed heartbeats by hand every :data:`BEAT`:
shared by the tests of the heartbeat monitor's timing (test_node_clock, test_node_stall)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from vigil.daemon import Controller
from vigil.settings import Settings

BEAT = 0.05  # seconds between heartbeats: a silence is judged within a second or two


@asynccontextmanager
async def two_nodes(
    tmp_path: Path, clock: Callable[[], float] = time.time
) -> AsyncIterator[Controller]:
    """A controller (no API) watching n1 and n2, checking every half beat, on wall ``clock``."""
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "nodes": [{"name": "n1"}, {"name": "n2"}],
            "heartbeat": {"interval": BEAT, "check_every": BEAT / 2},
        }
    )
    controller = Controller(settings, base_dir=tmp_path, serve_api=False, clock=clock)
    task = asyncio.create_task(controller.run())
    await asyncio.wait_for(controller.started.wait(), 30)
    try:
        yield controller
    finally:
        controller.stop()
        await asyncio.wait_for(task, 30)


async def beat(controller: Controller, nodes: tuple[str, ...], rounds: int, seq: int) -> int:
    """``rounds`` heartbeats from each of ``nodes``, one every :data:`BEAT`; the next sequence."""
    for _ in range(rounds):
        for node in nodes:
            controller.monitor.heartbeat(node, seq, {})
        seq += 1
        await asyncio.sleep(BEAT)
    return seq
