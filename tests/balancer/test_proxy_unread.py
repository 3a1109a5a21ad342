"""A request a killed replica never read is retried elsewhere, even a POST; one it read is not.

Real replica processes (a blocking socket server in a subprocess, below) killed with SIGKILL,
the proxy in front, real sockets all the way. What the kernel does, and what these tests pin:

- a process that *read* the request and dies while working on it closes its socket with an
  empty receive buffer: FIN, the proxy reads EOF with no response. The program saw the request
  (a POST may have been processed): 502, never retried;
- a process that dies with the request still *unread* in its socket (sent after ``kill``
  returned, before the kernel tore the process down; or queued behind a request it was busy
  with) is closed with data unread: RST, ``ECONNRESET`` before any response byte. The program
  never saw it: retried on another replica, POST included, when the proxy holds the request
  whole (see :mod:`vigil.balancer._proxy_exchange`).

A process stopped with SIGSTOP before the request arrives and then killed stands for the
window between ``kill`` returning and the kernel closing the sockets: no user code runs in
either, so the request stays unread. Edges are pinned too: a reset after an interim response
or a partial head, a body streamed to the replica (not held), a replica that read only the head
(the documented choice: retried), a replica that resets after handling a request on purpose
(``SO_LINGER 0``: retried unless ``retry_on_reset`` is off).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvloop
from prometheus_client import CollectorRegistry

from vigil.balancer._proxy_metrics import ProxyMetrics
from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, read_response, roundtrip, serving

GET = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
POST = b"POST /v1/completions HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}"

# The replica: one connection at a time, blocking calls, so that what it has read is exactly
# what the mode says. GET is answered; on a POST it reads the head byte by byte (never a byte
# past it), then per mode: "body" reads the body, "head" does not, "continue" answers 100
# Continue first, "partial" sends part of a status line and resets, "linger0" reads the body
# and resets (SO_LINGER 0: RST although nothing is unread). Then it prints what it read and
# "works" (sleeps, reading and accepting nothing more) until killed.
REPLICA = r"""
import socket, struct, sys, time
mode = sys.argv[1]
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)

def read_head(conn):
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = conn.recv(1)
        if not byte:
            return None
        head += byte
    return head

def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()

while True:
    conn, _ = listener.accept()
    while True:
        head = read_head(conn)
        if head is None:
            break
        if head.startswith(b"GET "):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            continue
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        if mode == "continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = b""
        while mode in ("body", "linger0", "partial") and len(body) < length:
            body += conn.recv(length - len(body))
        print("read", len(head), len(body), flush=True)
        if mode == "partial":
            conn.sendall(b"HTTP/1.1 20")
        if mode in ("linger0", "partial"):
            reset(conn)
            break
        time.sleep(3600)
"""


class Replica:
    """The replica above in its own process."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc = proc
        self.port = port

    async def read(self) -> int:
        """Waits for the replica's next report of a request read: the body bytes it read (the
        head was read whole)."""
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 10)
        return int(line.split()[2])

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    async def kill(self) -> None:
        self.proc.kill()
        await self.proc.wait()


@asynccontextmanager
async def replica(mode: str) -> AsyncIterator[Replica]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", REPLICA, mode, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        port = int(await asyncio.wait_for(proc.stdout.readline(), 10))
        yield Replica(proc, port)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


class FirstRouter(RoundRobinRouter):
    """Always the first upstream not tried yet: every request goes to ``a`` until it fails."""

    def acquire(self, now, key=None, exclude=frozenset()):
        self.next = 0
        return super().acquire(now, key, exclude)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition()`` holds (bounded: the test fails, never hangs)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def send(port: int, raw: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    return reader, writer


def run_on(
    loop_factory: Callable[[], asyncio.AbstractEventLoop], scenario: Coroutine[Any, Any, None]
) -> None:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(scenario)


LOOPS = pytest.mark.parametrize(
    "loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"]
)


# -- read, then killed: EOF, not retried ---------------------------------------------------------
async def test_a_post_the_replica_read_before_it_was_killed_fails_and_is_not_retried() -> None:
    async with replica("body") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (proxy, port):
            reader, writer = await send(port, POST)
            assert await a.read() == 2  # the replica has the whole request
            await a.kill()
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.status == 502
    assert b.requests == []
    assert router.outcomes() == [("a", Outcome.CONNECT_ERROR)]
    assert proxy.state.metrics.retries == {}


# -- never read, then killed: RST, retried on another replica ------------------------------------
async def _never_read_post_is_retried() -> None:
    async with replica("body") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (proxy, port):
            reader, writer = await send(port, GET)  # the connection the POST will reuse
            assert (await asyncio.wait_for(read_response(reader), 5)).body == b"ok"
            a.stop()  # from here the replica reads nothing, as after `kill` returns
            writer.write(POST)
            await until(lambda: router.upstreams[0].in_flight == 1, "the POST went to a")
            await a.kill()
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert (response.status, response.body) == (200, b"from b")
    assert [(r.method, r.body) for r in b.requests] == [("POST", b"{}")]
    # the reset came on a reused connection: first sent again on a fresh one, not charged to
    # the replica (a keep-alive close crossing the request looks the same), which the dead
    # replica refuses (or accepts into its dying backlog and resets); then b
    outcomes = router.outcomes()
    assert outcomes[:2] == [("a", Outcome.OK), ("a", Outcome.CLIENT_ABORT)]
    assert outcomes[2] in (("a", Outcome.REFUSED), ("a", Outcome.CONNECT_ERROR))
    assert outcomes[3:] == [("b", Outcome.OK)]
    retries = proxy.state.metrics.retries
    assert retries in ({"stale": 1, "not_sent": 1}, {"stale": 1, "unread": 1})


