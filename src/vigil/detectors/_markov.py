"""A Markov chain of node health states, learned from history, that predicts failure.

Who calls it: the controller's :mod:`vigil.daemon._risk` (fitted from the node status history in
the store and live transitions, exposed per node by ``GET /api/v1/nodes/{name}/risk``); later the
maintenance scheduler (pre-emptive maintenance of a node whose chance of reaching ``failed``
within N steps is high). Pure:
it is fitted from plain sequences of state names, one per time step (say, per hour).

``P[i][j]`` is the maximum-likelihood estimate ``count(i -> j) / count(i -> *)``, optionally
smoothed by a pseudo-count per transition. A state never left in the history stays put (a row of
the identity) rather than dividing by zero. The chance of reaching ``failed`` within N steps is
computed with ``failed`` made absorbing, so each path is counted once, at its first arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

FAILED = "failed"


class HealthMarkov:
    """Transition counts between ``states``; ``failed`` must be one of them."""

    def __init__(
        self, states: Sequence[str], *, failed: str = FAILED, pseudo_count: float = 0.0
    ) -> None:
        if len(set(states)) != len(states):
            raise ValueError(f"duplicate states in {list(states)}")
        if failed not in states:
            raise ValueError(f"failed state {failed!r} is not one of {list(states)}")
        if pseudo_count < 0:
            raise ValueError(f"pseudo_count must be >= 0, got {pseudo_count}")
        self.states = tuple(states)
        self._index = {s: i for i, s in enumerate(states)}
        self._failed = self._index[failed]
        self._pseudo = pseudo_count
        k = len(states)
        self._counts = [[0.0] * k for _ in range(k)]

    def _at(self, state: str) -> int:
        try:
            return self._index[state]
        except KeyError:
            raise ValueError(f"unknown state {state!r}; known: {list(self.states)}") from None

    def observe(self, history: Iterable[str]) -> None:
        """Count the transitions of one node's history (consecutive states, oldest first)."""
        prev: int | None = None
        for state in history:
            cur = self._at(state)
            if prev is not None:
                self._counts[prev][cur] += 1.0
            prev = cur

    def transition_matrix(self) -> list[list[float]]:
        """Row-stochastic ``P[i][j] = P(next = j | now = i)``, in the order of ``states``."""
        k = len(self.states)
        out = []
        for i, row in enumerate(self._counts):
            total = sum(row) + self._pseudo * k
            if total == 0.0:
                out.append([1.0 if j == i else 0.0 for j in range(k)])
            else:
                out.append([(c + self._pseudo) / total for c in row])
        return out

    def failure_probability(self, state: str, steps: int) -> float:
        """P(the chain started in ``state`` is in ``failed`` at least once within ``steps``)."""
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        p = self.transition_matrix()
        f = self._failed
        p[f] = [1.0 if j == f else 0.0 for j in range(len(p))]  # absorbing: count first arrivals
        dist = [0.0] * len(p)
        dist[self._at(state)] = 1.0
        for _ in range(steps):
            if dist[f] >= 1.0:
                break
            dist = [sum(dist[i] * p[i][j] for i in range(len(p))) for j in range(len(p))]
        return min(1.0, max(0.0, dist[f]))


def states_per_step(changes: Sequence[tuple[float, str]], step: float, end: float) -> list[str]:
    """One state per ``step`` seconds, from the first change up to ``end``: the state in force
    at each step's start.

    ``changes`` are ``(at, new state)`` pairs, as a node's status history records them; this
    turns them into the per-step sequence :meth:`HealthMarkov.observe` counts. A state that
    lasted less than a step may not appear (sampling, as a live observer would see it).
    """
    if step <= 0:
        raise ValueError(f"step must be > 0, got {step}")
    ordered = sorted(changes, key=lambda change: change[0])
    if not ordered:
        return []
    t, state = ordered[0][0], ordered[0][1]
    out: list[str] = []
    i = 0
    while t <= end:
        while i < len(ordered) and ordered[i][0] <= t:
            state = ordered[i][1]
            i += 1
        out.append(state)
        t += step
    return out
