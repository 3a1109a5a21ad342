"""Worker processes of one balancer share their in-flight counts through shared memory
(vigil.balancer._pool_shared, _proxy_shared): pools standing for workers in one process, then
real worker processes behind one port."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from vigil.balancer import Outcome, Pool, PoolSettings, Upstream
from vigil.balancer._pool_shared import SharedInFlight, local_block
from vigil.balancer._proxy_shared import DEFAULT_SLOTS, SharedBlock
from vigil.balancer._upstream import AdminState
from vigil.balancer.proxy import PoolUpdate, Workers
from vigil.errors import InputError

from ._routers import make_shared_worker_proxy, make_worker_proxy
from ._upstreams import Handler, Received, fixed, read_response, roundtrip, serving

GET = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"


def pools(workers: int, policy: str = "least_conn") -> list[Pool]:
    """``workers`` pools over upstreams a, b, c sharing one in-process block."""
    block = local_block(workers, ["a", "b", "c"])
    result = []
    for w in range(workers):
        pool = Pool(
            [Upstream(uid, "127.0.0.1", 1) for uid in "abc"],
            PoolSettings(policy=policy),
        )
        pool.share(SharedInFlight(block, w))
        result.append(pool)
    return result


def test_a_pool_reads_the_requests_other_workers_have_in_flight() -> None:
    first, second = pools(2)
    held = [first.acquire(0.0, exclude=frozenset({"c"})) for _ in range(4)]  # a, b twice each
    assert sorted(u.id for u in held if u is not None) == ["a", "a", "b", "b"]
    picks = []
    for i in range(30):  # least_conn in the second pool: c is the only idle upstream
        upstream = second.acquire(float(i))
        assert upstream is not None
        picks.append(upstream.id)
        assert upstream.in_flight == 1  # its own request, none of the first's
        second.release(upstream, float(i), outcome=Outcome.OK, latency=0.1)
    assert picks == ["c"] * 30
    assert {u.id: u.in_flight for u in second} == {"a": 2, "b": 2, "c": 0}
    for upstream in held:
        assert upstream is not None
        first.release(upstream, 1.0, outcome=Outcome.OK, latency=0.1)
    second.acquire(2.0)
    assert sum(u.in_flight for u in second) == 1  # the first's releases are seen


def test_without_sharing_the_same_pools_see_only_their_own_requests() -> None:
    """The counter-test of the one above: same picks, no shared block."""
    first, second = (Pool([Upstream(u, "h", 1) for u in "abc"]) for _ in range(2))
    for _ in range(4):
        first.acquire(0.0, exclude=frozenset({"c"}))
    picks = Counter()
    for i in range(60):
        upstream = second.acquire(float(i))
        assert upstream is not None
        picks[upstream.id] += 1
        second.release(upstream, float(i), outcome=Outcome.OK, latency=0.1)
    assert picks["a"] + picks["b"] > 0


def test_probation_and_drained_go_by_the_workers_own_requests() -> None:
    first, second = pools(2)
    for _ in range(3):
        first.acquire(0.0, exclude=frozenset({"b", "c"}))
    second.acquire(0.0)  # refreshes its view: a has 3 out, from the first
    assert second.get("a").in_flight == 3
    assert second.drained("a") and not first.drained("a")
    second.get("a").probation = True  # its trial request is not out: a stays eligible
    assert "a" in [u.id for u in second.eligible(1.0)]


def test_a_pool_reads_the_oldest_request_and_the_last_answer_of_every_worker() -> None:
    first, second = pools(2)
    held = first.acquire(1.0, exclude=frozenset({"b", "c"}))
    assert held is not None and held.id == "a"
    second.acquire(2.0, exclude=frozenset({"a"}))  # looks at every upstream but a
    a = second.get("a")
    assert a.oldest_pending is None and a.peers_answered_at is None  # a was not looked at
    second.acquire(2.5)
    assert (a.in_flight, a.oldest_pending, a.peers_answered_at) == (1, 1.0, 0.0)
    first.release(held, 3.0, outcome=Outcome.OK, latency=2.0)
    second.acquire(4.0, exclude=frozenset({"b", "c"}))
    assert a.peers_answered_at == 3.0 and a.oldest_pending == 4.0  # the second's own request
    assert a.in_flight == 1


def test_a_replica_silent_on_another_workers_request_is_charged_by_p2c() -> None:
    """p2c_ewma's silence test reads the oldest request out over every worker: a replica
    holding the first worker's request for 20 service times costs more in the second."""
    first, second = pools(2, policy="p2c_ewma")
    now = 0.0
    for _ in range(100):  # both learn every upstream: 0.1 s per request, one at a time
        for pool in (first, second):
            for uid in "abc":
                upstream = pool.acquire(now, exclude=frozenset("abc") - {uid})
                assert upstream is not None and upstream.id == uid
                now += 0.1
                pool.release(upstream, now, outcome=Outcome.OK, latency=0.1)
    stuck = now
    out = [first.acquire(stuck, exclude=frozenset({"b", "c"}))]  # a holds it: stalled
    now += 1.9
    out += [first.acquire(now, exclude=frozenset({"a", "c"}))]  # b and c: one each, just sent
    out += [first.acquire(now, exclude=frozenset({"a", "b"}))]
    assert [u.id for u in out if u is not None] == ["a", "b", "c"]
    picks = Counter()
    for _ in range(30):  # one request out on each; a silent for 2 s, the others just sent
        now += 0.001
        upstream = second.acquire(now)
        assert upstream is not None
        picks[upstream.id] += 1
        second.release(upstream, now + 0.0005, outcome=Outcome.OK, latency=0.1)
    assert picks["a"] == 0 and picks["b"] + picks["c"] == 30
    assert second.get("a").in_flight == 1


