"""In-flight counts shared by the worker processes of one balancer: each worker's pool reads the
global count of every upstream, not only its own requests'.

With ``balancer.workers: K`` each worker process (:mod:`vigil.balancer._proxy_workers`) has its
own :class:`~vigil.balancer.pool.Pool`, so without this each sees a K-th of every queue (with
one request slot per replica, p2c p99 / oracle 1.12 at K = 1, 1.32 at K = 2, 1.92 at K = 4 in
``bench/balance_sim.py``). The parent creates one block of memory
(:mod:`vigil.balancer._proxy_shared`) laid out as

    header    HEADER_WORDS int64: MAGIC, workers, capacity, 0
    names     capacity x NAME_BYTES: upstream id of each slot, UTF-8, NUL-padded (parent-written)
    counts    workers x capacity int64: requests in flight of worker w on slot s (row w)
    oldest    workers x capacity float64: start of worker w's oldest request out there (0: none)
    answered  workers x capacity float64: when worker w last got an answer from it (0: never)
    learned   workers x capacity x LEARNED_CELLS float64: worker w's p2c model of slot s, a
              sequence number then the row of :mod:`vigil.balancer.policies._p2c_pooled`
              (read and written by :mod:`vigil.balancer._pool_learned`)

and assigns every upstream a slot (the same in every worker, found by id in the names). A
worker's pool (:meth:`Pool.share <vigil.balancer.pool.Pool.share>`) calls :class:`SharedInFlight`
on each ``acquire`` / ``release``: :meth:`~SharedInFlight.refresh` sets each candidate's
``in_flight`` to the sum of its column, ``shared_oldest`` (what ``oldest_pending`` then returns)
to the column's earliest start and ``peers_answered_at`` to the latest answer of the *other*
workers (this one's is the policy's own ``done_at``), just before the
policy picks; :meth:`~SharedInFlight.started` / :meth:`~SharedInFlight.finished` store this
worker's own figures in its row. So p2c_ewma's silence test (no answer for a while with requests
out, :mod:`vigil.balancer.policies._p2c`) sees the requests and the answers of every worker, not
a K-th of them. Times are the proxy's clock, ``time.monotonic`` (CLOCK_MONOTONIC: one clock for
every process on the host). A single-process pool has no such object and pays nothing.

No locks, because every cell has one writer: worker ``w`` alone stores into row ``w`` of each
table (the parent only zeroes the rows of a worker that has exited, :meth:`SharedBlock.zero
<vigil.balancer._proxy_shared.SharedBlock.zero>`), and it stores absolute values, never
increments, so a reader never has to combine partial updates, and a late read is only stale,
corrected by the next store. A store is one aligned 8-byte write: a ``memoryview`` of format
``q`` or ``d`` packs an item with a ``memcpy`` of 8 bytes into an 8-aligned address (the tables
start on 8-byte boundaries of a page-aligned mapping), which compilers emit as a single ``mov``
/ ``str``, and aligned 8-byte accesses are single-copy atomic on x86-64 (Intel SDM vol. 3
8.1.1) and on AArch64 (Arm ARM B2.2.1), the platforms Vigil runs on: a reader sees the old or
the new value, never a mix. No ordering between cells is needed (each is a separate hint: a
count and a time of one worker may be seen one update apart).

Upstreams missing from the names (added to a worker's pool without a slot) are counted locally
only, as before; :meth:`SharedInFlight.slot` re-reads the names on a miss, so one added later
through the health channel (:meth:`Workers.apply <vigil.balancer.proxy.Workers.apply>` assigns
its slot before the worker hears of it) is found. Compiled with mypyc (setup.py).
"""

from __future__ import annotations

from typing import Final

from vigil.balancer._upstream import Upstream

MAGIC: Final = 0x5649_4749_4C5F_4946  # "VIGIL_IF"
HEADER_WORDS: Final = 4
NAME_BYTES: Final = 64
"""Longest upstream id (UTF-8 bytes) a slot holds."""


