"""The shared-memory block behind the workers' shared in-flight counts: created, given slots and
removed by the parent, attached by each worker; it also holds what each worker's p2c_ewma has
learned (:mod:`vigil.balancer._pool_learned`).

:class:`~vigil.balancer._proxy_workers.Workers` creates a :class:`SharedBlock` in ``launch`` when
it runs more than one worker and is given the upstreams (``share=``), passes its name to every
worker, which attaches with :func:`attach` and hands the result to its pool
(:meth:`Pool.share <vigil.balancer.pool.Pool.share>`); the layout and the lock-free reading and
writing are in :mod:`vigil.balancer._pool_shared`. The parent alone writes the names (a slot per
upstream, in the order given, later ones through :meth:`SharedBlock.assign` before a worker hears
of them) and zeroes the row of a worker that exited (:meth:`SharedBlock.zero`, from the watcher
thread of :class:`Workers`), so a crashed worker's requests do not stay counted; ``unlink`` at
stop removes the block (``/dev/shm``). If the parent itself is killed, multiprocessing's resource
tracker (shared with the spawned workers) unlinks it when the last of them exits.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from multiprocessing.shared_memory import SharedMemory

from vigil.balancer._pool_shared import (
    LEARNED_CELLS,
    NAME_BYTES,
    TABLES,
    SharedInFlight,
    block_size,
    counts_offset,
    format_block,
    learned_offset,
    write_name,
)
from vigil.errors import InputError

DEFAULT_SLOTS = 128
"""Upstreams one balancer's workers can share counts for (a block of 8 KiB of names plus 15 KiB
per worker); more is refused at launch with an error naming ``balancer.upstreams``."""


class SharedBlock:
    """The parent's handle on the block: slots by upstream id, rows to zero, unlink at stop."""

    def __init__(self, workers: int, upstreams: Iterable[str], capacity: int = DEFAULT_SLOTS):
        ids = list(dict.fromkeys(upstreams))
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1 (got {capacity})")
        if len(ids) > capacity:
            raise InputError(
                f"balancer.upstreams: {len(ids)} upstreams, but the workers share in-flight "
                f"counts for at most {capacity}; run fewer replicas behind this balancer, "
                "or set balancer.workers to 1"
            )
        for upstream_id in ids:
            _check_id(upstream_id)
        self.workers = workers
        self.capacity = capacity
        self._lock = threading.Lock()  # the watcher thread zeroes rows while apply() assigns
        self.memory = SharedMemory(create=True, size=block_size(workers, capacity))
        buf = _buffer(self.memory)
        format_block(buf, workers, capacity)
        start = counts_offset(capacity)
        table = workers * capacity * 8
        self._counts = buf[start : start + table].cast("q")
        self._times = buf[start + table : start + TABLES * table].cast("d")  # oldest, answered
        learned = learned_offset(workers, capacity)
        self._learned = buf[learned : learned + workers * capacity * LEARNED_CELLS * 8].cast("d")
        self.slots: dict[str, int] = {}
        self._closed = False
        for upstream_id in ids:
            self.assign(upstream_id)

    @property
    def name(self) -> str:
        return self.memory.name

    def assign(self, upstream_id: str) -> int:
        """The slot of ``upstream_id``, given the next free one if it has none (InputError
        naming ``balancer.upstreams`` when all are taken)."""
        with self._lock:
            slot = self.slots.get(upstream_id)
            if slot is not None:
                return slot
            _check_id(upstream_id)
            if len(self.slots) >= self.capacity:
                raise InputError(
                    f"balancer.upstreams: upstream {upstream_id!r} would be number "
                    f"{len(self.slots) + 1}, but the workers share in-flight counts for at most "
                    f"{self.capacity}; remove replicas first, or set balancer.workers to 1"
                )
            slot = len(self.slots)
            write_name(_buffer(self.memory), slot, upstream_id)
            self.slots[upstream_id] = slot
            return slot

    def row(self, worker: int) -> list[int]:
        """The counts worker ``worker`` has published, by slot (tests, diagnostics)."""
        start = worker * self.capacity
        return [int(self._counts[start + s]) for s in range(len(self.slots))]

    def zero(self, worker: int) -> None:
        """Forget the requests of worker ``worker``, which has exited (its row's only writer)."""
        with self._lock:
            if self._closed:
                return
            start = worker * self.capacity
            for slot in range(self.capacity):
                self._counts[start + slot] = 0
            for table in range(TABLES - 1):
                start = (table * self.workers + worker) * self.capacity
                for slot in range(self.capacity):
                    self._times[start + slot] = 0.0
            start = worker * self.capacity * LEARNED_CELLS  # its p2c models: weights 0, ignored
            for cell in range(self.capacity * LEARNED_CELLS):
                self._learned[start + cell] = 0.0

    def learned(self, worker: int, upstream_id: str) -> list[float]:
        """The p2c model row worker ``worker`` has published for ``upstream_id``, its sequence
        number first (tests, diagnostics)."""
        start = (worker * self.capacity + self.slots[upstream_id]) * LEARNED_CELLS
        return [float(self._learned[start + c]) for c in range(LEARNED_CELLS)]

    def unlink(self) -> None:
        """Close and remove the block (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._counts.release()
            self._times.release()
            self._learned.release()
            self.memory.close()
            with contextlib.suppress(FileNotFoundError):  # removed by someone else
                self.memory.unlink()


def attach(name: str, worker: int) -> tuple[SharedMemory, SharedInFlight]:
    """A worker's handle on the block ``name`` (keep the SharedMemory alive with it)."""
    memory = SharedMemory(name=name)
    return memory, SharedInFlight(_buffer(memory), worker)


def _buffer(memory: SharedMemory) -> memoryview:
    buf = memory.buf
    if buf is None:  # pragma: no cover - only after close()
        raise ValueError(f"shared memory {memory.name} is closed")
    return buf


def _check_id(upstream_id: str) -> None:
    raw = upstream_id.encode("utf-8")
    if not raw or len(raw) > NAME_BYTES or b"\0" in raw:
        raise InputError(
            f"balancer.upstreams: upstream id {upstream_id!r} must be 1 to {NAME_BYTES} bytes "
            "of UTF-8 without NUL to share in-flight counts between workers"
        )
