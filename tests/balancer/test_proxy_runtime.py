"""The data plane under uvloop, in worker processes, and in front of the demo's model server."""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys

import pytest
import uvloop

from vigil.balancer._upstream import AdminState
from vigil.balancer.proxy import PoolUpdate, Proxy, Workers
from vigil.errors import InputError

from ._routers import (
    RoundRobinRouter,
    dead_port,
    make_pool_worker_proxy,
    make_worker_proxy,
    upstream,
)
from ._upstreams import echo, fixed, read_response, roundtrip, serving, sse


def test_the_proxy_streams_and_round_trips_under_uvloop() -> None:
    async def scenario() -> tuple[bytes, bytes, int]:
        async with serving(echo, sse(3, 0.01)) as (a, b):
            router = RoundRobinRouter([upstream("a", a.port), upstream("b", b.port)])
            proxy = Proxy(router)
            port = await proxy.start()
            try:
                posted = await roundtrip(
                    port, b"POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\nhello"
                )
                streamed = await roundtrip(port, b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
            finally:
                await proxy.stop(0.5)
            return posted.body, streamed.body, streamed.status

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        posted, streamed, status = runner.run(scenario())
    assert posted == b"hello"
    assert status == 200
    assert streamed == b"data: token 0\n\ndata: token 1\n\ndata: token 2\n\n"


@pytest.mark.slow
async def test_two_worker_processes_share_one_port() -> None:
    async with serving(fixed(b"ok")) as (backend,):
        factory = functools.partial(make_worker_proxy, backend.port)
        workers = await asyncio.to_thread(Workers.launch, factory, "127.0.0.1", 0, workers=2)
        try:
            assert len(set(workers.pids)) == 2
            statuses = await asyncio.gather(
                *(roundtrip(workers.port, b"GET / HTTP/1.1\r\nHost: s\r\n\r\n") for _ in range(40))
            )
        finally:
            await asyncio.to_thread(workers.stop, 1.0)
    assert {r.status for r in statuses} == {200}
    assert backend.connections >= 2  # both workers opened their own upstream connections
    assert not any(p.is_alive() for p in workers.processes)


@pytest.mark.slow
async def test_the_demo_model_server_answers_through_the_proxy() -> None:
    port = dead_port()
    server = await asyncio.create_subprocess_exec(
        *[
            sys.executable,
            "-m",
            "vigil.demo.model_server",
            "--port",
            str(port),
            "--load-time",
            "0",
            "--latency-ms",
            "5",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        await asyncio.wait_for(server.stdout.readline(), 20)  # "listening on ..."
        router = RoundRobinRouter([upstream("m", port)])
        proxy = Proxy(router)
        proxy_port = await proxy.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            bodies = []
            for i in range(3):
                body = json.dumps({"prompt": f"hello {i}"}).encode()
                writer.write(
                    b"POST /v1/completions HTTP/1.1\r\nHost: m\r\nContent-Type: application/json"
                    b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                bodies.append(json.loads((await asyncio.wait_for(read_response(reader), 5)).body))
            writer.close()
        finally:
            await proxy.stop(0.5)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 5)
    assert [b["object"] for b in bodies] == ["text_completion"] * 3
    assert len({b["pid"] for b in bodies}) == 1


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_both_legs_have_nagle_off_under_either_loop(loop_factory) -> None:
    """The proxy relies on the event loop's TCP_NODELAY (each SSE event leaves at once)."""
    import socket

    from vigil.balancer._proxy_client import ClientConnection

    async def scenario() -> list[int]:
        async with serving(fixed(b"ok")) as (up,):
            proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
            port = await proxy.start()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET / HTTP/1.1\r\nHost: s\r\n\r\n")
                await asyncio.wait_for(read_response(reader), 5)
                (client,) = [c for c in proxy.state.clients if isinstance(c, ClientConnection)]
                (conn,) = proxy.state.pool.idle[("127.0.0.1", up.port)]
                socks = [t.get_extra_info("socket") for t in (client.transport, conn.transport)]
                flags = [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in socks]
                writer.close()
                return flags
            finally:
                await proxy.stop(0.5)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        assert runner.run(scenario()) == [1, 1]


@pytest.mark.slow
async def test_pool_updates_from_the_parent_reach_every_worker_process() -> None:
    async with serving(fixed(b"from a"), fixed(b"from b")) as (a, b):
        factory = functools.partial(make_pool_worker_proxy, {"a": a.port, "b": b.port})
        workers = await asyncio.to_thread(Workers.launch, factory, "127.0.0.1", 0, workers=2)
        get = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
        try:
            await asyncio.to_thread(workers.apply, PoolUpdate("b", state=AdminState.DRAINING))
            drained = [(await roundtrip(workers.port, get)).body for _ in range(20)]
            await asyncio.to_thread(workers.apply, PoolUpdate("b", state=AdminState.READY))
            await asyncio.to_thread(workers.apply, PoolUpdate("a", healthy=False))
            unhealthy = [(await roundtrip(workers.port, get)).body for _ in range(20)]
            with pytest.raises(InputError, match=r"worker 0: NotFoundError.*'nope'"):
                await asyncio.to_thread(workers.apply, PoolUpdate("nope", healthy=True))
            await asyncio.to_thread(workers.apply, PoolUpdate("a", healthy=True, weight=2.0))
            back = {(await roundtrip(workers.port, get)).body for _ in range(20)}
        finally:
            await asyncio.to_thread(workers.stop, 1.0)
    assert drained == [b"from a"] * 20  # every worker stopped sending to b
    assert unhealthy == [b"from b"] * 20
    assert back == {b"from a", b"from b"}


def test_a_pool_update_is_checked_when_it_is_made() -> None:
    with pytest.raises(ValueError, match="draining-ish"):
        PoolUpdate("a", state="draining-ish")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"PoolUpdate.weight of upstream 'a': must be > 0"):
        PoolUpdate("a", weight=0.0)
    assert PoolUpdate("a", state="draining").state is AdminState.DRAINING  # type: ignore[arg-type]
