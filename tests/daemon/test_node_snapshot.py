"""The node listing is a snapshot: rebuilt once it is SNAPSHOT_AGE old or when a status changes.

A real SQLite store and a fake clock: the snapshot's age is read from the clock, never timed.
"""

from __future__ import annotations

from pathlib import Path

from vigil.daemon._nodes import SNAPSHOT_AGE, NodeMonitor
from vigil.model import NodeStatus
from vigil.store import SqlStore

from .test_node_restart import monitor


def monitor_at(tmp_path: Path, now: list[float]) -> NodeMonitor:
    return monitor(SqlStore(f"sqlite:///{tmp_path}/v.db"), lambda: now[0], names=("a", "b"))


def test_a_snapshot_is_served_until_it_is_old_and_then_rebuilt(tmp_path: Path) -> None:
    now = [1000.0]
    monitor = monitor_at(tmp_path, now)
    monitor.heartbeat("a", 0, {})
    first = monitor.nodes()
    assert [(n.name, n.status, n.last_heartbeat) for n in first] == [
        ("a", NodeStatus.UP, 1000.0),
        ("b", NodeStatus.UNKNOWN, None),
    ]
    now[0] += SNAPSHOT_AGE / 2
    monitor.heartbeat("a", 1, {"load1": 0.5})
    assert monitor.nodes() is first  # same status: the snapshot stands
    now[0] += SNAPSHOT_AGE
    fresh = monitor.nodes()
    assert fresh is not first
    assert (fresh[0].last_heartbeat, fresh[0].info) == (1000.0 + SNAPSHOT_AGE / 2, {"load1": 0.5})
    assert fresh[0].phi == monitor._judge.phi("a", now[0])


def test_a_status_change_shows_at_once(tmp_path: Path) -> None:
    now = [1000.0]
    monitor = monitor_at(tmp_path, now)
    monitor.heartbeat("a", 0, {})
    monitor.heartbeat("b", 0, {})
    assert [n.status for n in monitor.nodes()] == [NodeStatus.UP, NodeStatus.UP]
    now[0] += 30.0  # both silent long enough to be down
    listed = monitor.nodes()
    for t in monitor._judge.evaluate(now[0]):
        monitor._apply(t, now[0])
    assert [n.status for n in monitor.nodes()] == [NodeStatus.DOWN, NodeStatus.DOWN]
    assert listed is not monitor.nodes()
