"""Upstream connections under bursts, and the accepting of client connections, over real sockets.

The waiter queue of :mod:`vigil.balancer._proxy_connpool` (a request waiting for a connection
takes the first one free) and the listener (the whole queue taken over a few wake-ups, in slices) of
:mod:`vigil.balancer._proxy_accept`.
"""

# Nested `async with`: each upstream outlives the proxy in front of it, as the layout shows.
# ruff: noqa: SIM117

from __future__ import annotations

import asyncio
import socket
import sys
import time

import uvloop

from vigil.balancer._pool_settings import PoolSettings
from vigil.balancer._proxy_connpool import UpstreamPool
from vigil.balancer._proxy_upstream import UpstreamConnection
from vigil.balancer._upstream import Upstream
from vigil.balancer.pool import Pool
from vigil.balancer.proxy import Proxy

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, read_response, roundtrip, serving, sse

GET = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"


def raw_listener(backlog: int) -> tuple[socket.socket, int]:
    """A non-blocking listening socket on a free loopback port: an upstream the test drives by
    hand (``loop.sock_accept``), byte by byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(backlog)
    listener.setblocking(False)
    return listener, listener.getsockname()[1]


async def wait_until(condition, what: str) -> None:
    """Let the loop run until ``condition()`` holds (bounded: the test fails, never hangs)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_burst_of_n_streams_opens_at_most_n_connections_and_the_next_one_reuses_them() -> (
    None
):
    streams = 24
    async with serving(sse(3, 0.01)) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (proxy, port):
            first = await asyncio.gather(*(roundtrip(port, GET) for _ in range(streams)))
            opened = proxy.state.pool.opened
            second = await asyncio.gather(*(roundtrip(port, GET) for _ in range(streams)))
            pool = proxy.state.pool
            assert pool.opened == opened  # every stream of the second burst found a warm one
            assert not pool.waiting.get(("127.0.0.1", up.port))
    assert opened <= streams
    assert up.connections == opened
    expected = b"data: token 0\n\ndata: token 1\n\ndata: token 2\n\n"
    assert [r.body for r in first + second] == [expected] * (2 * streams)


async def test_an_idle_connection_closed_by_the_upstream_is_not_used_for_the_next_request() -> None:
    async def answer_then_close(req, writer):
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        return False  # closes without saying Connection: close

    async with serving(answer_then_close) as (up,):
        async with proxying(RoundRobinRouter([upstream("a", up.port)])) as (proxy, port):
            key = ("127.0.0.1", up.port)
            assert (await roundtrip(port, GET)).body == b"ok"
            await wait_until(lambda: not proxy.state.pool.idle.get(key), "the close is seen")
            await wait_until(lambda: up.connections == 2, "the liveness check connects")
            assert (await roundtrip(port, GET)).body == b"ok"
            assert proxy.state.pool.checks == 1
    assert up.connections == 3  # two for the requests, one to check the upstream still listens
    assert len(up.requests) == 2


async def test_a_post_read_in_the_same_pass_as_the_upstreams_close_goes_on_a_new_connection() -> (
    None
):
    """The race of a replica killed (or a server closing an idle keep-alive connection) with the
    next request: while the loop is busy, a client sends a POST on its kept-alive connection and
    then the upstream closes the idle connection the proxy holds to it. The loop reads both in
    one pass, the POST first. Written onto the dead connection, the POST could not be replayed
    and the client got a 502; the proxy now sees the close with a peek and opens a new one."""
    loop = asyncio.get_running_loop()
    listener, port = raw_listener(8)
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
    post = b"POST /v1/completions HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}"
    try:
        async with proxying(RoundRobinRouter([upstream("a", port)])) as (proxy, proxy_port):
            client = socket.create_connection(("127.0.0.1", proxy_port))
            client.setblocking(False)
            await loop.sock_sendall(client, GET)
            served, _ = await loop.sock_accept(listener)
            assert (await loop.sock_recv(served, 4096)).startswith(b"GET / ")
            await loop.sock_sendall(served, ok % (3, b"one"))
            assert (await loop.sock_recv(client, 4096)).endswith(b"\r\n\r\none")
            await wait_until(lambda: proxy.state.pool.idle.get(("127.0.0.1", port)), "kept")
            # the loop does not run between these three lines: both events wait for one pass
            client.send(post)
            served.close()
            time.sleep(0.05)  # noqa: ASYNC251 (the loop must not run: that is the race)
            try:
                fresh, _ = await asyncio.wait_for(loop.sock_accept(listener), 5)
            except TimeoutError:
                answer = await asyncio.wait_for(loop.sock_recv(client, 4096), 5)
                raise AssertionError(f"no new connection; the client got {answer[:12]!r}") from None
            assert (await loop.sock_recv(fresh, 4096)).startswith(b"POST /v1/completions ")
            await loop.sock_sendall(fresh, ok % (3, b"two"))
            answer = await asyncio.wait_for(loop.sock_recv(client, 4096), 5)
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"two")
            fresh.close()
            client.close()
    finally:
        listener.close()