def counts_offset(capacity: int) -> int:
    """Byte offset of the counts: after the header and the names, rounded up to 8 bytes."""
    end = HEADER_WORDS * 8 + capacity * NAME_BYTES
    return (end + 7) // 8 * 8


TABLES: Final = 3
"""counts, oldest, answered: each ``workers x capacity`` 8-byte cells."""


LEARNED_CELLS: Final = 12
"""8-byte cells per worker and slot in the learned table: a sequence number (odd while the
worker writes) and the 11 numbers of a ``_p2c_pooled`` row."""


def learned_offset(workers: int, capacity: int) -> int:
    """Byte offset of the learned table: after the three tables of counts and times."""
    return counts_offset(capacity) + TABLES * workers * capacity * 8


def block_size(workers: int, capacity: int) -> int:
    """Bytes of a block for ``workers`` rows of ``capacity`` slots."""
    return learned_offset(workers, capacity) + workers * capacity * LEARNED_CELLS * 8


def format_block(buffer: memoryview, workers: int, capacity: int) -> None:
    """Write the header of an empty (zeroed) block into ``buffer`` (the parent, once)."""
    header = buffer[: HEADER_WORDS * 8].cast("q")
    header[1], header[2] = workers, capacity
    header[0] = MAGIC
    header.release()


def write_name(buffer: memoryview, slot: int, upstream_id: str) -> None:
    """Give ``slot`` to ``upstream_id`` (the parent, before any worker looks for it)."""
    raw = upstream_id.encode("utf-8")
    if not raw or len(raw) > NAME_BYTES or b"\0" in raw:
        raise ValueError(
            f"upstream id {upstream_id!r} must be 1 to {NAME_BYTES} bytes of UTF-8 without NUL"
        )
    base = HEADER_WORDS * 8 + slot * NAME_BYTES
    buffer[base : base + NAME_BYTES] = raw.ljust(NAME_BYTES, b"\0")


def local_block(workers: int, upstream_ids: list[str], capacity: int = 0) -> memoryview:
    """A block in this process's memory with a slot per id, in order (``capacity`` 0: just
    enough): for pools that stand for workers in one process (tests, bench/balance_sim.py)."""
    capacity = capacity or len(upstream_ids)
    buffer = memoryview(bytearray(block_size(workers, capacity)))
    format_block(buffer, workers, capacity)
    for slot, upstream_id in enumerate(upstream_ids):
        write_name(buffer, slot, upstream_id)
    return buffer


def read_names(buffer: memoryview, capacity: int) -> dict[str, int]:
    """The slot of every upstream id written in the names of ``buffer``."""
    slots: dict[str, int] = {}
    base = HEADER_WORDS * 8
    for slot in range(capacity):
        raw = bytes(buffer[base + slot * NAME_BYTES : base + (slot + 1) * NAME_BYTES])
        name = raw.rstrip(b"\0")
        if name:
            slots[name.decode("utf-8")] = slot
    return slots


