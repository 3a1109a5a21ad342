"""The pure core of the overview: node and replica order, ETag matching."""

from __future__ import annotations

from vigil.api._overview_core import entity_tag, matches, ordered_nodes, ordered_replicas
from vigil.model import Health, Node, NodeStatus, Replica, ReplicaState


def test_nodes_are_ordered_worst_first_keeping_the_fleet_order_within_a_status() -> None:
    statuses = [NodeStatus.UP, NodeStatus.DOWN, NodeStatus.UNKNOWN, NodeStatus.SUSPECT]
    nodes = [Node(name=f"n{i}", status=statuses[i % 4]) for i in range(8)]
    assert [n.name for n in ordered_nodes(nodes, problems_only=False)] == [
        "n1", "n5", "n3", "n7", "n2", "n6", "n0", "n4",
    ]  # fmt: skip
    assert [n.name for n in ordered_nodes(nodes, problems_only=True)] == ["n1", "n5", "n3", "n7"]


def _replica(index: int, **over: object) -> Replica:
    fields: dict[str, object] = {
        "id": f"s/{index}", "service": "s", "index": index, "node": "a", "port": 1,
        "state": ReplicaState.RUNNING, "live": Health.HEALTHY, "ready": Health.HEALTHY,
    }  # fmt: skip
    fields.update(over)
    return Replica(**fields)  # type: ignore[arg-type]


def test_replicas_not_running_not_ready_or_ejected_come_first() -> None:
    replicas = [
        _replica(0),
        _replica(1, state=ReplicaState.EXITED),
        _replica(2),
        _replica(3, ready=Health.UNKNOWN),
        _replica(4),
    ]
    ordered, problems = ordered_replicas(replicas, {"s/4": False, "s/0": True})
    assert [r.index for r in ordered] == [1, 3, 4, 0, 2]
    assert problems == 3


def test_if_none_match_takes_lists_weak_tags_and_a_star() -> None:
    tag = entity_tag(b"{}")
    assert tag.startswith('"') and tag.endswith('"') and tag != entity_tag(b"{ }")
    assert matches(tag, tag)
    assert matches(f'"other", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches(None, tag) and not matches("", tag) and not matches('"other"', tag)