def test_an_upstream_without_a_slot_is_refused_when_the_pool_shares() -> None:
    block = local_block(2, ["a"])
    pool = Pool([Upstream("a", "h", 1), Upstream("z", "h", 2)])
    with pytest.raises(InputError, match=r"balancer.upstreams: 'z' have no slot"):
        pool.share(SharedInFlight(block, 0))


def test_too_many_upstreams_for_the_shared_block_name_balancer_upstreams() -> None:
    with pytest.raises(InputError, match=r"balancer.upstreams: 3 upstreams.*at most 2"):
        SharedBlock(2, ["a", "b", "c"], capacity=2)
    with pytest.raises(InputError, match=r"balancer.upstreams: 3 upstreams.*at most 2"):
        Workers.launch(make_worker_proxy, workers=2, share=["a", "b", "c"], slots=2)
    block = SharedBlock(2, ["a", "b"], capacity=2)
    try:
        assert block.assign("b") == 1  # already there: same slot
        with pytest.raises(InputError, match=r"balancer.upstreams: upstream 'c' would be"):
            block.assign("c")
        with pytest.raises(InputError, match=r"balancer.upstreams: upstream id 'x{65}'"):
            SharedBlock(2, ["x" * 65])
    finally:
        block.unlink()
    assert not in_dev_shm(block.name)


def in_dev_shm(name: str) -> bool:
    """Whether the shared-memory block ``name`` still exists."""
    return os.path.exists(f"/dev/shm/{name}")


