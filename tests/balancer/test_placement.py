"""Task placement: which node fits, which one each policy picks, and why none fits."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from vigil.balancer import NodeCapacity, NoFit, Placement, TaskNeeds, UnknownPolicyError, place
from vigil.balancer.placement import PLACEMENT_POLICIES
from vigil.errors import ConfigError
from vigil.model import NodeStatus

NODES = (
    NodeCapacity("gpu-01", gpus_free=4, gpu_memory_free_mb=80_000, memory_free_mb=200_000,
                 labels={"zone": "eu", "gpu": "a100"}, load=0.7),
    NodeCapacity("gpu-02", gpus_free=2, gpu_memory_free_mb=80_000, memory_free_mb=100_000,
                 labels={"zone": "eu", "gpu": "a100"}, load=0.2),
    NodeCapacity("gpu-03", gpus_free=1, gpu_memory_free_mb=40_000, memory_free_mb=300_000,
                 labels={"zone": "us", "gpu": "l4"}, load=0.1),
)  # fmt: skip


def choose(task: TaskNeeds, policy: str, **kwargs: object) -> str:
    result = place(task, NODES, policy, random.Random(1), **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, Placement), result
    return result.node


def test_only_nodes_that_have_every_resource_and_label_are_candidates() -> None:
    result = place(TaskNeeds(gpus=2, labels={"zone": "eu"}), NODES, "least_loaded", random.Random())
    assert isinstance(result, Placement)
    assert result.candidates == ("gpu-01", "gpu-02")


def test_least_loaded_spreads_onto_the_idlest_node_that_fits() -> None:
    assert choose(TaskNeeds(gpus=1), "least_loaded") == "gpu-03"
    assert choose(TaskNeeds(gpus=2), "least_loaded") == "gpu-02"


def test_bin_pack_chooses_the_tightest_fit() -> None:
    assert choose(TaskNeeds(gpus=2), "bin_pack") == "gpu-02"
    assert choose(TaskNeeds(gpus=1, gpu_memory_mb=30_000), "bin_pack") == "gpu-03"
    assert choose(TaskNeeds(memory_mb=50_000), "bin_pack") == "gpu-03"  # 1 GPU left beats 2


def test_weighted_prefers_free_and_idle_nodes_in_proportion() -> None:
    rng = random.Random(4)
    counts = Counter(
        result.node
        for _ in range(6000)
        if isinstance(result := place(TaskNeeds(gpus=1), NODES, "weighted", rng), Placement)
    )
    # weights: (4-1+1)*(1-0.7)=1.2, (2-1+1)*0.8=1.6, (1-1+1)*0.9=0.9 out of 3.7
    assert counts["gpu-01"] / 6000 == pytest.approx(1.2 / 3.7, abs=0.02)
    assert counts["gpu-02"] / 6000 == pytest.approx(1.6 / 3.7, abs=0.02)
    assert counts["gpu-03"] / 6000 == pytest.approx(0.9 / 3.7, abs=0.02)


def test_round_robin_takes_the_next_fitting_node_after_the_last_one() -> None:
    task = TaskNeeds(gpus=1)
    assert choose(task, "round_robin") == "gpu-01"
    assert choose(task, "round_robin", last="gpu-01") == "gpu-02"
    assert choose(task, "round_robin", last="gpu-03") == "gpu-01"
    assert choose(TaskNeeds(gpus=2), "round_robin", last="gpu-02") == "gpu-01"


def test_no_fit_gives_the_reason_for_every_node() -> None:
    nodes = (*NODES, NodeCapacity("gpu-04", gpus_free=8, status=NodeStatus.DOWN))
    task = TaskNeeds(gpus=2, gpu_memory_mb=60_000, memory_mb=250_000, labels={"zone": "eu"})
    result = place(task, nodes, "bin_pack", random.Random())
    assert isinstance(result, NoFit)
    assert result.reasons == (
        "gpu-01: needs 250000 MB memory, has 200000 MB free",
        "gpu-02: needs 250000 MB memory, has 100000 MB free",
        "gpu-03: needs 2 GPUs, has 1 free, needs 60000 MB per GPU, has 40000 MB free, "
        "label zone=us, needs eu",
        "gpu-04: node is down, not up, needs 60000 MB per GPU, has 0 MB free, "
        "needs 250000 MB memory, has 0 MB free, lacks label zone=eu",
    )
    assert result.message.startswith("no node fits the task: gpu-01: needs 250000 MB")


def test_the_api_example_reason_reads_as_documented() -> None:
    result = place(TaskNeeds(gpus=2), NODES[2:], "least_loaded", random.Random())
    assert isinstance(result, NoFit)
    assert result.reasons == ("gpu-03: needs 2 GPUs, has 1 free",)


def test_an_empty_fleet_is_no_fit_with_a_reason() -> None:
    result = place(TaskNeeds(), [], "least_loaded", random.Random())
    assert isinstance(result, NoFit) and result.reasons == ("no nodes are known",)


def test_an_unknown_placement_policy_is_a_config_error() -> None:
    with pytest.raises(UnknownPolicyError) as caught:
        place(TaskNeeds(), NODES, "first_fit", random.Random())
    assert isinstance(caught.value, ConfigError)
    assert all(name in str(caught.value) for name in PLACEMENT_POLICIES)


def test_a_node_never_heard_from_says_to_start_its_agent() -> None:
    silent = NodeCapacity("gpu-05", gpus_free=8, status=NodeStatus.UNKNOWN)
    result = place(TaskNeeds(gpus=1), [silent], "least_loaded", random.Random())
    assert isinstance(result, NoFit)
    assert result.reasons == ("gpu-05: no heartbeat yet (start `vigil agent` on it)",)
