"""Task placement: choose the node a task (a replica, a job) should run on, or say why none fits.

Pure: it takes the task's needs, the nodes' live capacity (from heartbeats and metrics, gathered
by the controller) and an RNG, and returns a :class:`Placement` or a :class:`NoFit` whose
per-node reasons the API returns with 409 (``POST /api/v1/placements``).

Units: memory in MB. GPU memory is **per GPU**: a task needing ``gpus=2, gpu_memory_mb=40000``
needs two free GPUs with 40 GB free each, so a node's ``gpu_memory_free_mb`` is the free memory
of the *least free* of its free GPUs: any ``gpus`` of its ``gpus_free`` can then be handed out.

=============  ==============================================================================
policy         chooses, among the nodes that fit
=============  ==============================================================================
least_loaded   lowest ``load``, then most free GPUs, then most free memory (spread)
bin_pack       best fit: fewest GPUs left free, then least memory left free, then highest
               load (pack tasks tight so whole nodes stay free for big tasks)
weighted       at random, with probability proportional to ``free * (1 - load)``, where
               ``free`` is 1 + the GPUs (for GPU tasks; else the MB of memory) left after it
round_robin    the first fitting node by name after ``last`` (the node chosen last time)
=============  ==============================================================================

Remaining ties are broken uniformly at random with ``rng``.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vigil.balancer.policies import UnknownPolicyError
from vigil.model import NodeStatus

PLACEMENT_POLICIES = ("bin_pack", "least_loaded", "round_robin", "weighted")
"""The placement policy names :func:`place` accepts."""

_LOAD_FLOOR = 0.01
"""A fully loaded node keeps this much weight under ``weighted``, so it is not impossible."""


@dataclass(frozen=True)
class TaskNeeds:
    """What a task needs from a node. Every label must be present on the node with that value."""

    gpus: int = 0
    gpu_memory_mb: int = 0  # per GPU
    memory_mb: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeCapacity:
    """A node's live free capacity; ``load`` in [0, 1]; only ``up`` nodes take tasks."""

    name: str
    gpus_free: int = 0
    gpu_memory_free_mb: int = 0  # per GPU: the least free memory among the free GPUs
    memory_free_mb: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    load: float = 0.0
    status: NodeStatus = NodeStatus.UP


@dataclass(frozen=True)
class Placement:
    """The chosen node, the policy that chose it, and the nodes that fitted (by name)."""

    node: str
    policy: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class NoFit:
    """No node fits; ``reasons`` has one line per node, e.g. ``gpu-03: needs 2 GPUs, has 1
    free``."""

    reasons: tuple[str, ...]

    @property
    def message(self) -> str:
        """One line for the API's 409 answer."""
        return "no node fits the task: " + "; ".join(self.reasons)


def misfits(task: TaskNeeds, node: NodeCapacity) -> list[str]:
    """Why ``task`` does not fit on ``node`` (empty: it fits)."""
    problems = []
    if node.status is NodeStatus.UNKNOWN:  # never heard from: most likely no agent runs there
        problems.append("no heartbeat yet (start `vigil agent` on it)")
    elif node.status is not NodeStatus.UP:
        problems.append(f"node is {node.status}, not up")
    if task.gpus > node.gpus_free:
        problems.append(f"needs {task.gpus} GPUs, has {node.gpus_free} free")
    if task.gpus > 0 and task.gpu_memory_mb > node.gpu_memory_free_mb:
        problems.append(
            f"needs {task.gpu_memory_mb} MB per GPU, has {node.gpu_memory_free_mb} MB free"
        )
    if task.memory_mb > node.memory_free_mb:
        problems.append(f"needs {task.memory_mb} MB memory, has {node.memory_free_mb} MB free")
    for label, value in sorted(task.labels.items()):
        have = node.labels.get(label)
        if have is None:
            problems.append(f"lacks label {label}={value}")
        elif have != value:
            problems.append(f"label {label}={have}, needs {value}")
    return problems


def place(
    task: TaskNeeds,
    nodes: Sequence[NodeCapacity],
    policy: str,
    rng: random.Random,
    *,
    last: str | None = None,
) -> Placement | NoFit:
    """Choose a node for ``task`` by ``policy`` (one of :data:`PLACEMENT_POLICIES`).

    ``last`` is the node ``round_robin`` chose last time (the caller keeps it). Raises
    :class:`~vigil.balancer.policies.UnknownPolicyError` for an unknown policy.
    """
    if policy not in PLACEMENT_POLICIES:
        raise UnknownPolicyError("placement", policy, PLACEMENT_POLICIES)
    reasons = []
    fitting = []
    for node in nodes:
        problems = misfits(task, node)
        if problems:
            reasons.append(f"{node.name}: {', '.join(problems)}")
        else:
            fitting.append(node)
    if not fitting:
        return NoFit(tuple(reasons) or ("no nodes are known",))
    chosen = _choose(task, fitting, policy, rng, last)
    return Placement(chosen.name, policy, tuple(sorted(n.name for n in fitting)))


def _choose(
    task: TaskNeeds,
    nodes: Sequence[NodeCapacity],
    policy: str,
    rng: random.Random,
    last: str | None,
) -> NodeCapacity:
    if policy == "round_robin":
        ordered = sorted(nodes, key=lambda n: n.name)
        names = [n.name for n in ordered]
        start = bisect.bisect_right(names, last) if last is not None else 0
        return ordered[start % len(ordered)]
    if policy == "weighted":
        weights = [_free(task, n) * max(1.0 - n.load, _LOAD_FLOOR) for n in nodes]
        if sum(weights) <= 0.0:
            return nodes[rng.randrange(len(nodes))]
        return rng.choices(list(nodes), weights=weights)[0]
    keys: list[tuple[float, float, float]]
    if policy == "least_loaded":
        keys = [(n.load, -n.gpus_free, -n.memory_free_mb) for n in nodes]
    else:  # bin_pack
        keys = [
            (n.gpus_free - task.gpus, n.memory_free_mb - task.memory_mb, -n.load) for n in nodes
        ]
    best = min(keys)
    ties = [n for n, k in zip(nodes, keys, strict=True) if k == best]
    return ties[rng.randrange(len(ties))] if len(ties) > 1 else ties[0]


def _free(task: TaskNeeds, node: NodeCapacity) -> float:
    """The free amount of the resource the task is sized by (left after placing it, plus one,
    so that an exact fit still has a chance)."""
    if task.gpus > 0:
        return float(node.gpus_free - task.gpus + 1)
    return float(node.memory_free_mb - task.memory_mb + 1)
