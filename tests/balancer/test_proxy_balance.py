"""Exact connection balance across worker processes (vigil.balancer._proxy_balance): real
worker processes, one shared listening socket, real client connections; the split is read
from the kernel (psutil: each worker's established sockets on the port), not from the table."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
from collections.abc import AsyncIterator

import psutil
import pytest

from vigil.balancer._proxy_balance import (
    STALE,
    BalancedListener,
    ConnectionShare,
    admits,
    allowance,
    queued,
    quota,
)
from vigil.balancer.proxy import Workers

from ._routers import make_worker_proxy
from ._upstreams import fixed, read_response, serving

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def ns(seconds: float) -> int:
    """Seconds in the table's unit (its beats are ``time.monotonic_ns()``)."""
    return round(seconds * 1_000_000_000)


def table(*rows: tuple[int, float]) -> list[int]:
    """The table's cells: a count and a beat (given in seconds) per worker."""
    return [cell for count, beat in rows for cell in (count, ns(beat))]


def test_a_worker_admits_while_it_holds_no_more_than_every_live_sibling() -> None:
    cells = table((0, 10.0), (3, 10.0), (2, 10.0))
    assert admits(2, 0, cells, 3, ns(10.5), ns(1.0))  # 2 <= 2 and 2 <= 3
    assert not admits(3, 0, cells, 3, ns(10.5), ns(1.0))  # worker 2 holds 2
    assert admits(3, 1, cells, 3, ns(10.5), ns(1.0)) is False  # worker 0 holds 0
    assert admits(0, 0, cells, 3, ns(10.5), ns(1.0))


def test_a_silent_sibling_no_longer_limits_the_others() -> None:
    cells = table((5, 10.0), (0, 8.0))  # worker 1 last beat 2.5 s ago
    assert admits(5, 0, cells, 2, ns(10.5), ns(1.0))
    assert admits(500, 0, cells, 2, ns(10.5), ns(1.0))  # the only live worker takes everything
    assert not admits(5, 0, cells, 2, ns(8.5), ns(1.0))  # while it beat, it limited worker 0
    assert not admits(1, 0, table((1, 0.0), (0, 8.0)), 2, ns(8.5), ns(1.0))


def test_a_worker_takes_its_even_share_of_the_queue_in_one_batch() -> None:
    cells = table((0, 10.0), (0, 10.0))
    assert quota(0, 1000, 0, cells, 2, ns(10.5), ns(1.0)) == 500  # a burst: half of it at once
    assert quota(0, 51, 0, cells, 2, ns(10.5), ns(1.0)) == 26  # rounded up
    cells = table((26, 10.0), (0, 10.0))
    assert quota(0, 25, 1, cells, 2, ns(10.5), ns(1.0)) == 13  # half the queue at once, then turns
    # a sibling's stale count (connections closed, not yet seen closed) never buys more than
    # half the queue: before, 25 stale connections let a worker take 38 of 50
    assert quota(0, 50, 0, table((0, 10.0), (25, 10.0)), 2, ns(10.5), ns(1.0)) == 25
    assert quota(26, 0, 0, table((26, 10.0), (20, 10.0)), 2, ns(10.5), ns(1.0)) == -3  # over: none
    assert quota(0, 40, 0, table((0, 10.0), (9, 7.0)), 2, ns(10.5), ns(1.0)) == 40  # sibling silent


def test_the_accept_queue_is_read_from_the_listening_socket() -> None:
    import socket
    import time

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(64)
        assert queued(listening) == 0
        clients = [socket.create_connection(listening.getsockname()) for _ in range(5)]
        for _ in range(100):
            if queued(listening) == 5:
                break
            time.sleep(0.01)
        assert queued(listening) == 5
        listening.accept()[0].close()
        assert queued(listening) == 4
        for c in clients:
            c.close()


def split(workers: Workers) -> list[int]:
    """Established client connections on the proxy's port, per worker (from the kernel)."""
    counts = []
    for pid in workers.pids:
        conns = psutil.Process(pid).net_connections(kind="tcp")
        counts.append(
            sum(
                1
                for c in conns
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == workers.port
            )
        )
    return counts


@contextlib.asynccontextmanager
async def two_workers(backend: int, balance: str = "exact") -> AsyncIterator[Workers]:
    factory = functools.partial(make_worker_proxy, backend)
    workers = await asyncio.to_thread(
        Workers.launch, factory, "127.0.0.1", 0, workers=2, balance=balance
    )
    try:
        yield workers
    finally:
        for pid in workers.pids:  # a stopped worker must hear SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        await asyncio.to_thread(workers.stop, 1.0)


async def until(condition, what: str, limit: float = 20.0) -> None:
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def open_all(
    port: int, count: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """``count`` connections opened at once (every connect in flight together)."""
    return list(
        await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(count)))
    )


