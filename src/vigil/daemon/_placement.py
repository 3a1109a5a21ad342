"""A node's free capacity for placement, from its configured offer and its agent's heartbeats.

Used by :meth:`vigil.daemon.Controller.place` (``POST /api/v1/placements``). What the agent
reports live wins over what the config declares: ``gpus_free``, ``gpu_memory_free_mb``,
``memory_free_mb`` and ``cpu_pct`` (as the load) in the heartbeat's ``info``.

The controller's own host (a node whose address is a loopback address or this host's name,
as the default ``local`` node on which ``vigil up`` runs replicas) needs no agent: while no
agent has reported for it, the controller reads its facts in place
(:func:`vigil.collectors.host_facts`) and counts it up; it used to stay ``unknown`` and every
placement on an agent-less setup was a 409. Any other node stays unknown until its agent
reports (:func:`vigil.balancer.misfits` says to start one).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vigil.balancer import NodeCapacity
from vigil.model import Node, NodeStatus
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


def is_own_host(declared: NodeSettings, hostname: str) -> bool:
    """True when ``declared`` is the controller's own host: a loopback address (the default
    ``local`` node's 127.0.0.1), ``localhost``, or this host's name. A node declared without an
    address is not: where it is is not known."""
    if declared.address is None:
        return False
    address = declared.address.strip().lower()
    if address in ("localhost", hostname.lower()):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def own_host_up(
    nodes: tuple[Node, ...],
    own: frozenset[str],
    *,
    own_facts: Callable[[], Mapping[str, Any]],
    now: float,
) -> tuple[Node, ...]:
    """``nodes`` as the controller reports them (``GET /api/v1/nodes``, the dashboard, ``vigil
    status``, the risk model): a node in ``own`` (the controller's own host, see
    :func:`is_own_host`) that no agent reported for is up, seen ``now``, with ``own_facts()``
    as its info, as placement counts it. It was listed ``unknown``, last seen never, while its
    replicas ran. Any other node, or one an agent reports for, is as given."""
    if not any(n.status is NodeStatus.UNKNOWN and n.name in own for n in nodes):
        return nodes
    facts = dict(own_facts())
    return tuple(
        dataclasses.replace(n, status=NodeStatus.UP, last_heartbeat=now, info=facts)
        if n.status is NodeStatus.UNKNOWN and n.name in own
        else n
        for n in nodes
    )


def placement_capacity(
    nodes: Sequence[Node],
    declared: Mapping[str, NodeSettings],
    *,
    own: frozenset[str],
    own_facts: Callable[[], Mapping[str, Any]],
) -> list[NodeCapacity]:
    """Every node's capacity; a node in ``own`` (the controller's own host, as
    :func:`own_host_up` lists it), unknown (no agent reported for it), is up with
    ``own_facts()`` (read once per call) as its heartbeat's ``info``. Each node was judged by
    :func:`is_own_host` alone here, so two nodes at this host's address, listed unknown until
    their agents beat, both took placements counting the controller's own memory."""
    out = []
    facts: Mapping[str, Any] | None = None
    for node in nodes:
        offer = declared[node.name]
        if node.status is NodeStatus.UNKNOWN and node.name in own:
            facts = own_facts() if facts is None else facts
            node = dataclasses.replace(node, status=NodeStatus.UP, info=dict(facts))
        out.append(node_capacity(node, offer))
    return out
