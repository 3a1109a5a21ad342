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

import math
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

    def observe_runs(self, runs: Iterable[tuple[str, int]]) -> None:
        """Count a history given as runs ``(state, steps in it)``, oldest first: the same counts
        as :meth:`observe` of the expanded sequence, in time proportional to the runs (a node up
        for a month is one run, not 43,200 one-minute steps)."""
        prev: int | None = None
        for state, steps in runs:
            if steps < 1:
                continue
            cur = self._at(state)
            if prev is not None:
                self._counts[prev][cur] += 1.0
            self._counts[cur][cur] += float(steps - 1)
            prev = cur

    def left(self, state: str) -> int:
        """Transitions counted out of ``state`` to another state. With none, ``state`` is
        absorbing in :meth:`transition_matrix` (its row is all stay, or the identity's when it
        was never seen) and :meth:`failure_probability` from it is 0 (1 from ``failed``): a
        figure the counts lack, not one they show."""
        i = self._at(state)
        return int(sum(c for j, c in enumerate(self._counts[i]) if j != i))

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
        k = len(p)
        p[f] = [1.0 if j == f else 0.0 for j in range(k)]  # absorbing: count first arrivals
        dist = [0.0] * k
        dist[self._at(state)] = 1.0
        # dist x P^steps by squaring: O(k^3 log steps), not O(k^2 steps) (a million steps
        # walked one by one held the event loop ~10 s per state asked for)
        while steps:
            if steps & 1:
                dist = [sum(dist[i] * p[i][j] for i in range(k)) for j in range(k)]
            steps >>= 1
            if steps:
                p = [[sum(p[i][m] * p[m][j] for m in range(k)) for j in range(k)] for i in range(k)]
        return min(1.0, max(0.0, dist[f]))


def runs_per_step(
    changes: Sequence[tuple[float, str]], step: float, end: float
) -> list[tuple[str, int]]:
    """:func:`states_per_step` as runs ``(state, steps)``, in time proportional to the changes
    rather than to the span: the seed of a risk model reads months of history at start-up."""
    if step <= 0:
        raise ValueError(f"step must be > 0, got {step}")
    ordered = sorted(changes, key=lambda change: change[0])
    if not ordered or ordered[0][0] > end:
        return []
    t0 = ordered[0][0]
    total = math.floor((end - t0) / step) + 1  # the steps t0, t0 + step, ... up to end
    runs: list[tuple[str, int]] = []
    for i, (at, state) in enumerate(ordered):
        # the steps at which this change is the last one made: from the first step at or
        # after it to the last one before the next change
        first = math.ceil((at - t0) / step)
        upto = total if i + 1 == len(ordered) else math.ceil((ordered[i + 1][0] - t0) / step)
        steps = min(upto, total) - first
        if steps > 0:
            runs.append((state, steps))
    return runs


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