async def ask(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> bytes:
    reader, writer = conn
    writer.write(GET)
    return (await read_response(reader)).body


def close_all(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    for _, writer in conns:
        writer.close()


@pytest.mark.slow
@pytest.mark.parametrize("count", [50, 51])
async def test_connections_opened_at_once_split_within_one(count: int) -> None:
    async with serving(fixed(b"ok")) as (up,), two_workers(up.port) as workers:
        conns = await open_all(workers.port, count)
        try:
            # every connection accepted and served (a connection in the queue would hang here)
            assert (
                await asyncio.wait_for(asyncio.gather(*(ask(c) for c in conns)), 20)
                == [b"ok"] * count
            )
            await until(lambda: sum(split(workers)) == count, f"{count} connections established")
            low, high = sorted(split(workers))
            assert high - low <= 1, (low, high)
            assert workers.table is not None
            await until(
                lambda: sorted(workers.table.counts()) == [low, high],
                f"published counts {workers.table.counts()} vs {low, high}",
            )
        finally:
            close_all(conns)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGSTOP, signal.SIGKILL])
async def test_a_stopped_or_dead_sibling_cannot_starve_accepts(how: signal.Signals) -> None:
    async with serving(fixed(b"ok")) as (up,), two_workers(up.port) as workers:
        victim = workers.processes[1]
        assert victim.pid is not None
        os.kill(victim.pid, how)
        loop = asyncio.get_running_loop()
        started = loop.time()
        conns = await open_all(workers.port, 20)
        try:
            bodies = await asyncio.wait_for(asyncio.gather(*(ask(c) for c in conns)), 20)
            waited = loop.time() - started
            assert bodies == [b"ok"] * 20
            assert split(workers)[0] == 20  # the live worker holds every one
            assert waited < 10 * STALE  # the timer, not a lucky kernel, let them in
        finally:
            close_all(conns)


@pytest.mark.slow
async def test_a_stopped_sibling_under_kernel_balance_strands_its_share() -> None:
    """The contrast: with SO_REUSEPORT the kernel queues a share of new connections on the
    stopped worker's own socket, where nobody accepts them."""
    async with serving(fixed(b"ok")) as (up,), two_workers(up.port, "kernel") as workers:
        victim = workers.processes[1]
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGSTOP)
        conns = await open_all(workers.port, 20)
        try:
            _, pending = await asyncio.wait(
                [asyncio.ensure_future(ask(c)) for c in conns], timeout=3
            )
            assert pending  # 20 connections hashed onto one socket: 1 in 2**20
            for task in pending:
                task.cancel()
        finally:
            close_all(conns)


@pytest.mark.slow
async def test_a_burst_of_a_thousand_connections_is_all_served() -> None:
    async with serving(fixed(b"ok")) as (up,), two_workers(up.port) as workers:
        conns = await open_all(workers.port, 1000)
        try:
            bodies = await asyncio.wait_for(asyncio.gather(*(ask(c) for c in conns)), 60)
            assert bodies == [b"ok"] * 1000
            low, high = sorted(split(workers))
            assert low + high == 1000
            assert high - low <= 2, (low, high)  # each accepted the rest within its share
        finally:
            close_all(conns)


class CountingSocket(socket.socket):
    """A listening socket that counts the accepts tried on it and those that found none (the
    listener's C accept under uvloop and ``accept()`` elsewhere both call ``_accept``)."""

    tries = 0
    empty = 0

    def _accept(self) -> tuple[int, object]:  # type: ignore[override]
        self.tries += 1
        try:
            return super()._accept()  # type: ignore[misc]
        except BlockingIOError:
            self.empty += 1
            raise


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_a_wake_up_accepts_what_the_queue_holds_and_tries_no_accept_that_finds_none(
    loop_kind: str,
) -> None:
    """The queue's length bounds the batch: 5 queued connections, 5 accepts, none failing (the
    plain listener's 6th accept() raises EAGAIN); a wake-up that finds the queue emptied by a
    sibling tries none."""
    import uvloop

    from vigil.balancer._proxy_balance import ConnectionTable, listen_shared

    loop = uvloop.new_event_loop() if loop_kind == "uvloop" else asyncio.new_event_loop()
    table = ConnectionTable(2)  # worker 1 never beats: worker 0 may take everything
    share = ConnectionShare(table.name, 0, 2)
    [shared] = listen_shared("127.0.0.1", 0, 64)
    sock = CountingSocket(shared.family, shared.type, shared.proto, shared.detach())
    made: list[object] = []

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(transport)

    try:
        listener = BalancedListener(loop, sock, lambda peer: Proto(), share=share)
        loop.remove_reader(sock.fileno())  # wake-ups driven by hand below
        clients = [socket.create_connection(sock.getsockname()) for _ in range(5)]
        for _ in range(200):
            if queued(sock) == 5:
                break
            loop.run_until_complete(asyncio.sleep(0.005))
        listener._accept()
        loop.run_until_complete(asyncio.sleep(0.01))
        assert (sock.tries, sock.empty, len(made)) == (5, 0, 5)
        listener._accept()  # queue empty (as after a sibling's batch): no accept tried
        assert (sock.tries, sock.empty) == (5, 0)
        listener.close()
        for c in clients:
            c.close()
        for t in made:
            t.close()  # type: ignore[attr-defined]
        loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        share.close()
        table.unlink()
        loop.close()