def held(release: asyncio.Event) -> Handler:
    """Answers "from a" once ``release`` is set."""

    async def handle(req: Received, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfrom a")

    return handle


async def held_request(port: int) -> bytes:
    """One GET through the proxy, answered whenever the upstream answers (no time limit)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(GET)
        return (await read_response(reader)).body
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def shared_workers(
    ports: dict[str, int], slots: int = DEFAULT_SLOTS
) -> AsyncIterator[tuple[Workers, SharedBlock]]:
    """Two worker processes over upstreams ``ports`` (id -> port), sharing one block of their
    in-flight counts with ``slots`` slots; stopped on the way out."""
    factory = functools.partial(make_shared_worker_proxy, ports)
    workers = await asyncio.to_thread(
        Workers.launch, factory, "127.0.0.1", 0, workers=2, share=list(ports), slots=slots
    )
    assert workers.shared is not None
    try:
        yield workers, workers.shared
    finally:
        await asyncio.to_thread(workers.stop, 1.0)


async def until(condition, what: str, limit: float = 20.0) -> None:
    """Wait (polling) until ``condition()`` holds; fail naming ``what`` after ``limit`` s."""
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.slow
async def test_a_request_in_flight_in_one_worker_steers_the_other_workers_picks() -> None:
    release = asyncio.Event()
    async with (
        serving(held(release), fixed(b"from b")) as (a, b),
        shared_workers({"a": a.port, "b": b.port}) as (workers, shared),
    ):
        name = shared.name
        try:
            assert in_dev_shm(name)
            # two requests held on a by ONE worker (the kernel spreads connections at random:
            # try again until both land on the same worker)
            for attempt in range(1, 30):
                await asyncio.to_thread(workers.apply, PoolUpdate("b", state=AdminState.DRAINING))
                holds = [asyncio.ensure_future(held_request(workers.port)) for _ in range(2)]
                await until(lambda n=attempt: len(a.requests) == 2 * n, "both reached a")
                rows = [shared.row(0), shared.row(1)]
                if sorted(rows) == [[0, 0], [2, 0]]:
                    break
                assert sorted(rows) == [[1, 0], [1, 0]]
                release.set()
                assert await asyncio.gather(*holds) == [b"from a"] * 2
                await until(lambda: shared.row(0) == shared.row(1) == [0, 0], "counts back to 0")
                release.clear()
            else:
                raise AssertionError("the two held requests never landed on one worker")
            await asyncio.to_thread(workers.apply, PoolUpdate("b", state=AdminState.READY))
            # least_conn: the other worker sees a with 2 out and b with at most the one request
            # still being released, so sends to b, every time; seeing only its own requests, it
            # would pick a half the time (held there: no answer)
            bodies = [(await roundtrip(workers.port, GET)).body for _ in range(30)]
            assert b.connections >= 2  # both workers sent to b
            release.set()
            assert await asyncio.gather(*holds) == [b"from a"] * 2
            await until(lambda: shared.row(0) == shared.row(1) == [0, 0], "counts back to 0")
        finally:
            release.set()
    assert bodies == [b"from b"] * 30
    assert not in_dev_shm(name)  # removed at stop


@pytest.mark.slow
async def test_a_crashed_workers_requests_are_not_counted_forever() -> None:
    release = asyncio.Event()
    async with (
        serving(held(release), fixed(b"from b")) as (a, b),
        shared_workers({"a": a.port, "b": b.port}) as (workers, shared),
    ):
        try:
            await asyncio.to_thread(workers.apply, PoolUpdate("b", state=AdminState.DRAINING))
            hold = asyncio.ensure_future(held_request(workers.port))
            await until(lambda: len(a.requests) == 1, "the request reached a")
            victim = 0 if shared.row(0) == [1, 0] else 1
            assert shared.row(victim) == [1, 0]
            os.kill(workers.processes[victim].pid or 0, signal.SIGKILL)
            await until(lambda: shared.row(victim) == [0, 0], "the dead worker's row zeroed")
            with pytest.raises((ConnectionError, asyncio.IncompleteReadError, ValueError)):
                await hold
            assert workers.processes[1 - victim].is_alive()
        finally:
            release.set()
    assert not in_dev_shm(shared.name)


@pytest.mark.slow
async def test_an_upstream_added_through_the_channel_gets_the_next_slot() -> None:
    release = asyncio.Event()
    async with (
        serving(fixed(b"from b"), held(release)) as (b, c),
        shared_workers({"b": b.port}, slots=2) as (workers, shared),
    ):
        try:
            add = PoolUpdate("c", address=("127.0.0.1", c.port))
            await asyncio.to_thread(workers.apply, add)
            assert shared.slots == {"b": 0, "c": 1}
            await asyncio.to_thread(workers.apply, PoolUpdate("b", state=AdminState.DRAINING))
            hold = asyncio.ensure_future(held_request(workers.port))
            await until(lambda: len(c.requests) == 1, "the request reached c")
            assert sorted([shared.row(0), shared.row(1)]) == [[0, 0], [0, 1]]
            with pytest.raises(InputError, match=r"balancer.upstreams: upstream 'd' would be"):
                await asyncio.to_thread(workers.apply, PoolUpdate("d", address=("h", 1)))
            release.set()
            assert await hold == b"from a"
        finally:
            release.set()


@pytest.mark.slow
async def test_a_worker_whose_pool_has_an_unshared_upstream_does_not_start() -> None:
    async with serving(fixed(b"x"), fixed(b"y")) as (a, b):
        factory = functools.partial(make_shared_worker_proxy, {"a": a.port, "b": b.port})
        with pytest.raises(RuntimeError, match=r"balancer.upstreams: 'b' have no slot"):
            await asyncio.to_thread(Workers.launch, factory, "127.0.0.1", 0, workers=2, share=["a"])


@pytest.mark.slow
async def test_one_worker_has_no_shared_block() -> None:
    async with serving(fixed(b"x")) as (a,):
        factory = functools.partial(make_shared_worker_proxy, {"a": a.port})
        workers = await asyncio.to_thread(
            Workers.launch, factory, "127.0.0.1", 0, workers=1, share=["a"]
        )
        try:
            assert workers.shared is None
            assert (await roundtrip(workers.port, GET)).body == b"x"
        finally:
            await asyncio.to_thread(workers.stop, 1.0)


def test_a_rotations_snapshot_counts_every_workers_requests() -> None:
    # A rotation's picks do not read the shared counts (acquire skips the refresh): the API's
    # view reads them itself, so it still shows what every worker has out.
    first, second = pools(2, policy="round_robin")
    for _ in range(3):
        first.acquire(0.0, exclude=frozenset({"b", "c"}))
    picks = [second.acquire(float(i)) for i in range(3)]
    assert sorted(u.id for u in picks if u is not None) == ["a", "b", "c"]  # the rotation's
    rows = {row.id: row.in_flight for row in second.snapshot(4.0)}
    assert rows == {"a": 4, "b": 1, "c": 1}
    for upstream in picks:
        assert upstream is not None
        second.release(upstream, 5.0, outcome=Outcome.OK, latency=0.1)
    rows = {row.id: row.in_flight for row in second.snapshot(6.0)}
    assert rows == {"a": 3, "b": 0, "c": 0}
    assert all(second.drained(uid) for uid in "abc")  # its own requests: none out
