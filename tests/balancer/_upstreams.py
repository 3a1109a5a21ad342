"""Real upstream servers and a raw HTTP client for the proxy tests (asyncio streams, no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from vigil.balancer.proxy import Proxy, ProxySettings

from ._routers import RoundRobinRouter, upstream


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[bool | None]]


async def read_head(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    pairs = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            pairs.append((name.strip(), value.strip()))
    return lines[0], pairs


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return body
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0"))
    return await reader.readexactly(length) if length else b""


class TestUpstream:
    """An HTTP/1.1 server whose answer is a handler; counts connections and keeps requests."""

    __test__ = False

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[Received] = []
        self.closed_by_peer = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    line, pairs = await read_head(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.closed_by_peer.set()
                    return
                method, path, _ = line.split(" ", 2)
                headers = {k.lower(): v for k, v in pairs}
                body = await read_body(reader, headers)
                request = Received(method, path, headers, pairs, body)
                self.requests.append(request)
                if await self.handler(request, writer) is False:
                    return
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.closed_by_peer.set()
        except asyncio.CancelledError:
            pass  # the test's loop is closing
        finally:
            writer.close()


# -- handlers ------------------------------------------------------------------------------------
def fixed(body: bytes = b"hello", status: int = 200, headers: str = "") -> Handler:
    async def handle(req: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n%s"
            % (status, len(body), headers.encode(), body if req.method != "HEAD" else b"")
        )

    return handle


async def echo(req: Received, writer: asyncio.StreamWriter) -> None:
    """Answers the request body back, chunked in two pieces."""
    half = len(req.body) // 2
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in (req.body[:half], req.body[half:]):
        if piece:
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    writer.write(b"0\r\n\r\n")


def sse(events: int, delay: float, first_seen: asyncio.Event | None = None) -> Handler:
    """Server-Sent Events, chunked, one event per ``delay``; with ``first_seen`` the second event
    waits until the test's client has received the first (and records whether it had to)."""

    async def handle(req: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for i in range(events):
            event = b"data: token %d\n\n" % i
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            if i == 0 and first_seen is not None:
                await asyncio.wait_for(first_seen.wait(), 5.0)
            await asyncio.sleep(delay)
        writer.write(b"0\r\n\r\n")

    return handle


def slow_first_byte(delay: float) -> Handler:
    async def handle(req: Received, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate")

    return handle


async def garbage(req: Received, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"this is not http at all\r\n\r\n")
    await writer.drain()
    return False


async def close_before_response(req: Received, writer: asyncio.StreamWriter) -> bool:
    return False


def partial_then_close(first: bytes) -> Handler:
    async def handle(req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + first)
        await writer.drain()
        await asyncio.sleep(0.05)
        return False

    return handle


@dataclass
class Stream:
    """A never-ending stream; ``cancelled`` is set when the proxy closes the connection."""

    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, req: Received, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for i in range(10_000):
                event = b"data: %d\n\n" % i
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
                await asyncio.sleep(0.01)
        except ConnectionError:
            self.cancelled.set()
        return False


# -- client --------------------------------------------------------------------------------------
@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader, method: str = "GET") -> Response:
    line, pairs = await read_head(reader)
    status = int(line.split(" ")[1])
    headers = {k.lower(): v for k, v in pairs}
    if method == "HEAD" or status in (204, 304):
        return Response(status, headers, b"")
    if "content-length" in headers or "transfer-encoding" in headers:
        return Response(status, headers, await read_body(reader, headers))
    return Response(status, headers, await reader.read())


async def roundtrip(port: int, raw: bytes, method: str = "GET") -> Response:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        return await asyncio.wait_for(read_response(reader, method), 10.0)
    finally:
        writer.close()


# -- running things ------------------------------------------------------------------------------
@asynccontextmanager
async def serving(*handlers: Handler) -> AsyncIterator[list[TestUpstream]]:
    """Start one upstream per handler; stop them all afterwards."""
    ups = [TestUpstream(h) for h in handlers]
    for up in ups:
        await up.start()
    try:
        yield ups
    finally:
        for up in ups:
            await up.stop()


@asynccontextmanager
async def proxying(router: object, **kwargs: object) -> AsyncIterator[tuple[Proxy, int]]:
    """A started proxy over ``router`` (settings given as keyword arguments)."""
    metrics = kwargs.pop("metrics", None)
    settings = ProxySettings(**kwargs)  # type: ignore[arg-type]
    proxy = Proxy(router, settings=settings, metrics=metrics)  # type: ignore[arg-type]
    port = await proxy.start("127.0.0.1", 0)
    try:
        yield proxy, port
    finally:
        await proxy.stop(0.5)


async def until_no_client(proxy: Proxy) -> None:
    """Wait (at most 5 s) until ``proxy`` holds no client connection: it reads each client's
    close in its own time."""
    for _ in range(500):
        if not proxy.state.clients:
            return
        await asyncio.sleep(0.01)


async def through_one_upstream(raw: bytes) -> tuple[Response, TestUpstream]:
    """``raw`` sent through a proxy to one upstream that answers 200 ``up``: the response, and
    the upstream (its ``requests`` are what was forwarded). Both are stopped on return."""
    async with serving(fixed(b"up")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            return await roundtrip(port, raw), up