@LOOPS
def test_a_post_a_killed_replica_never_read_is_retried_on_another_replica(loop_factory) -> None:
    """The POST goes out on a reused keep-alive connection (the usual case) and sits unread in
    the replica's socket when the process dies: RST, and the client gets b's answer."""
    run_on(loop_factory, _never_read_post_is_retried())


async def test_posts_queued_in_a_killed_replicas_socket_are_retried_and_the_one_it_read_fails() -> (
    None
):
    """The replica works on one POST (read whole) while three more wait on connections it has
    not accepted yet: killed, the one it read gets 502, the three queued go to b."""
    registry = CollectorRegistry()
    async with replica("body") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router, metrics=ProxyMetrics(registry)) as (proxy, port):
            first = await send(port, POST)
            assert await a.read() == 2
            queued = [await send(port, POST) for _ in range(3)]
            await until(lambda: router.upstreams[0].in_flight == 4, "four POSTs on a")
            await until(lambda: proxy.state.pool.opened == 4, "each on its own connection")
            await a.kill()
            responses = [
                await asyncio.wait_for(read_response(reader), 5) for reader, _ in [first, *queued]
            ]
            for _, writer in [first, *queued]:
                writer.close()
    assert [r.status for r in responses] == [502, 200, 200, 200]
    assert [r.body for r in responses[1:]] == [b"from b"] * 3
    assert len(b.requests) == 3
    assert proxy.state.metrics.retries == {"unread": 3}
    assert registry.get_sample_value("vigil_proxy_retries_total", {"reason": "unread"}) == 3


# -- the edges -----------------------------------------------------------------------------------
async def test_a_post_whose_head_alone_the_replica_read_is_retried_the_documented_choice() -> None:
    """The replica read the head, not the body, and died: the kernel resets (the body is
    unread), exactly as for a request never read. The program saw the head but cannot have
    acted on the body; the proxy retries (a replica that acts on a head alone needs
    ``retry_on_reset: false``)."""
    async with replica("head") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (proxy, port):
            reader, writer = await send(port, POST)
            assert await a.read() == 0
            await a.kill()
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert (response.status, response.body) == (200, b"from b")
    assert proxy.state.metrics.retries == {"unread": 1}


@pytest.mark.parametrize("mode", ["continue", "partial"])
async def test_a_reset_after_any_response_byte_is_not_retried(mode: str) -> None:
    """A 100 Continue, or part of a status line, came before the reset: the program had the
    request, so the POST fails with 502 and b never sees it."""
    async with replica(mode) as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (proxy, port):
            reader, writer = await send(port, POST)
            await a.read()
            if mode == "continue":
                await a.kill()  # the body is unread: RST
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.status == 502
    assert b.requests == []
    assert proxy.state.metrics.retries == {}


async def test_a_post_whose_body_went_out_after_its_head_is_not_retried_after_a_reset() -> None:
    """The client sent the body after the head: the proxy wrote the head at once and the body
    as it came, and does not hold a non-idempotent request's streamed body, so it cannot
    resend it: 502 although the replica never read it."""
    head, body = POST[:-2], POST[-2:]
    async with replica("body") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router) as (proxy, port):
            reader, writer = await send(port, GET)
            assert (await asyncio.wait_for(read_response(reader), 5)).body == b"ok"
            a.stop()
            writer.write(head)
            await until(lambda: router.upstreams[0].in_flight == 1, "the head went to a")
            writer.write(body)
            (client,) = proxy.state.clients
            await until(lambda: client.active is not None and client.active.req_done, "body")
            await a.kill()
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.status == 502
    assert b.requests == []
    assert proxy.state.metrics.retries == {}


@pytest.mark.parametrize("retry_on_reset", [True, False])
async def test_a_replica_that_resets_after_handling_a_post_on_purpose(retry_on_reset: bool) -> None:
    """``SO_LINGER 0`` after reading the whole POST: an RST the proxy cannot tell from an
    unread request. Retried by default (the POST runs twice: the hazard the setting names);
    ``retry_on_reset=False`` answers 502 instead."""
    async with replica("linger0") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router, retry_on_reset=retry_on_reset) as (_, port):
            response = await roundtrip(port, POST)
            assert await a.read() == 2  # a handled it whatever happened next
    if retry_on_reset:
        assert (response.status, response.body) == (200, b"from b")
        assert len(b.requests) == 1
    else:
        assert response.status == 502
        assert b.requests == []


async def test_an_unread_post_is_not_retried_beyond_max_retries() -> None:
    async with replica("body") as a, serving(fixed(b"from b")) as (b,):
        router = FirstRouter([upstream("a", a.port), upstream("b", b.port)])
        async with proxying(router, max_retries=0) as (_, port):
            reader, writer = await send(port, GET)
            assert (await asyncio.wait_for(read_response(reader), 5)).body == b"ok"
            a.stop()
            writer.write(POST)
            await until(lambda: router.upstreams[0].in_flight == 1, "the POST went to a")
            await a.kill()
            response = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert response.status == 502
    assert b.requests == []


def test_the_balancer_setting_reaches_the_data_plane() -> None:
    from vigil.daemon._balancing import proxy_settings
    from vigil.settings import BalancerSettings

    assert proxy_settings(BalancerSettings()).retry_on_reset is True
    assert proxy_settings(BalancerSettings(retry_on_reset=False)).retry_on_reset is False
