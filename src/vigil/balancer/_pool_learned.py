"""What p2c_ewma has learned, shared by the worker processes of one balancer: each worker
publishes its delay model of every upstream in its own row of the shared block, and reads the
model that every worker's rows make together.

:meth:`Pool.share <vigil.balancer.pool.Pool.share>` builds a :class:`SharedLearned` over the
same block as the in-flight counts (:mod:`vigil.balancer._pool_shared`, its ``learned`` table)
and hands it to a policy that can use it (``share_models``: p2c_ewma,
:mod:`vigil.balancer.policies._p2c`). The policy calls :meth:`SharedLearned.publish` after its
model of an upstream learns from an answer (``finished``), and :meth:`SharedLearned.view` for
each upstream it compares at a pick, which returns the pooled model
(:func:`vigil.balancer.policies._p2c_pooled.combine`: the sums of every row, decayed to one
time, fitted as one). The pooled model of a slot is cached with the sequence numbers of the rows
it was made from, so a pick reads one number per worker for each upstream compared, and
recombines only the upstreams some worker has learned about since.

Torn reads (a row read while its worker writes it) are not used (on x86-64; see below for weakly
ordered CPUs): each row is a seqlock. The
writer (the row's only one) stores an odd sequence number, then the row, then the next even
number; a reader reads the number, the row, the number again, and keeps the row only if both
numbers are equal and even. Otherwise it tries once more, then keeps the last good copy of that
row (or nothing, if it never had one) and looks again at the next pick (its cached number is
left unchanged). Every cell is one aligned 8-byte store or load (single-copy atomic, see
``_pool_shared``), so the numbers themselves are never torn; on x86-64 stores are seen in the
order they were made and loads are not reordered with each other (TSO), which is all a seqlock
needs. On a weakly ordered CPU (AArch64) there is no fence here: a reader could take a row whose
cells are a mix of two successive versions of that row (each cell whole), sums from two nearby
states, replaced when the row next changes. A worker that dies mid-write leaves an odd number:
its row is not read again until the parent zeroes it at exit (:meth:`SharedBlock.zero
<vigil.balancer._proxy_shared.SharedBlock.zero>`), after which its weights are 0 and
:func:`combine` skips it: a dead worker's model no longer counts.

A pool of one process has no block and no :class:`SharedLearned`: the policy reads its own models
and pays one ``is None`` test. Compiled with mypyc (setup.py's ``DATA_PLANE``).
"""

from __future__ import annotations

from vigil.balancer._pool_shared import LEARNED_CELLS, SharedInFlight, learned_offset
from vigil.balancer.policies._p2c_model import DelayModel
from vigil.balancer.policies._p2c_pooled import FIELDS, PARTS, combine, row

RETRIES = 2
"""Reads of a row before falling back to its last good copy (a writer updates it in ~1 µs)."""


class SharedLearned:
    """One worker's access to the learned table: its rows to write, every row to read.

    ``parts`` is what is pooled (:data:`vigil.balancer.policies._p2c_pooled.PARTS`: all of it
    in the product; bench/balance_sim.py measures subsets). Single-threaded, like the pool.
    """

    def __init__(self, shared: SharedInFlight, parts: frozenset[str] = PARTS) -> None:
        unknown = parts - PARTS
        if unknown:
            raise ValueError(f"parts: unknown {sorted(unknown)}; choose from {sorted(PARTS)}")
        self.parts = parts
        self.stall = "stall" in parts
        self._shared = shared
        workers, capacity = shared.workers, shared.capacity
        start = learned_offset(workers, capacity)
        end = start + workers * capacity * LEARNED_CELLS * 8
        self._cells = shared.floats(start, end)
        self.worker = shared.worker
        self.workers = workers
        self._stride = capacity * LEARNED_CELLS  # from one worker's row to the next's
        self._written: list[float] = [0.0] * capacity  # own sequence number per slot
        self._seen: list[list[float]] = [[-1.0] * workers for _ in range(capacity)]
        self._rows: list[list[list[float]]] = [
            [[0.0] * FIELDS for _ in range(workers)] for _ in range(capacity)
        ]
        self._pooled: list[DelayModel | None] = [None] * capacity

    def publish(self, upstream_id: str, model: DelayModel) -> None:
        """Store this worker's ``model`` of ``upstream_id`` in its row (after it learned)."""
        slot = self._shared.slot(upstream_id)
        if slot < 0:
            return
        cells = self._cells
        base = self.worker * self._stride + slot * LEARNED_CELLS
        seq = self._written[slot] + 1.0
        cells[base] = seq  # odd: being written
        values = row(model)
        for f in range(FIELDS):
            cells[base + 1 + f] = values[f]
        cells[base] = seq + 1.0  # even: complete
        self._written[slot] = seq + 1.0

    def view(self, upstream_id: str, own: DelayModel | None, prior: float) -> DelayModel | None:
        """The model every worker's rows make for ``upstream_id`` (``own`` when none has
        learned anything, or the upstream has no slot); ``prior`` is the policy's slope prior."""
        slot = self._shared.slot(upstream_id)
        if slot < 0:
            return own
        cells = self._cells
        seen = self._seen[slot]
        stride = self._stride
        base = slot * LEARNED_CELLS
        changed = False
        for w in range(self.workers):
            if cells[w * stride + base] != seen[w]:
                changed = True
                break
        pooled = self._pooled[slot]
        if not changed:
            return own if pooled is None else pooled
        rows = self._rows[slot]
        for w in range(self.workers):
            start = w * stride + base
            if cells[start] != seen[w]:
                seq = read_row(cells, start, rows[w])
                if seq >= 0.0:
                    seen[w] = seq
        if pooled is None:
            pooled = DelayModel()
        if combine(rows, self.worker, pooled, prior, self.parts):
            self._pooled[slot] = pooled
            return pooled
        self._pooled[slot] = None
        return own


def read_row(cells: memoryview[float], start: int, into: list[float]) -> float:
    """Copy the row at ``start`` (its sequence number first) into ``into`` if it reads whole:
    the same even number before and after (up to :data:`RETRIES` tries). Returns that number,
    or -1 with ``into`` unchanged (a torn read: the caller keeps its last good copy)."""
    scratch = [0.0] * FIELDS
    for _ in range(RETRIES):
        before = float(cells[start])
        if int(before) % 2:
            continue  # being written
        for f in range(FIELDS):
            scratch[f] = float(cells[start + 1 + f])
        if float(cells[start]) == before:
            into[:] = scratch
            return before
    return -1.0
