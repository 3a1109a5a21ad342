"""Nodes across a restart of the controller: what an earlier run heard is taken up again.

A real SQLite store shared by two NodeMonitors (the controller before and after its restart)
and a hand-moved clock: statuses are judged at the times the test sets, never timed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vigil.bus import EventBus
from vigil.daemon._nodes import NodeMonitor
from vigil.model import IncidentState, NodeStatus
from vigil.remediation import ActionLog, IncidentBook
from vigil.settings import HeartbeatSettings, NodeSettings, Settings
from vigil.store import SqlStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def monitor(
    store: SqlStore,
    clock: Callable[[], float],
    names: tuple[str, ...] = ("up", "suspect", "down", "never"),
) -> NodeMonitor:
    """A node monitor over ``store`` for nodes ``names``, heartbeats every second."""
    settings = Settings(
        nodes=[NodeSettings(name=name) for name in names],
        heartbeat=HeartbeatSettings(interval=1.0),
    )
    bus = EventBus()
    incidents = IncidentBook(store, bus, clock)
    return NodeMonitor(
        settings,
        store=store,
        bus=bus,
        incidents=incidents,
        actions=ActionLog(store, bus, incidents, clock),
        clock=clock,
    )


def statuses(mon: NodeMonitor) -> dict[str, NodeStatus]:
    return {n.name: n.status for n in mon.nodes()}


def run_until(
    mon: NodeMonitor, clock: Clock, wanted: dict[str, NodeStatus], beating: set[str]
) -> None:
    """Move the clock on by 0.1 s steps (``beating`` nodes beat each second) until the nodes
    named in ``wanted`` have those statuses; at most 120 s of the fake clock."""
    seq = 0
    for step in range(1200):
        clock.now += 0.1
        if step % 10 == 0:
            for name in beating:
                mon.heartbeat(name, seq, {})
            seq += 1
        mon.check(clock.now)
        now = statuses(mon)
        if all(now[name] == status for name, status in wanted.items()):
            return
    raise AssertionError(f"never reached {wanted}: {statuses(mon)}")


def node_incidents(store: SqlStore, node: str) -> list:
    return list(store.list_incidents(subject=f"node:{node}").items)


def test_nodes_heard_before_a_restart_are_judged_after_it(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/v.db")
    clock = Clock()
    before = monitor(store, clock)
    run_until(before, clock, {}, {"up", "suspect", "down"})  # 120 s of steady heartbeats
    run_until(before, clock, {"down": NodeStatus.DOWN}, {"up", "suspect"})
    run_until(before, clock, {"suspect": NodeStatus.SUSPECT}, {"up"})
    assert statuses(before) == {
        "up": NodeStatus.UP,
        "suspect": NodeStatus.SUSPECT,
        "down": NodeStatus.DOWN,
        "never": NodeStatus.UNKNOWN,
    }

    clock.now += 5.0  # the controller restarts; "up" died meanwhile and never beats again
    after = monitor(store, clock)
    assert statuses(after) == statuses(before)  # as they were, until judged again
    run_until(after, clock, {"up": NodeStatus.DOWN}, set())
    [lost] = node_incidents(store, "up")
    assert lost.state == IncidentState.ESCALATED  # Down: a person is called

    # the Suspect and Down nodes beat again: Up, their incidents resolved
    after.heartbeat("suspect", 0, {})
    after.heartbeat("down", 0, {})
    assert statuses(after)["suspect"] == statuses(after)["down"] == NodeStatus.UP
    for node in ("suspect", "down"):
        assert [i.state for i in node_incidents(store, node)] == [IncidentState.RESOLVED]
    # never heard from: nothing is expected of it
    assert statuses(after)["never"] == NodeStatus.UNKNOWN
    assert node_incidents(store, "never") == []
    store.close()
