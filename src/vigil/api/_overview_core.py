"""Pure core of ``GET /api/v1/overview``: which nodes and replicas a dashboard page shows.

Called by :mod:`vigil.api._overview` with plain values from the control plane (no store, no
clock, no I/O). Problems come first: Down, then Suspect, then Unknown nodes, then Up ones; a
replica that is not running, not live or ready, or whose balancer upstream is not eligible,
before the healthy ones. Ties keep the control plane's order (by name / by index), so a page
does not reshuffle between two refreshes when nothing changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from vigil.model import Health, Node, NodeStatus, Replica, ReplicaState

NODE_RANK: Final[Mapping[NodeStatus, int]] = {
    NodeStatus.DOWN: 0,
    NodeStatus.SUSPECT: 1,
    NodeStatus.UNKNOWN: 2,
    NodeStatus.UP: 3,
}
"""The order nodes are listed in: the worst first."""

PROBLEM_STATUSES: Final = frozenset({NodeStatus.DOWN, NodeStatus.SUSPECT})
"""What ``?nodes=problems`` lists. Unknown (no heartbeat yet, or no agent at all) is not a
problem a page should lead with: a fleet read from Prometheus only is all Unknown."""


def node_counts(nodes: Iterable[Node]) -> dict[str, int]:
    """How many nodes hold each status (every status present, zeros included)."""
    counts = {status.value: 0 for status in NodeStatus}
    for node in nodes:
        counts[node.status.value] += 1
    return counts


def ordered_nodes(nodes: Sequence[Node], *, problems_only: bool) -> list[Node]:
    """The nodes worst first (a stable sort); only Down and Suspect ones with ``problems_only``."""
    chosen = [n for n in nodes if not problems_only or n.status in PROBLEM_STATUSES]
    return sorted(chosen, key=lambda n: NODE_RANK[n.status])


def replica_problem(replica: Replica, upstream_eligible: bool | None) -> bool:
    """True when the replica needs a look: not running, not live or not ready (unknown counts:
    a replica still starting is not serving), or ejected / drained on its balancer."""
    return (
        replica.state is not ReplicaState.RUNNING
        or replica.live is Health.UNHEALTHY
        or replica.ready is not Health.HEALTHY
        or upstream_eligible is False
    )


def ordered_replicas(
    replicas: Sequence[Replica], eligible: Mapping[str, bool]
) -> tuple[list[Replica], int]:
    """The replicas with problems first (stable), and how many have a problem."""
    flagged = [(replica_problem(r, eligible.get(r.id)), r) for r in replicas]
    problems = sum(1 for bad, _ in flagged if bad)
    ordered = [r for bad, r in flagged if bad] + [r for bad, r in flagged if not bad]
    return ordered, problems


def entity_tag(body: bytes) -> str:
    """A strong ETag for a response body (quoted, as RFC 9110 writes it)."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (a list, weak tags, or ``*``)."""
    if not if_none_match:
        return False
    for part in if_none_match.split(","):
        candidate = part.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False