KEEP_ALIVE_SERVER = """
import asyncio

async def serve(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


async def test_a_replica_killed_while_idle_is_ejected_before_any_request_goes_to_it() -> None:
    """kill -9 of a replica process whose keep-alive connection sits idle in the proxy: its
    close makes the proxy check the port, the connect is refused and the pool ejects the
    replica, with no request sent to it (no error counted against it)."""
    replica = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KEEP_ALIVE_SERVER, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert replica.stdout is not None
        dead_port = int(await asyncio.wait_for(replica.stdout.readline(), 10))
        async with serving(fixed(b"b")) as (b,):
            pool = Pool(
                [Upstream("a", "127.0.0.1", dead_port), Upstream("b", "127.0.0.1", b.port)],
                PoolSettings(policy="round_robin", slow_start=0),
            )
            async with proxying(pool) as (proxy, port):
                bodies = [(await roundtrip(port, GET)).body for _ in range(2)]
                assert sorted(bodies) == [b"b", b"ok"]  # one each: both connections idle now
                replica.kill()
                await replica.wait()
                await wait_until(lambda: pool.get("a").ejected(proxy.state.clock()), "ejected")
                assert pool.get("a").errors == 0
                assert proxy.state.pool.checks == 1
                assert [(await roundtrip(port, GET)).body for _ in range(3)] == [b"b"] * 3
    finally:
        if replica.returncode is None:
            replica.kill()
            await replica.wait()


async def test_a_waiting_request_takes_a_connection_that_frees_up_before_its_own_connect() -> None:
    """The upstream's accept queue is full (backlog 0, nobody accepting), so a second connect
    hangs in SYN retries; the first connection's response ends and serves the second request."""
    loop = asyncio.get_running_loop()
    listener, port = raw_listener(0)
    router = RoundRobinRouter([upstream("a", port)])
    blocker = None
    try:
        async with proxying(router) as (proxy, proxy_port):
            first = asyncio.ensure_future(roundtrip(proxy_port, GET))
            served, _ = await loop.sock_accept(listener)
            head = await loop.sock_recv(served, 4096)
            assert head.startswith(b"GET / HTTP/1.1\r\n")
            blocker = socket.create_connection(("127.0.0.1", port))  # fills the accept queue
            second = asyncio.ensure_future(roundtrip(proxy_port, GET))
            pool = proxy.state.pool
            await wait_until(lambda: pool.waiting.get(("127.0.0.1", port)) == 1, "it waits")
            await loop.sock_sendall(served, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
            assert (await first).body == b"one"
            head = await loop.sock_recv(served, 4096)  # the second request, on the same connection
            assert head.startswith(b"GET / HTTP/1.1\r\n")
            await loop.sock_sendall(served, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo")
            assert (await second).body == b"two"
            assert pool.handed == 1
            assert pool.opened == 1  # the second connect is still stuck in the full queue
            served.close()
    finally:
        listener.close()
        if blocker is not None:
            blocker.close()
    assert [r.outcome.value for r in router.released] == ["ok", "ok"]
    # the stuck connect is cancelled with the proxy, not leaked
    await wait_until(lambda: not proxy.state.pool._tasks, "the connect task ends")


def test_every_connection_pending_at_a_wake_up_is_accepted_under_uvloop() -> None:
    """uvloop's own servers accept one connection per loop iteration; the proxy's listener
    takes the whole queue, so connections made while the loop was busy are all served."""

    async def scenario() -> tuple[int, list[bytes]]:
        async with serving(fixed(b"ok")) as (up,):
            proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
            port = await proxy.start()
            try:
                # blocking connects: the loop is busy (not running) while the queue fills
                socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
                for _ in range(3):
                    await asyncio.sleep(0)
                accepted = sum(listener.accepted for listener in proxy._listeners)
                bodies = []
                for sock in socks:
                    reader, writer = await asyncio.open_connection(sock=sock)
                    writer.write(GET)
                    bodies.append((await asyncio.wait_for(read_response(reader), 5)).body)
                    writer.close()
            finally:
                await proxy.stop(0.5)
            return accepted, bodies

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        accepted, bodies = runner.run(scenario())
    assert accepted == 64
    assert bodies == [b"ok"] * 64


def test_a_burst_is_accepted_in_slices_whose_requests_are_read_before_the_rest_is_accepted() -> (
    None
):
    """200 connections queued with their requests already sent: the first request reaches the
    router before the whole queue is accepted (the first slice's requests go upstream while the
    rest of the burst waits in the kernel), and every one is answered."""
    burst = 200
    seen: list[int] = []  # connections accepted when each request was routed

    async def scenario() -> list[bytes]:
        def route(request: object) -> None:  # every request: 404, no upstream needed
            seen.append(sum(listener.accepted for listener in proxy._listeners))

        proxy = Proxy(route)
        port = await proxy.start()
        try:
            # blocking connects and writes: the loop is busy (not running) while the queue fills
            socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(burst)]
            for sock in socks:
                sock.sendall(GET)
                sock.setblocking(False)
            loop = asyncio.get_running_loop()
            heads = [await asyncio.wait_for(loop.sock_recv(s, 4096), 10) for s in socks]
        finally:
            for sock in socks:
                sock.close()
            await proxy.stop(0.5)
        return [head[:12] for head in heads]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        heads = runner.run(scenario())
    assert heads == [b"HTTP/1.1 404"] * burst
    assert len(seen) == burst
    assert seen[0] < burst  # not the whole queue accepted before the first request is read


_OUT_OF_DESCRIPTORS = """
import asyncio, logging, resource, socket, sys
from vigil.balancer._pool_settings import PoolSettings
from vigil.balancer._proxy_connpool import UpstreamPool
from vigil.balancer._proxy_upstream import UpstreamConnection
from vigil.balancer._upstream import Upstream
from vigil.balancer.pool import Pool
from vigil.balancer.proxy import Proxy

async def main():
    proxy = Proxy(lambda request: None)  # every request: 404, no upstream needed
    port = await proxy.start()
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
    print(starved, not proxy._listeners, sorted(set(statuses)))

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stdout)
asyncio.run(main())
"""


def test_accepting_pauses_with_a_warning_when_out_of_descriptors_then_serves_the_queue() -> None:
    """A subprocess (the limit is per process): accept() fails with EMFILE, the listener warns,
    pauses, and once descriptors are back every queued connection is served."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _OUT_OF_DESCRIPTORS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("cannot accept connections" in line and "ulimit -n" in line for line in lines)
    starved, _, statuses = lines[-1].partition(" True ")
    assert int(starved) < 12  # it did run out
    assert statuses == "[b'HTTP/1.1 404']"


async def test_a_host_name_is_listened_on_at_every_address_it_resolves_to() -> None:
    infos = await asyncio.get_running_loop().getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)
    addresses = sorted({str(info[4][0]) for info in infos})
    async with serving(fixed(b"ok")) as (up,):
        proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
        port = await proxy.start("localhost", 0)
        try:
            listening = len(proxy._listeners)
            bodies = []
            for address in addresses:
                reader, writer = await asyncio.open_connection(address, port)
                writer.write(GET)
                bodies.append((await asyncio.wait_for(read_response(reader), 5)).body)
                writer.close()
        finally:
            await proxy.stop(0.5)
    assert listening == len(addresses)
    assert bodies == [b"ok"] * len(addresses)


async def test_a_failed_connect_whose_waiter_was_served_fails_the_waiter_left_without_one() -> None:
    # A's connect hangs then fails; B's succeeds first and serves A (the oldest). B then has no
    # connect of its own: A's failure goes to B, which retries elsewhere at once instead of
    # waiting out its connect timeout.
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    key = ("127.0.0.1", port)
    pool = UpstreamPool(loop, max_idle=4, idle_timeout=10.0)
    gate = asyncio.Event()
    real = loop.create_connection
    calls = 0

    async def scripted(factory, host, port_):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:  # A's
            await gate.wait()
            raise ConnectionRefusedError(111, "refused")
        return await real(factory, host, port_)

    results: dict[str, tuple[object, object]] = {}
    try:
        loop.create_connection = scripted  # type: ignore[method-assign]
        pool.connect(key, lambda c, e: results.setdefault("A", (c, e)))
        pool.connect(key, lambda c, e: results.setdefault("B", (c, e)))
        await wait_until(lambda: "A" in results, "B's connect serves A")
        conn, error = results["A"]
        assert isinstance(conn, UpstreamConnection) and error is None and pool.handed == 1
        conn.close()
        gate.set()
        await wait_until(lambda: "B" in results, "A's connect error reaches B")
        conn, error = results["B"]
        assert conn is None and isinstance(error, ConnectionRefusedError)
        assert not pool.waiting.get(key)
    finally:
        del loop.create_connection  # type: ignore[misc]
        pool.close()
        server.close()
        await server.wait_closed()


async def test_an_upstream_moved_to_another_port_gets_the_next_request_there() -> None:
    # The exchanges keep each upstream's idle connections at hand (UpstreamStats.idle): an
    # upstream replaced by one of the same id at another address must not get the old one's.
    async with serving(fixed(b"old"), fixed(b"new")) as (old, new):
        pool = Pool([Upstream("a", "127.0.0.1", old.port)], PoolSettings(policy="round_robin"))
        async with proxying(pool) as (_, port):
            assert (await roundtrip(port, GET)).body == b"old"  # its connection stays idle
            pool.set_upstreams([Upstream("a", "127.0.0.1", new.port)], time.monotonic())
            assert (await roundtrip(port, GET)).body == b"new"
    assert len(old.requests) == 1 and len(new.requests) == 1
