"""run_probe (HTTP and TCP) and ProbeLoop against real sockets and a real server process.

Servers: an asyncio HTTP server with a switchable answer, a server that accepts connections but
never answers, a closed port, and an HTTP server in a child process that can be SIGSTOPped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from vigil.backends import free_port
from vigil.bus import EventBus, Subscription
from vigil.collectors import ProbeLoop, ProbeOutcome, run_probe
from vigil.model import HealthChanged, ProbeKind, ProbeResult, ReplicaId
from vigil.settings import HttpProbe, Probe, TcpProbe


@dataclass
class Answer:
    """What the test HTTP server answers; tests change it while the server runs."""

    status: int = 200
    body: bytes = b"ok"
    chunked: bool = False
    length: bool = True
    raw: bytes | None = None
    requests: list[bytes] = field(default_factory=list)


@dataclass
class Server:
    port: int
    answer: Answer


def _response(answer: Answer) -> bytes:
    if answer.raw is not None:
        return answer.raw
    head = f"HTTP/1.1 {answer.status} Whatever\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    if answer.chunked:
        half = len(answer.body) // 2
        parts = [answer.body[:half], answer.body[half:]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + body
    if answer.length:
        head += f"Content-Length: {len(answer.body)}\r\n"
    return (head + "\r\n").encode() + answer.body


@pytest.fixture
async def http_server() -> AsyncIterator[Server]:
    answer = Answer()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            answer.requests.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(_response(answer))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield Server(server.sockets[0].getsockname()[1], answer)
    server.close()
    await server.wait_closed()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and reads requests but never answers (a hung application)."""
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(OSError):
            await reader.read()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (it was just free)."""
    return free_port()


_CHILD_SERVER = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"healthy")
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@dataclass
class ChildServer:
    port: int
    process: subprocess.Popen[bytes]


@pytest.fixture
def child_http_server() -> Iterator[ChildServer]:
    """A real HTTP server in a child process (so that it can be SIGSTOPped); killed at teardown."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD_SERVER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        yield ChildServer(int(process.stdout.readline()), process)
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def http(timeout: float = 2.0, **spec: Any) -> Probe:
    return Probe(http=HttpProbe(**spec), timeout=timeout)


def tcp(timeout: float = 2.0, **spec: Any) -> Probe:
    return Probe(tcp=TcpProbe(**spec), timeout=timeout)


# --- HTTP ----------------------------------------------------------------------------------------