class SharedInFlight:
    """One worker's view of the shared counts: its rows to write, every row to read.

    ``buffer`` is the whole block (a :class:`multiprocessing.shared_memory.SharedMemory`'s
    ``buf``, or any writable buffer laid out as the module docstring says, as in
    ``bench/balance_sim.py``); ``worker`` is this process's row. Single-threaded (the worker's
    event loop), like the pool that calls it.
    """

    def __init__(self, buffer: memoryview, worker: int) -> None:
        header = buffer[: HEADER_WORDS * 8].cast("q")
        magic, workers, capacity = int(header[0]), int(header[1]), int(header[2])
        header.release()
        if magic != MAGIC:
            raise ValueError("not a shared in-flight block (bad magic number)")
        if not 0 <= worker < workers:
            raise ValueError(f"worker {worker} out of range: the block has {workers} rows")
        table = workers * capacity * 8
        start = counts_offset(capacity)
        self._buffer = buffer
        self._counts = buffer[start : start + table].cast("q")
        self._oldest = buffer[start + table : start + 2 * table].cast("d")
        self._answered = buffer[start + 2 * table : start + 3 * table].cast("d")
        self.worker = worker
        self.workers = workers
        self.capacity = capacity
        self._row = worker * capacity
        self._end = workers * capacity
        self._own: list[int] = [0] * capacity
        self._slots: dict[str, int] = read_names(buffer, capacity)
        self._views: list[memoryview[float]] = []

    def floats(self, start: int, end: int) -> memoryview[float]:
        """Bytes ``start:end`` of the block as float64 cells (released by :meth:`close`): the
        learned table's (:mod:`vigil.balancer._pool_learned`)."""
        view = self._buffer[start:end].cast("d")
        self._views.append(view)
        return view

    def slot(self, upstream_id: str) -> int:
        """The slot of ``upstream_id`` (-1: none assigned; it is counted locally only)."""
        slot = self._slots.get(upstream_id, -1)
        if slot < 0:
            self._slots = read_names(self._buffer, self.capacity)
            slot = self._slots.get(upstream_id, -1)
        return slot

    def refresh(self, upstreams: list[Upstream]) -> None:
        """Set each upstream's ``in_flight``, ``shared_oldest`` and ``peers_answered_at`` from
        every worker's row (just before a pick)."""
        slots = self._slots
        for upstream in upstreams:
            slot = slots.get(upstream.id, -1)
            if slot >= 0:
                self._load(upstream, slot)

    def _load(self, upstream: Upstream, slot: int) -> None:
        counts = self._counts
        oldest = self._oldest
        answered = self._answered
        step = self.capacity
        end = self._end
        mine = self._row + slot
        total = 0
        first = 0.0
        last = 0.0
        i = slot
        while i < end:
            total += counts[i]
            t = oldest[i]
            if t > 0.0 and (first == 0.0 or t < first):
                first = t
            t = answered[i]
            if t > last and i != mine:
                last = t
            i += step
        upstream.in_flight = total
        upstream.shared_oldest = first if first > 0.0 else None
        upstream.peers_answered_at = last

    def own(self, upstream: Upstream) -> int:
        """This worker's requests in flight on ``upstream`` (its ``in_flight`` if unslotted)."""
        slot = self._slots.get(upstream.id, -1)
        return self._own[slot] if slot >= 0 else upstream.in_flight

    def started(self, upstream: Upstream) -> None:
        """This worker sent one more request to ``upstream`` (the pool counted it already and
        put its start in ``pending``)."""
        slot = self._slots.get(upstream.id, -1)
        if slot >= 0:
            own = self._own[slot] + 1
            self._own[slot] = own
            cell = self._row + slot
            self._counts[cell] = own
            if upstream.pending:
                mine = upstream.pending[0]
                self._oldest[cell] = mine
                first = upstream.shared_oldest
                if first is None or mine < first:
                    upstream.shared_oldest = mine

    def finished(self, upstream: Upstream, now: float, answered: bool, reread: bool = True) -> None:
        """One of this worker's requests to ``upstream`` ended at ``now`` (``answered``: the
        upstream answered it, the client did not just go away; the pool has taken it off
        ``pending``); re-read its column unless ``reread`` is False (the pool's policy reads
        no count: :meth:`refresh` before a snapshot is enough)."""
        slot = self._slots.get(upstream.id, -1)
        if slot >= 0:
            own = self._own[slot] - 1
            if own < 0:
                own = 0
            self._own[slot] = own
            cell = self._row + slot
            self._counts[cell] = own
            self._oldest[cell] = upstream.pending[0] if upstream.pending else 0.0
            if answered:
                self._answered[cell] = now
            if reread:
                self._load(upstream, slot)

    def close(self) -> None:
        """Release the views into the buffer (so the shared memory can be closed)."""
        self._counts.release()
        self._oldest.release()
        self._answered.release()
        for view in self._views:
            view.release()
        self._views.clear()
