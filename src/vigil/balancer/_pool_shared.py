"""In-flight counts shared by the worker processes of one balancer: each worker's pool reads the
global count of every upstream, not only its own requests'.

With ``balancer.workers: K`` each worker process (:mod:`vigil.balancer._proxy_workers`) has its
own :class:`~vigil.balancer.pool.Pool`, so without this each sees a K-th of every queue (with
one request slot per replica, p2c p99 / oracle 1.12 at K = 1, 1.32 at K = 2, 1.92 at K = 4 in
``bench/balance_sim.py``). The parent creates one block of memory
(:mod:`vigil.balancer._proxy_shared`) laid out as

    header   HEADER_WORDS int64: MAGIC, workers, capacity, 0
    names    capacity x NAME_BYTES: upstream id of each slot, UTF-8, NUL-padded (parent-written)
    counts   workers x capacity int64: requests in flight of worker w on slot s (row w)

and assigns every upstream a slot (the same in every worker, found by id in the names). A
worker's pool (:meth:`Pool.share <vigil.balancer.pool.Pool.share>`) calls :class:`SharedInFlight`
on each ``acquire`` / ``release``: :meth:`~SharedInFlight.refresh` sets each candidate's
``in_flight`` to the sum of its column just before the policy picks, and
:meth:`~SharedInFlight.started` / :meth:`~SharedInFlight.finished` store this worker's own count
in its row. A single-process pool has no such object and pays nothing.

No locks, because every cell has one writer: worker ``w`` alone stores into row ``w`` (the
parent only zeroes the row of a worker that has exited, :meth:`SharedBlock.zero
<vigil.balancer._proxy_shared.SharedBlock.zero>`), and it stores its absolute count, never an
increment, so a reader never has to combine partial updates and a late read is only stale, and
corrected by the next store. A store is one aligned 8-byte write: a ``memoryview`` of format
``q`` packs an item with a ``memcpy`` of ``sizeof(long long)`` into an 8-aligned address (the
counts start on an 8-byte boundary of a page-aligned mapping), which compilers emit as a single
``mov`` / ``str``, and aligned 8-byte accesses are single-copy atomic on x86-64 (Intel SDM vol. 3
8.1.1) and on AArch64 (Arm ARM B2.2.1), the platforms Vigil runs on: a reader sees the old or the
new count, never a mix. No ordering between cells is needed (each is a separate hint).

Upstreams missing from the names (added to a worker's pool without a slot) are counted locally
only, as before; :meth:`SharedInFlight.slot` re-reads the names once on a miss, so one added
later through the health channel (:meth:`Workers.apply <vigil.balancer.proxy.Workers.apply>`
assigns its slot before the worker hears of it) is found. Compiled with mypyc (setup.py).
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


def block_size(workers: int, capacity: int) -> int:
    """Bytes of a block for ``workers`` rows of ``capacity`` slots."""
    return counts_offset(capacity) + workers * capacity * 8


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
    """One worker's view of the shared counts: its row to write, every row to read.

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
        start = counts_offset(capacity)
        self._buffer = buffer
        self._counts = buffer[start : start + workers * capacity * 8].cast("q")
        self.worker = worker
        self.workers = workers
        self.capacity = capacity
        self._row = worker * capacity
        self._end = workers * capacity
        self._own: list[int] = [0] * capacity
        self._slots: dict[str, int] = read_names(buffer, capacity)

    def slot(self, upstream_id: str) -> int:
        """The slot of ``upstream_id`` (-1: none assigned; it is counted locally only)."""
        slot = self._slots.get(upstream_id, -1)
        if slot < 0:
            self._slots = read_names(self._buffer, self.capacity)
            slot = self._slots.get(upstream_id, -1)
        return slot

    def refresh(self, upstreams: list[Upstream]) -> None:
        """Set each upstream's ``in_flight`` to the sum over the workers (before a pick)."""
        counts = self._counts
        step = self.capacity
        end = self._end
        slots = self._slots
        for upstream in upstreams:
            slot = slots.get(upstream.id, -1)
            if slot >= 0:
                total = 0
                while slot < end:
                    total += counts[slot]
                    slot += step
                upstream.in_flight = total

    def total(self, slot: int) -> int:
        """Requests in flight on ``slot`` over every worker."""
        counts = self._counts
        total = 0
        while slot < self._end:
            total += counts[slot]
            slot += self.capacity
        return total

    def own(self, upstream: Upstream) -> int:
        """This worker's requests in flight on ``upstream`` (its ``in_flight`` if unslotted)."""
        slot = self._slots.get(upstream.id, -1)
        return self._own[slot] if slot >= 0 else upstream.in_flight

    def started(self, upstream: Upstream) -> None:
        """This worker sent one more request to ``upstream`` (the pool counted it already)."""
        slot = self._slots.get(upstream.id, -1)
        if slot >= 0:
            own = self._own[slot] + 1
            self._own[slot] = own
            self._counts[self._row + slot] = own

    def finished(self, upstream: Upstream) -> None:
        """One of this worker's requests to ``upstream`` ended; re-read its global count."""
        slot = self._slots.get(upstream.id, -1)
        if slot >= 0:
            own = self._own[slot] - 1
            if own < 0:
                own = 0
            self._own[slot] = own
            self._counts[self._row + slot] = own
            upstream.in_flight = self.total(slot)

    def close(self) -> None:
        """Release the views into the buffer (so the shared memory can be closed)."""
        self._counts.release()
