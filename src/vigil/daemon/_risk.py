"""Markov failure risk per node: P(a node is ``down`` within N steps), learned from history.

The controller owns one :class:`NodeRisk`: on start it is seeded from the node status changes
stored as ``node.status`` events (:meth:`NodeRisk.seed`), then :meth:`NodeRisk.run` samples the
node monitor's live statuses once per ``metrics.risk_step`` seconds, counting each node's
transition into the shared model (pooled over nodes: one node rarely fails often enough to
learn from alone). ``GET /api/v1/nodes/{name}/risk``, ``vigil status`` and ``vigil top`` read
:meth:`NodeRisk.view`. The model itself is :class:`vigil.detectors.HealthMarkov` (pure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from vigil.api import RiskView
from vigil.detectors import HealthMarkov, runs_per_step
from vigil.model import NodeStatus

log = logging.getLogger("vigil.daemon")

STATES = tuple(s.value for s in NodeStatus)
"""The chain's states: every node status (unknown, up, suspect, down)."""
FAILED = NodeStatus.DOWN.value


class NodeRisk:
    def __init__(self, *, step: float, steps: int) -> None:
        self.step, self.steps = step, steps
        self.model = HealthMarkov(STATES, failed=FAILED)
        self.transitions = 0
        self._last: dict[str, str] = {}
        # what view() computed, per state, for the model as it was at ``transitions``: the
        # answer depends on the node's state alone, and GET /api/v1/risk asks for every node
        # (1,000 nodes: ~0.5 s of the event loop per call, heartbeats waiting, without it)
        self._views: dict[str, tuple[float, dict[str, dict[str, float]], int]] = {}
        self._views_at = -1

    def seed(self, changes: Iterable[tuple[float, str, str]], now: float) -> None:
        """Count the history ``(at, node, new status)`` up to ``now``, one state per step
        (counted by runs: months of history at a one-second step cost as much as one day)."""
        per_node: dict[str, list[tuple[float, str]]] = {}
        for at, node, status in changes:
            if status in STATES:
                per_node.setdefault(node, []).append((at, status))
        for node, node_changes in per_node.items():
            runs = runs_per_step(node_changes, self.step, now)
            self.model.observe_runs(runs)
            self.transitions += max(0, sum(steps for _, steps in runs) - 1)
            if runs:
                self._last[node] = runs[-1][0]

    def sample(self, statuses: Mapping[str, str]) -> None:
        """One step of live observation: each node's status now."""
        for node, status in statuses.items():
            if status not in STATES:
                continue
            prev = self._last.get(node)
            if prev is not None:
                self.model.observe((prev, status))
                self.transitions += 1
            self._last[node] = status

    def view(self, node: str, state: str) -> RiskView:
        if self._views_at != self.transitions:  # every change of the model counts one
            self._views, self._views_at = {}, self.transitions
        known = self._views.get(state)
        if known is None:
            matrix = self.model.transition_matrix()
            known = self._views[state] = (
                self.model.failure_probability(state, self.steps),
                {a: {b: matrix[i][j] for j, b in enumerate(STATES)} for i, a in enumerate(STATES)},
                self.model.left(state),
            )
        probability, rows, left = known
        return RiskView(
            node=node,
            state=state,
            probability=probability,
            steps=self.steps,
            step=self.step,
            transitions=self.transitions,
            matrix={a: dict(row) for a, row in rows.items()},
            left=left,
        )

    async def run(
        self,
        statuses: Callable[[], Mapping[str, str]],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        while True:
            await sleep(self.step)
            self.sample(statuses())
