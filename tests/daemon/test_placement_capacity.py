"""Which node is the controller's own host (placement reads its facts in place when no agent
reports for it), and how the capacity of each node is put together (pure)."""

from __future__ import annotations

import pytest

from vigil.daemon._placement import is_own_host, placement_capacity
from vigil.model import Node, NodeStatus
from vigil.settings import NodeSettings

FACTS = {"memory_free_mb": 1234, "cpu_pct": 50.0}


@pytest.mark.parametrize(
    ("address", "own"),
    [
        ("127.0.0.1", True),  # the default `local` node
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("ctl-01", True),  # this host's name
        ("CTL-01", True),
        ("10.0.0.9", False),
        ("gpu-01.example", False),
        ("not an address", False),
        (None, False),  # declared without an address: where it is is not known
    ],
)
def test_the_controllers_own_host_is_a_loopback_address_or_its_name(
    address: str | None, own: bool
) -> None:
    assert is_own_host(NodeSettings(name="n", address=address), "ctl-01") is own


def test_only_the_own_host_without_an_agent_reads_its_facts_in_place() -> None:
    # ``own``: the controller's own host as it lists it (_placement.own_host_up)
    declared = {
        "local": NodeSettings(name="local", address="127.0.0.1", memory_mb=10),
        "remote": NodeSettings(name="remote", address="10.0.0.9", memory_mb=10),
        "beating": NodeSettings(name="beating", address="127.0.0.1", memory_mb=10),
    }
    nodes = [
        Node(name="local"),
        Node(name="remote"),
        Node(name="beating", status=NodeStatus.UP, info={"memory_free_mb": 7}),
    ]
    calls = []

    def facts() -> dict[str, float]:
        calls.append(1)
        return FACTS

    local, remote, beating = placement_capacity(
        nodes, declared, own=frozenset({"local"}), own_facts=facts
    )
    assert (local.status, local.memory_free_mb, local.load) == (NodeStatus.UP, 1234, 0.5)
    assert (remote.status, remote.memory_free_mb) == (NodeStatus.UNKNOWN, 10)
    assert (beating.status, beating.memory_free_mb) == (NodeStatus.UP, 7)  # its agent's word
    assert calls == [1]  # read once per placement