_OUT_OF_DESCRIPTORS = """
import asyncio, logging, resource, socket, sys
import uvloop
from vigil.balancer._proxy_balance import ConnectionShare, ConnectionTable, listen_shared
from vigil.balancer.proxy import Proxy

async def main():
    table = ConnectionTable(2)  # worker 1 never beats: this one takes everything
    share = ConnectionShare(table.name, 0, 2)
    proxy = Proxy(lambda request: None)  # every request: 404, no upstream needed
    port = await proxy.start(sock=listen_shared("127.0.0.1", 0, 64), balance=share)
    clients = [socket.socket() for _ in range(12)]  # descriptors taken before the limit drops
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(c.fileno() for c in clients) + 4, hard))
    for c in clients:
        c.connect(("127.0.0.1", port))  # the kernel queues them; accept() runs out of descriptors
    for _ in range(5):
        await asyncio.sleep(0)
    starved = sum(listener.accepted for listener in proxy._listeners)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    loop = asyncio.get_running_loop()
    statuses = []
    for c in clients:
        c.setblocking(False)
        await loop.sock_sendall(c, b"GET / HTTP/1.1\\r\\nHost: s\\r\\n\\r\\n")
        statuses.append((await asyncio.wait_for(loop.sock_recv(c, 4096), 10))[:12])
        c.close()
    await proxy.stop(0.5)
    share.close()
    table.unlink()
    print(starved, sorted(set(statuses)))

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stdout)
uvloop.run(main())
"""


def test_a_balanced_listener_pauses_when_out_of_descriptors_then_serves_the_queue() -> None:
    """As the plain listener (test_proxy_pool.py): in a subprocess (the limit is per process),
    accept() fails with EMFILE, the listener warns and pauses, then serves every queued one."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _OUT_OF_DESCRIPTORS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("cannot accept connections" in line and "ulimit -n" in line for line in lines)
    starved, _, statuses = lines[-1].partition(" ")
    assert int(starved) < 12  # it did run out
    assert statuses == "[b'HTTP/1.1 404']"


def reference_batch(
    own: int, waiting: int, worker: int, cells: list[int], workers: int, now: int, batch: int
) -> int:
    """The listener's former loop, one connection at a time: its quota, then while admits."""
    take = quota(own, waiting, worker, cells, workers, now, ns(1.0))
    taken = 0
    for _ in range(min(waiting, batch)):
        if take > 0:
            take -= 1
        elif not admits(own + taken, worker, cells, workers, now, ns(1.0)):
            break
        taken += 1
    return taken


def test_the_batch_of_a_wake_up_is_what_taking_them_one_at_a_time_would_take() -> None:
    import random

    rng = random.Random(3)
    for _ in range(20_000):
        workers = rng.randint(2, 4)
        worker = rng.randrange(workers)
        cells = [
            cell
            for _ in range(workers)
            for cell in (rng.randint(0, 40), ns(rng.choice((10.0, 9.8, 8.0))))
        ]
        own, waiting, batch = rng.randint(0, 40), rng.randint(1, 80), rng.choice((1, 8, 32))
        expected = reference_batch(own, waiting, worker, cells, workers, ns(10.5), batch)
        got = allowance(own, waiting, worker, cells, workers, ns(10.5), ns(1.0), batch)
        assert got == expected, (own, waiting, worker, cells, batch)


async def test_a_closed_connection_is_published_at_once() -> None:
    """A client connection that closes stores the worker's count in the shared table from the
    close path (branch exact4), so a sibling sees the count fall without waiting for a beat:
    the beat is cancelled here, and no accept follows, so nothing else could publish it."""
    from vigil.balancer._proxy_balance import ConnectionTable, listen_shared
    from vigil.balancer.proxy import Proxy

    table = ConnectionTable(2)
    share = ConnectionShare(table.name, 0, 2)
    sibling = ConnectionShare(table.name, 1, 2)  # worker 1's view of the same table
    proxy = Proxy(lambda request: None)  # every request: 404, no upstream needed
    state = None
    try:
        port = await proxy.start(sock=listen_shared("127.0.0.1", 0, 64), balance=share)
        assert share._beater is not None
        share._beater.cancel()  # no beat from now on: only the close path can publish
        conns = await open_all(port, 3)
        state = proxy._state
        assert state is not None
        await until(lambda: len(state.clients) == 3, "3 connections made")
        # the batch was counted when it was accepted
        assert sibling.cells[0] == 3
        _, writer = conns.pop()
        writer.close()
        await until(lambda: len(state.clients) == 2, "the proxy saw the connection close")
        assert sibling.cells[0] == 2  # at once, no beat in between
        close_all(conns)
        await until(lambda: len(state.clients) == 0, "the proxy saw the others close")
        assert sibling.cells[0] == 0
    finally:
        await proxy.stop(0.5)
        share.close()
        assert state is None or state.published is None  # later closes publish nothing
        sibling.close()
        table.unlink()