async def test_an_http_probe_passes_on_200_and_sends_a_proper_request(http_server: Server) -> None:
    outcome = await run_probe(http(path="/healthz"), port=http_server.port)
    assert outcome == ProbeOutcome(True, outcome.latency, "HTTP 200", False)
    assert 0 <= outcome.latency < 2
    request = http_server.answer.requests[0].decode()
    assert request.startswith("GET /healthz HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{http_server.port}\r\n" in request
    assert "Connection: close\r\n" in request


async def test_an_http_probe_fails_on_503_and_names_the_status(http_server: Server) -> None:
    http_server.answer.status = 503
    outcome = await run_probe(http(), port=http_server.port)
    assert (outcome.ok, outcome.detail, outcome.timed_out) == (False, "HTTP 503", False)


async def test_an_http_probe_accepts_the_statuses_it_is_told_to_expect(http_server: Server) -> None:
    http_server.answer.status = 503
    assert (await run_probe(http(expect_status=[503]), port=http_server.port)).ok
    http_server.answer.status = 200
    outcome = await run_probe(http(expect_status=[204]), port=http_server.port)
    assert (outcome.ok, outcome.detail) == (False, "HTTP 200")


@pytest.mark.parametrize(
    "framing", [{}, {"chunked": True}, {"length": False}], ids=["length", "chunked", "close"]
)
async def test_an_http_probe_looks_for_text_in_the_body(
    http_server: Server, framing: dict[str, bool]
) -> None:
    for name, value in framing.items():
        setattr(http_server.answer, name, value)
    http_server.answer.body = b'{"status": "ok", "model": "loaded"}'
    assert (await run_probe(http(body_contains="loaded"), port=http_server.port)).ok
    http_server.answer.body = b'{"status": "warming up"}'
    outcome = await run_probe(http(body_contains="loaded"), port=http_server.port)
    assert (outcome.ok, outcome.detail) == (False, "HTTP 200, body lacks 'loaded'")


async def test_an_http_probe_reads_at_most_64_kib_of_body(http_server: Server) -> None:
    http_server.answer.body = b"x" * (64 * 1024) + b"needle"
    outcome = await run_probe(http(body_contains="needle"), port=http_server.port)
    assert (outcome.ok, outcome.detail) == (False, "HTTP 200, body lacks 'needle'")


async def test_an_answer_that_is_not_http_fails(http_server: Server) -> None:
    http_server.answer.raw = b"SSH-2.0-OpenSSH_9.6\r\n"
    outcome = await run_probe(http(), port=http_server.port)
    assert not outcome.ok
    assert outcome.detail.startswith("bad response: not an HTTP response")
    http_server.answer.raw = b""
    outcome = await run_probe(http(), port=http_server.port)
    assert outcome.detail == "bad response: connection closed without a response"


async def test_non_ascii_digits_in_a_status_or_length_fail_the_probe_without_raising(
    http_server: Server,
) -> None:
    # str.isdigit() accepts "²" (latin-1 0xB2) but int() does not: run_probe raised ValueError,
    # the probe loop logged a traceback at every interval and called it a "probe error"
    http_server.answer.raw = "HTTP/1.1 ²00 OK\r\n\r\n".encode("latin-1")
    outcome = await run_probe(http(), port=http_server.port)
    assert not outcome.ok
    assert outcome.detail.startswith("bad response: not an HTTP response")
    http_server.answer.raw = "HTTP/1.1 200 OK\r\nContent-Length: ²\r\n\r\nok".encode("latin-1")
    outcome = await run_probe(http(body_contains="ok"), port=http_server.port)
    assert (outcome.ok, outcome.detail) == (True, "HTTP 200")  # read to the end, as without one


async def test_a_server_that_accepts_but_never_answers_times_out(silent_server: int) -> None:
    outcome = await run_probe(http(timeout=0.3), port=silent_server)
    assert (outcome.ok, outcome.timed_out, outcome.detail) == (False, True, "timed out after 0.3s")
    assert 0.25 < outcome.latency < 2.0


async def test_a_closed_port_is_refused_at_once(closed_port: int) -> None:
    outcome = await run_probe(http(timeout=10), port=closed_port)
    assert (outcome.ok, outcome.timed_out, outcome.detail) == (False, False, "connection refused")
    assert outcome.latency < 2.0


async def test_an_unresolvable_host_fails_without_raising() -> None:
    outcome = await run_probe(http(host="no-such-host.invalid", timeout=5), port=80)
    assert not outcome.ok
    assert outcome.detail.startswith(("cannot resolve host", "timed out"))


async def test_a_sigstopped_server_times_out_and_passes_again_after_sigcont(
    child_http_server: ChildServer,
) -> None:
    probe = http(timeout=0.5, body_contains="healthy")
    port, pid = child_http_server.port, child_http_server.process.pid
    assert (await run_probe(probe, port=port)).ok
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped = await run_probe(probe, port=port)
        assert (stopped.ok, stopped.timed_out) == (False, True)
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed = await run_probe(probe, port=port)
    assert (resumed.ok, resumed.detail) == (True, "HTTP 200")


# --- TCP -----------------------------------------------------------------------------------------


async def test_a_tcp_probe_passes_when_the_port_accepts(http_server: Server) -> None:
    outcome = await run_probe(tcp(), port=http_server.port)
    assert (outcome.ok, outcome.detail) == (True, f"connected to 127.0.0.1:{http_server.port}")


async def test_a_tcp_probe_fails_on_a_closed_port(closed_port: int) -> None:
    outcome = await run_probe(tcp(), port=closed_port)
    assert (outcome.ok, outcome.detail) == (False, "connection refused")


async def test_a_tcp_probe_uses_its_own_port_when_given(
    http_server: Server, closed_port: int
) -> None:
    assert (await run_probe(tcp(port=http_server.port), port=closed_port)).ok


# --- ProbeLoop ----------------------------------------------------------------------------------

REPLICA = ReplicaId("llm/0")


async def next_health(sub: Subscription, seen: list[ProbeResult]) -> HealthChanged:
    async with asyncio.timeout(10):
        async for event in sub:
            if isinstance(event, HealthChanged):
                return event
            assert isinstance(event, ProbeResult)
            seen.append(event)
    raise AssertionError("subscription closed")


async def test_a_probe_loop_publishes_results_and_health_flips(http_server: Server) -> None:
    bus = EventBus()
    sub = bus.subscribe("test")
    probe = Probe(http=HttpProbe(), interval=0.05, timeout=1.0, failure_threshold=2)
    loop = ProbeLoop(REPLICA, ProbeKind.READINESS, probe, http_server.port, bus, clock=lambda: 42.0)
    loop.start()
    results: list[ProbeResult] = []
    try:
        up = await next_health(sub, results)
        assert (up.replica, up.probe, up.healthy, up.detail, up.at) == (
            REPLICA,
            ProbeKind.READINESS,
            True,
            "HTTP 200",
            42.0,
        )
        assert loop.healthy is True
        http_server.answer.status = 503
        down = await next_health(sub, results)
        assert (down.healthy, down.detail, down.timed_out) == (False, "HTTP 503", False)
    finally:
        await loop.stop()
    assert results[0].ok
    assert [r.ok for r in results[-2:]] == [False, False]
    assert all(r.replica == REPLICA and r.probe is ProbeKind.READINESS for r in results)
    assert not loop.running


async def test_a_hung_server_is_reported_as_timed_out(silent_server: int) -> None:
    bus = EventBus()
    sub = bus.subscribe("test")
    probe = Probe(http=HttpProbe(), interval=0.05, timeout=0.1, failure_threshold=2)
    loop = ProbeLoop(REPLICA, ProbeKind.LIVENESS, probe, silent_server, bus)
    loop.start()
    try:
        down = await next_health(sub, [])
    finally:
        await loop.stop()
    assert (down.healthy, down.timed_out, down.detail) == (False, True, "timed out after 0.1s")
    assert loop.last is not None
    assert loop.last.timed_out


class FakeSleep:
    """Records the delays asked for and returns at once; ``enough`` is set after ``count`` calls."""

    def __init__(self, count: int) -> None:
        self.delays: list[float] = []
        self.count = count
        self.enough = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if len(self.delays) >= self.count:
            self.enough.set()
        await asyncio.sleep(0)


async def run_until_enough(loop: ProbeLoop, sleep: FakeSleep) -> list[float]:
    loop.start()
    try:
        async with asyncio.timeout(10):
            await sleep.enough.wait()
    finally:
        await loop.stop()
    return sleep.delays


async def test_the_loop_waits_the_initial_delay_then_keeps_start_to_start_intervals(
    http_server: Server,
) -> None:
    sleep = FakeSleep(3)
    probe = Probe(tcp=TcpProbe(), interval=30.0, initial_delay=7.0)
    loop = ProbeLoop(REPLICA, ProbeKind.LIVENESS, probe, http_server.port, EventBus(), sleep=sleep)
    delays = await run_until_enough(loop, sleep)
    assert delays[0] == 7.0
    assert all(25.0 < d <= 30.0 for d in delays[1:3])


async def test_a_probe_slower_than_the_interval_is_followed_at_once(silent_server: int) -> None:
    sleep = FakeSleep(3)
    probe = Probe(http=HttpProbe(), interval=0.05, timeout=0.2)
    loop = ProbeLoop(REPLICA, ProbeKind.LIVENESS, probe, silent_server, EventBus(), sleep=sleep)
    assert await run_until_enough(loop, sleep) == [0.0, 0.0, 0.0]


async def test_stopping_a_loop_abandons_a_probe_in_flight_quickly(silent_server: int) -> None:
    probe = Probe(http=HttpProbe(), interval=1.0, timeout=30.0)
    loop = ProbeLoop(REPLICA, ProbeKind.LIVENESS, probe, silent_server, EventBus())
    loop.start()
    loop.start()
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await loop.stop()
    assert time.monotonic() - started < 2.0
    assert not loop.running
    await loop.stop()


async def test_stopping_does_not_swallow_the_cancellation_of_the_caller(silent_server: int) -> None:
    probe = Probe(http=HttpProbe(), interval=1.0, timeout=30.0)
    loop = ProbeLoop(REPLICA, ProbeKind.LIVENESS, probe, silent_server, EventBus())
    loop.start()
    await asyncio.sleep(0.05)
    stopper = asyncio.create_task(loop.stop())
    await asyncio.sleep(0)
    stopper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stopper
    assert stopper.cancelled()
    assert not loop.running


@pytest.mark.parametrize("size", [b"-5", b"-0x5"])
async def test_a_negative_chunk_size_fails_the_probe_without_raising(
    http_server: Server, size: bytes
) -> None:
    # int(b"-5", 16) is -5, and readexactly(-5) raises ValueError: out of run_probe, which
    # "never raises", and the probe loop logged a traceback at every interval
    http_server.answer.raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\nok\r\n0\r\n\r\n"
    )
    outcome = await run_probe(http(body_contains="ok"), port=http_server.port)
    assert not outcome.ok
    assert outcome.detail == f"bad response: bad chunk size {size!r}"
