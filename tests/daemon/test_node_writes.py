"""A node status change's writes run off the loop: a stuck store does not hold up heartbeats.

The monitor runs on a fake clock against a real SQLite store whose node writes wait behind a
gate the test holds. Heartbeats must still be answered (and judged Up) while every write is
held; once the gate opens, the writes land in order and each NodeStatusChanged follows its
writes. The gate waits at most a few seconds so that the monitor of old (writes in line on the
loop) fails these assertions instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from vigil.bus import EventBus
from vigil.daemon._nodes import NodeMonitor
from vigil.model import IncidentState, Node, NodeStatus, NodeStatusChanged
from vigil.remediation import ActionLog, IncidentBook
from vigil.settings import HeartbeatSettings, NodeSettings, Settings
from vigil.store import SqlStore

NODES = ("n0", "n1", "n2")
HELD_AT_MOST = 5.0
"""Seconds a held write waits for the gate: only a guard against hanging, never a measure."""


class HeldStore(SqlStore):
    """A real store whose node writes wait for ``gate``; ``written`` lists them in order."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gate = threading.Event()
        self.gate.set()
        self.written: list[tuple[str, str]] = []

    def upsert_node(self, node: Node) -> None:
        self.gate.wait(HELD_AT_MOST)
        super().upsert_node(node)
        self.written.append((node.name, node.status.value))


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run (no clock involved) until ``condition`` holds."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_a_storm_of_status_changes_with_a_stuck_store_does_not_hold_up_heartbeats(
    tmp_path: Path,
) -> None:
    store = HeldStore(f"sqlite:///{tmp_path}/v.db")
    settings = Settings(
        nodes=[NodeSettings(name=n) for n in NODES], heartbeat=HeartbeatSettings(interval=1.0)
    )
    bus = EventBus()
    changes = bus.subscribe("test", lambda e: isinstance(e, NodeStatusChanged))
    now = [1000.0]
    ticks: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(_: float) -> None:
        await ticks.get()

    def clock() -> float:
        return now[0]

    incidents = IncidentBook(store, bus, clock)
    monitor = NodeMonitor(
        settings,
        store=store,
        bus=bus,
        incidents=incidents,
        actions=ActionLog(store, bus, incidents, clock),
        clock=clock,
        sleep=sleep,
    )
    store.written.clear()  # the rows written at start-up
    running = asyncio.create_task(monitor.run())
    await asyncio.sleep(0)
    try:
        # every node's first heartbeat is a change (unknown -> up) whose write is held
        store.gate.clear()
        answers = [monitor.heartbeat(n, 0, {}) for n in NODES]
        assert answers == [NodeStatus.UP] * 3
        assert store.written == [], "answered while every write was still held"
        store.gate.set()
        await monitor.drain()
        assert store.written == [(n, "up") for n in NODES]

        # a storm: every node silent for a minute goes down at the next check ...
        store.gate.clear()
        now[0] += 60.0
        ticks.put_nowait(None)
        await until(lambda: all(n.status == NodeStatus.DOWN for n in monitor.nodes()))
        # ... and its heartbeats, arriving while those writes are held, are answered: Up
        answers = [monitor.heartbeat(n, 1, {}) for n in NODES]
        assert answers == [NodeStatus.UP] * 3
        assert [n.status for n in monitor.nodes()] == [NodeStatus.UP] * 3
        assert store.written == [(n, "up") for n in NODES]
        store.gate.set()
        await monitor.drain()
    finally:
        store.gate.set()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    assert store.written[3:] == [(n, "down") for n in NODES] + [(n, "up") for n in NODES]
    seen = []
    while (event := changes.get_nowait()) is not None:
        assert isinstance(event, NodeStatusChanged)
        seen.append((event.node, event.new.value))
    assert seen == store.written, "each change is published after its write, in order"
    for node in NODES:
        (incident,) = store.list_incidents(subject=f"node:{node}").items
        assert incident.state == IncidentState.RESOLVED  # escalated when down, then resolved
        assert incident.evidence["resolution"] == "heartbeats resumed"
        (action,) = store.list_actions(subject=f"node:{node}").items
        assert (action.kind, action.incident_id) == ("escalate", incident.id)
    assert store.get_node("n0").status == NodeStatus.UP
    store.close()
