"""What the workers of one balancer have learned about an upstream, pooled: each worker's
:class:`~vigil.balancer.policies._p2c_model.DelayModel` as a row of numbers, and the one model
that the rows of every worker make together.

Pure. :class:`~vigil.balancer._pool_learned.SharedLearned` (the shared-memory block of the
workers, :mod:`vigil.balancer._pool_shared`) stores each worker's :func:`row` when its model
learns (``finished``) and, when :class:`~vigil.balancer.policies._p2c.PeakEwmaP2C` compares an
upstream, :func:`combine` s the rows of every worker into the model it reads.

Why sums and not fitted parameters: a model is a weighted least-squares line over its requests
(``_p2c_model``): the weights decay by a factor per request and by ``exp(-dt / HORIZON)`` with
time, and the line is a function of five decayed sums (weights, ``k``, ``y``, ``k^2``, ``k y``).
Each worker's sums are over its own requests; decayed to one time ``T`` (the latest time any row
learned something) and added, they are exactly the sums of the fit over the union of every
worker's requests, each weighted as its own worker weighs it (its count decay within that
worker's stream, the time decay to ``T``): the fit a single model would make of all of them
(tests/balancer/test_p2c_pooled.py checks it against that fit computed from the observations).
An average of the workers' lines would not be: a worker with two requests at ``k = 0`` and one
with two hundred at ``k = 3`` would count alike. The idle latency is a ratio of two decayed sums
too, pooled the same way. The stall memory (seconds stalled, decayed over ``STALL_HORIZON``) is
summed after decaying every row to the latest ``stall_at``: each stall is recorded once, by the
worker whose answer ends the silence, since a silence ends at *anyone's* answer when the stall
memory is pooled (``DelayModel.finished``'s ``peers_done``), so the sum does not count a stall
once per worker that saw it.

``parts`` picks what is pooled (``line``: the line's sums; ``idle``: the idle latency's;
``stall``: the stall memory); a part not pooled is this worker's own. All three is the product;
the subsets are for bench/balance_sim.py, which measured which part matters
(docs/benchmarks.md, "Workers sharing what p2c has learned").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Protocol

from vigil.balancer.policies._p2c_model import HORIZON, STALL_HORIZON, DelayModel

FIELDS: Final = 11
"""Numbers per row: at, the five sums of the line, the two idle sums, stalled, stall_at,
done_at."""

PARTS: Final = frozenset({"line", "idle", "stall"})
"""Everything that can be pooled (the product pools all of it)."""


class ModelBoard(Protocol):
    """Where a policy publishes its models and reads the pooled ones
    (:class:`vigil.balancer._pool_learned.SharedLearned`)."""

    @property
    def stall(self) -> bool:
        """Whether the stall memory is pooled (each stall then recorded once: ``peers_done``)."""
        ...

    def publish(self, upstream_id: str, model: DelayModel) -> None: ...

    def view(self, upstream_id: str, own: DelayModel | None, prior: float) -> DelayModel | None: ...


def row(model: DelayModel) -> list[float]:
    """The numbers a worker publishes for its model of one upstream (a row of :data:`FIELDS`);
    a model that has learned nothing gives weights of 0, which readers skip."""
    sw, sk, sy, skk, sky, iw, iy = model.sums()
    at = model.at if model.at is not None else 0.0
    done = model.done_at if model.done_at > 0.0 else 0.0
    return [at, sw, sk, sy, skk, sky, iw, iy, model.stalled, model.stall_at, done]


def combine(
    rows: Sequence[Sequence[float]],
    own: int,
    into: DelayModel,
    prior: float,
    parts: frozenset[str] = PARTS,
) -> bool:
    """Load ``into`` with the model the ``rows`` (one per worker; ``own`` is this worker's)
    make together, fitted with the slope ``prior`` (as ``DelayModel.finished`` takes it);
    False if no row has learned anything (``into`` unchanged). A part not in ``parts`` is
    taken from the own row alone. Rows whose weights are not positive (a worker that has
    learned nothing, or whose row the parent zeroed when it exited) are skipped."""
    line, idle, stall = "line" in parts, "idle" in parts, "stall" in parts
    latest = -math.inf
    for w, r in enumerate(rows):
        if r[1] > 0.0 and (w == own or line or idle) and r[0] > latest:
            latest = r[0]
    if latest == -math.inf:
        return False
    sw = sk = sy = skk = sky = iw = iy = 0.0
    stalled = stall_at = done = 0.0
    for w, r in enumerate(rows):
        if not r[1] > 0.0:
            continue
        mine = w == own
        keep = math.exp(-(latest - r[0]) / HORIZON) if r[0] < latest else 1.0
        if mine or line:
            sw += r[1] * keep
            sk += r[2] * keep
            sy += r[3] * keep
            skk += r[4] * keep
            sky += r[5] * keep
        if mine or idle:
            iw += r[6] * keep
            iy += r[7] * keep
        if (mine or stall) and r[8] > 0.0:
            if r[9] > stall_at:  # decay what is summed so far to the later time
                stalled *= math.exp(-(r[9] - stall_at) / STALL_HORIZON)
                stalled += r[8]
                stall_at = r[9]
            else:
                stalled += r[8] * math.exp(-(stall_at - r[9]) / STALL_HORIZON)
        if r[10] > done:
            done = r[10]
    if not sw > 0.0:  # lines not pooled and this worker has none: nothing to fit
        return False
    into.load(latest, (sw, sk, sy, skk, sky), (iw, iy), prior)
    into.stalled = stalled
    into.stall_at = stall_at
    into.done_at = done if done > 0.0 else -math.inf
    return True
