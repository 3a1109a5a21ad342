"""Run the proxy in several processes that share one listening port (``SO_REUSEPORT``, or one
listening socket under exact balance).

One Python process saturates one core; a second worker process doubles the data plane's
capacity. The kernel spreads new connections over the workers' listening sockets; with
``balance="exact"`` the parent binds one socket that every worker watches and the workers keep
their connection counts even (:mod:`vigil.balancer._proxy_balance`). Each worker
builds its own :class:`~vigil.balancer.proxy.Proxy` (and so its own router state and metrics)
from a picklable factory, under uvloop when it is installed. The parent first binds a
placeholder socket (not listening) so that port 0 resolves to one port for every worker.
Each worker also listens for pool changes from the parent (:meth:`Workers.apply`, the health
channel of :mod:`vigil.balancer._proxy_channel`), so drains, ejections by the operator, health
verdicts and weights made in the process that owns the configuration reach every worker.
Once listening, a worker settles its garbage collector (:func:`settle_gc`): what it imported and
built is frozen, and the young generation is collected ten times less often.
Given the upstreams (``share=``), :meth:`Workers.launch` also creates a shared-memory block of
in-flight counts (:mod:`vigil.balancer._proxy_shared`) that every worker's pool attaches to
(:meth:`Pool.share <vigil.balancer.pool.Pool.share>`), so each worker's policy reads the count
over all workers, and p2c_ewma decides on what every worker's answers taught
(:mod:`vigil.balancer._pool_learned`); a watcher thread zeroes the row of a worker that exits,
and :meth:`Workers.stop` removes the block. With one worker there is no block.
Used by :mod:`vigil.daemon._balancer_workers` (``balancer.workers`` above 1 in vigil.yaml) and
``bench/balance_overhead.py``.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.shared_memory import SharedMemory
from typing import TYPE_CHECKING, Final

from vigil.balancer._pool_shared import SharedInFlight
from vigil.balancer._proxy_balance import (
    BALANCES,
    ConnectionShare,
    ConnectionTable,
    listen_shared,
)
from vigil.balancer._proxy_channel import PoolUpdate, listen
from vigil.balancer._proxy_shared import DEFAULT_SLOTS, SharedBlock, attach
from vigil.errors import InputError

if TYPE_CHECKING:
    from vigil.balancer.proxy import Proxy

ProxyFactory = Callable[[], "Proxy"]
# exact balance: the listening sockets, the connection table's name, the worker's row, workers
Seat = tuple[list[socket.socket], str, int, int]
# the listening sockets' backlog under exact balance (the parent listens before any worker;
# a worker's Proxy.start listens again with its settings' backlog)
BACKLOG: Final = 1024

# A worker's young-generation threshold (CPython's default: 700). A new client connection
# allocates dozens of container objects, and a burst of 200 new streams holds 200 of each at once:
# at 700 such a burst ran ~5 young collections per 200 streams, each walking every live one:
# ~10,000 instructions per stream, 10 % of a stream's set-up to its end (bench/stream_setup.py;
# docs/benchmarks.md "First event of a stream" and "CPU per new stream (branch sse3)": a closed
# connection no longer waits for the collector, it is freed by reference counting, but the
# collections during a burst remain). At 7,000 they are ten times rarer.
GC_YOUNG_THRESHOLD: Final = 7000


def settle_gc() -> None:
    """Freeze what the process holds now (modules, the proxy's state: never scanned again)
    and raise the young generation's threshold to :data:`GC_YOUNG_THRESHOLD`. Called by a
    worker process once its proxy listens, and by the controller once its in-process proxies
    listen (:meth:`vigil.daemon._balancing.Balancers.start`): there, with a new connection per
    request, the collector took 21-26 % of the process's CPU at CPython's defaults, 7.2-8.0 %
    settled (its heap, ~135,000 tracked objects, was scanned by every full collection)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


class Workers:
    """Worker processes serving one port; :meth:`launch` them, :meth:`stop` them."""

    def __init__(self, processes: list[BaseProcess], port: int) -> None:
        self.processes = processes
        self.port = port
        # per worker: (updates to it, its acknowledgements); see vigil.balancer._proxy_channel
        self.channels: list[tuple[Connection, Connection]] = []
        self._sequence = 0
        self.shared: SharedBlock | None = None  # the workers' shared in-flight counts
        self._watcher: threading.Thread | None = None
        self.table: ConnectionTable | None = None  # the workers' connection counts (exact)

    def apply(self, update: PoolUpdate, timeout: float = 10.0) -> None:
        """Apply ``update`` to every worker's pool; return once all have applied it. Blocking
        (call it with ``asyncio.to_thread`` from a loop). Raises :class:`~vigil.errors.InputError`
        when a worker refused it (unknown upstream...), ``RuntimeError`` when one did not answer."""
        if update.address is not None and self.shared is not None:
            self.shared.assign(update.upstream)  # its slot exists before a worker looks it up
        self._sequence += 1
        sequence = self._sequence
        for to_worker, _ in self.channels:
            to_worker.send((sequence, update))
        errors = []
        for i, (_, acks) in enumerate(self.channels):
            while True:
                if not acks.poll(timeout):
                    raise RuntimeError(f"proxy worker {i} did not apply {update} within {timeout}s")
                answer, error = acks.recv()
                if answer == sequence:
                    break  # older answers belong to updates that timed out
            if error is not None:
                errors.append(f"worker {i}: {error}")
        if errors:
            raise InputError(f"pool update {update} refused: {'; '.join(errors)}")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    @classmethod
    def launch(
        cls,
        factory: ProxyFactory,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        workers: int = 2,
        grace: float = 5.0,
        timeout: float = 20.0,
        share: Iterable[str] | None = None,
        slots: int = DEFAULT_SLOTS,
        learned: bool = True,
        balance: str = "kernel",
    ) -> Workers:
        """Start ``workers`` processes listening on ``host:port``; return once all listen.

        ``factory`` must be picklable (a module-level function or a ``functools.partial`` of
        one): the workers are spawned, not forked, so no event loop state leaks into them.
        ``share``: the ids of the upstreams the factory's pool holds; with more than one worker
        the workers then share their in-flight counts (the factory's router must be a
        :class:`~vigil.balancer.pool.Pool`), for up to ``slots`` upstreams (InputError naming
        ``balancer.upstreams`` beyond), and with ``learned`` (the default) what their p2c_ewma
        has learned too (:mod:`vigil.balancer._pool_learned`; off: counts only, as before, for
        bench/balance_faults.py's comparison).
        ``balance``: how the workers share connections: ``exact`` (one listening socket bound
        here and a table of counts, :mod:`vigil.balancer._proxy_balance`) or ``kernel``
        (``SO_REUSEPORT``: the kernel hashes connections onto the workers' own sockets).
        """
        if balance not in BALANCES:
            raise ValueError(f"balance must be one of {', '.join(BALANCES)} (got {balance!r})")
        shared = SharedBlock(workers, share, slots) if share is not None and workers > 1 else None
        exact = balance == "exact" and workers > 1
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        placeholder = socket.socket(family, socket.SOCK_STREAM)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        group = cls([], 0)
        group.shared = shared
        listening: list[socket.socket] = []
        try:
            if exact:  # the workers' one set of sockets (the placeholder is not needed)
                group.table = ConnectionTable(workers)
                listening = listen_shared(host, port, BACKLOG)
                group.port = port = listening[0].getsockname()[1]
            else:
                placeholder.bind((host, port))
                group.port = port = placeholder.getsockname()[1]
            ctx = multiprocessing.get_context("spawn")
            for i in range(workers):
                parent, child = ctx.Pipe(duplex=False)
                updates_in, updates_out = ctx.Pipe(duplex=False)
                group.channels.append((updates_out, parent))
                process = ctx.Process(
                    target=_worker_main,
                    args=(
                        factory,
                        host,
                        port,
                        grace,
                        child,
                        updates_in,
                        _row(shared, i, learned),
                        _seat(group.table, listening, i),
                    ),
                    name=f"vigil-proxy-{i}",
                    daemon=True,
                )
                process.start()
                child.close()
                updates_in.close()
                group.processes.append(process)
                if not parent.poll(timeout):
                    raise RuntimeError(f"proxy worker {i} did not start within {timeout}s")
                try:
                    answer = parent.recv()
                except EOFError:
                    answer = f"exited with code {process.exitcode}"
                if not isinstance(answer, int):
                    raise RuntimeError(f"proxy worker {i} failed: {answer}")
            if shared is not None:
                group._watcher = threading.Thread(
                    target=group._watch, name="vigil-proxy-watch", daemon=True
                )
                group._watcher.start()
        except BaseException:
            group.stop(0.0)
            raise
        finally:
            placeholder.close()
            for sock in listening:  # the workers hold their own copies
                sock.close()
        return group

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every worker (each drains for ``grace``), then SIGKILL the stragglers."""
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.join(grace + 5.0)
            if process.is_alive():
                process.kill()
                process.join()
        if self._watcher is not None:
            self._watcher.join()
        if self.shared is not None:
            self.shared.unlink()
        if self.table is not None:
            self.table.unlink()

    def _watch(self) -> None:
        """Zero the shared row of each worker as it exits (its requests are gone with it)."""
        shared = self.shared
        assert shared is not None
        rows = {p.sentinel: i for i, p in enumerate(self.processes)}
        while rows:
            for sentinel in wait(list(rows)):
                if isinstance(sentinel, int):
                    shared.zero(rows.pop(sentinel))

    def alive(self) -> bool:
        return all(p.is_alive() for p in self.processes)


def serve_workers(
    factory: ProxyFactory,
    host: str,
    port: int,
    *,
    workers: int = 2,
    grace: float = 5.0,
    share: Iterable[str] | None = None,
) -> int:
    """Run ``workers`` proxy processes on ``host:port`` until SIGTERM / SIGINT (or a worker
    dies); blocking, for the main thread of ``vigil balance``. Returns an exit status.
    ``share``: as for :meth:`Workers.launch` (the upstream ids, to share in-flight counts)."""
    group = Workers.launch(factory, host, port, workers=workers, grace=grace, share=share)
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        while not stop.wait(0.5):
            if not group.alive():
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        crashed = not group.alive()
        group.stop(grace)
    return 1 if crashed and not stop.is_set() else 0


def _row(shared: SharedBlock | None, worker: int, learned: bool) -> tuple[str, int, bool] | None:
    return None if shared is None else (shared.name, worker, learned)


def _seat(table: ConnectionTable | None, socks: list[socket.socket], worker: int) -> Seat | None:
    return None if table is None else (socks, table.name, worker, table.workers)


def _worker_main(
    factory: ProxyFactory,
    host: str,
    port: int,
    grace: float,
    conn: Connection,
    updates: Connection,
    shared: tuple[str, int, bool] | None = None,
    seat: Seat | None = None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; SIGTERM stops us
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.Runner()
    with runner:
        runner.run(_serve(factory, host, port, grace, conn, updates, shared, seat))


async def _serve(
    factory: ProxyFactory,
    host: str,
    port: int,
    grace: float,
    conn: Connection,
    updates: Connection,
    shared: tuple[str, int, bool] | None,
    seat: Seat | None,
) -> None:
    memory: SharedMemory | None = None
    counts: SharedInFlight | None = None
    balance: ConnectionShare | None = None
    try:
        try:
            proxy = factory()
            if shared is not None:
                name, row, learned = shared
                memory, counts = attach(name, row)
                share = getattr(proxy.router, "share", None)
                if share is None:
                    raise TypeError(
                        f"the worker's router ({type(proxy.router).__name__}) cannot share "
                        "in-flight counts: build the worker's Proxy over a vigil.balancer.pool.Pool"
                    )
                if learned:
                    share(counts)
                else:
                    share(counts, frozenset())
            if seat is None:
                bound = await proxy.start(host, port, reuse_port=True)
            else:
                socks, table, row, workers = seat
                balance = ConnectionShare(table, row, workers)
                bound = await proxy.start(sock=socks, balance=balance)
        except Exception as exc:
            conn.send(f"{type(exc).__name__}: {exc}")
            return
        settle_gc()
        conn.send(bound)
        loop = asyncio.get_running_loop()
        listen(loop, updates, conn, proxy.router, proxy.clock)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await proxy.stop(grace)
    finally:
        if balance is not None:
            balance.close()
        if counts is not None:
            counts.close()
        if memory is not None:
            memory.close()  # the parent unlinks it
