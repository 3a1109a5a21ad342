"""A node's free capacity for placement, from its configured offer and its agent's heartbeats.

Used by :meth:`vigil.daemon.Controller.place` (``POST /api/v1/placements``). What the agent
reports live wins over what the config declares: ``gpus_free``, ``gpu_memory_free_mb``,
``memory_free_mb`` and ``cpu_pct`` (as the load) in the heartbeat's ``info``.
"""

from __future__ import annotations

import math
from typing import Any

from vigil.balancer import NodeCapacity
from vigil.model import Node
from vigil.settings import NodeSettings

MAX_REPORTED = 1e15
"""Past this (a petabyte in MB, a quadrillion GPUs) a reported number is garbage, not capacity;
it also keeps a huge integer from overflowing a float."""


def _number(info: Any, key: str, default: float) -> float:
    """The reported number, or ``default`` when it is missing, not a number or not finite
    (JSON from an agent may carry NaN or Infinity, which no capacity can be). A negative one
    is none free (0): it was used as given, and a 409 said "has -5 MB free"."""
    value = info.get(key) if isinstance(info, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return default
    number = float(value) if abs(value) < MAX_REPORTED else math.inf
    return max(0.0, number) if math.isfinite(number) else default


def node_capacity(node: Node, declared: NodeSettings) -> NodeCapacity:
    info = dict(node.info)
    return NodeCapacity(
        name=node.name,
        gpus_free=int(_number(info, "gpus_free", declared.gpus)),
        gpu_memory_free_mb=int(_number(info, "gpu_memory_free_mb", declared.gpu_memory_mb)),
        memory_free_mb=int(_number(info, "memory_free_mb", declared.memory_mb)),
        labels=dict(declared.labels),
        load=min(1.0, max(0.0, _number(info, "cpu_pct", 0.0) / 100.0)),
        status=node.status,
    )
