"""Whole plain responses taken without the upstream parser (``_http_whole``), on the wire: for
each kind of upstream answer, the client gets exactly the bytes it gets from the parser's path
(the same proxy with the whole-response path switched off), over two requests on one client
connection (so a desync or a wrongly reused upstream connection shows in the second answer);
compiled, the answers the check takes are taken (from source the parser reads every response),
and every other one — a body or head split over reads, bytes after the body, a HEAD's answer,
204, 304, a 1xx before the answer, ``Retry-After``, no length, two lengths — is left to the
parser. Chunked answers too: whole in one read, or a stream's head and first events in one read
and the rest later (whole chunks, a chunk split over reads, a trailer, the upstream's
``Connection: close``: the parser fed a head of the same framing when it must take over).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import pytest

from vigil.balancer._proxy_upstream import WHOLE_RESPONSES

from ._routers import RoundRobinRouter, upstream
from ._upstreams import proxying

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
)
# a token stream's head (SSE) and one event, as uvicorn, Node.js or nginx frame them
STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
EVENT = b'21\r\ndata: {"token": 1, "text": "a"}\n\n\r\n'
GET = b"GET / HTTP/1.1\r\nHost: svc\r\n\r\n"
HEAD = b"HEAD / HTTP/1.1\r\nHost: svc\r\n\r\n"
GET10 = b"GET / HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\n"
GET10_CLOSE = b"GET / HTTP/1.0\r\nHost: svc\r\n\r\n"
_PROXY_ID = re.compile(rb"X-Request-Id: [0-9a-f]{16,}\r\n")


@dataclass
class Case:
    """Two client requests; the upstream answers the i-th request it reads with ``answers[i]``
    (a list: pieces written 30 ms apart, separate reads), then closes if ``close_after``."""

    requests: tuple[bytes, bytes]
    answers: tuple[list[bytes], list[bytes]]
    taken: int  # responses the compiled build takes whole
    close_after: bool = False
    note: str = ""
    seen: list[bytes] = field(default_factory=list)


def _one(answer: bytes) -> tuple[list[bytes], list[bytes]]:
    return [answer], [answer]


CASES = {
    "nginx, twice": Case((GET, GET), _one(NGINX), 2),
    "upstream Connection: close": Case(
        (GET, GET), _one(NGINX.replace(b"keep-alive", b"close")), 2, close_after=True
    ),
    "upstream request id": Case(
        (GET, GET), _one(NGINX.replace(b"Connection: keep-alive", b"X-Request-Id: up-1")), 2
    ),
    "HTTP/1.0 client, kept alive": Case((GET10, GET10), _one(NGINX), 2),
    "HTTP/1.0 client, closed": Case((GET10_CLOSE, GET), _one(NGINX), 2),
    "body over two reads": Case((GET, GET), ([NGINX[:-1], NGINX[-1:]], [NGINX]), 1),
    "head over two reads": Case((GET, GET), ([NGINX[:40], NGINX[40:]], [NGINX]), 1),
    "bytes after the body": Case((GET, GET), ([NGINX + b"HTTP/1.1 200 OK\r\n"], [NGINX]), 1),
    "a second response after the body": Case((GET, GET), ([NGINX + NGINX], [NGINX]), 1),
    "HEAD, no body": Case((HEAD, GET), ([NGINX[:-2]], [NGINX]), 1),
    "HEAD, the body sent anyway": Case((HEAD, GET), ([NGINX], [NGINX]), 1),
    "HEAD, length 0": Case(
        (HEAD, GET), ([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], [NGINX]), 1
    ),
    "204 with a length": Case(
        (GET, GET), ([b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"], [NGINX]), 1
    ),
    "304": Case((GET, GET), ([b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"], [NGINX]), 1),
    "100 before the answer, one read": Case(
        (GET, GET), ([b"HTTP/1.1 100 Continue\r\n\r\n" + NGINX], [NGINX]), 1
    ),
    "100 before the answer, apart": Case(
        (GET, GET), ([b"HTTP/1.1 100 Continue\r\n\r\n", NGINX], [NGINX]), 2
    ),
    "503 with Retry-After": Case(
        (GET, GET),
        ([b"HTTP/1.1 503 Busy\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n"], [NGINX]),
        1,
    ),
    "chunked": Case(
        (GET, GET),
        ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"], [NGINX]),
        2,
    ),
    "chunked, twice": Case((GET, GET), _one(STREAM + EVENT + EVENT + b"0\r\n\r\n"), 2),
    "a stream: head and event, events, the end": Case(
        (GET, GET), ([STREAM + EVENT, EVENT, EVENT, b"0\r\n\r\n"], [NGINX]), 2
    ),
    "a stream: the head alone, then events with the end": Case(
        (GET, GET), ([STREAM, EVENT, EVENT + b"0\r\n\r\n"], [NGINX]), 2
    ),
    "a stream, then a chunk split over reads": Case(
        (GET, GET), ([STREAM + EVENT, EVENT[:7], EVENT[7:] + b"0\r\n\r\n"], [NGINX]), 2
    ),
    "a stream ending with a trailer": Case(
        (GET, GET), ([STREAM + EVENT, b"0\r\nX-Sum: 1\r\n\r\n"], [NGINX]), 2
    ),
    "a stream with a chunk extension": Case(
        (GET, GET), ([STREAM + EVENT, b"3;x=y\r\nabc\r\n0\r\n\r\n"], [NGINX]), 2
    ),
    "a stream, upstream Connection: close": Case(
        (GET, GET),
        _one(STREAM.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + EVENT + b"0\r\n\r\n"),
        2,
        close_after=True,
    ),
    "a stream, upstream Connection: close, a trailer": Case(
        (GET, GET),
        (
            [
                STREAM.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + EVENT,
                b"0\r\nX-Sum: 1\r\n\r\n",
            ],
            [NGINX],
        ),
        2,
    ),
    "a stream's first read with a chunk cut": Case(
        (GET, GET), ([STREAM + EVENT[:7], EVENT[7:], b"0\r\n\r\n"], [NGINX]), 1
    ),
    "a stream's 500": Case(
        (GET, GET), _one(STREAM.replace(b"200 OK", b"500 Oops") + EVENT + b"0\r\n\r\n"), 2
    ),
    "a stream to an HTTP/1.0 client": Case(
        (GET10, GET10), ([STREAM + EVENT, b"0\r\n\r\n"], [NGINX]), 1
    ),
    "a stream's head to HEAD": Case((HEAD, GET), ([STREAM], [NGINX]), 1),
    "a stream with upper-case sizes": Case(
        (GET, GET), ([STREAM + b"A\r\n0123456789\r\n", b"0\r\n\r\n"], [NGINX]), 1
    ),
    "a stream, then bytes after its end": Case(
        (GET, GET), ([STREAM + EVENT, b"0\r\n\r\nHTTP/1.1 200 OK\r\n"], [NGINX]), 2
    ),
    "no length (to the close)": Case(
        (GET, GET), ([b"HTTP/1.1 200 OK\r\nServer: t\r\n\r\nok"], [NGINX]), 1, close_after=True
    ),
    "two lengths": Case(
        (GET, GET), _one(NGINX.replace(b"Server: nginx/1.22.1", b"Content-Length: 2")), 0
    ),
    "length and chunked": Case(
        (GET, GET),
        _one(NGINX.replace(b"Server: nginx/1.22.1", b"Transfer-Encoding: chunked")),
        0,
    ),
    "NUL in a value": Case((GET, GET), _one(NGINX.replace(b"nginx/", b"nginx\x00")), 0),
    "obs-text in a value": Case((GET, GET), _one(NGINX.replace(b"nginx/", b"nginx\xe9")), 0),
    "a length too short for the read": Case(
        (GET, GET), ([NGINX.replace(b"Length: 2", b"Length: 1")], [NGINX]), 1
    ),
}


async def _serve(case: Case, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            case.seen.append(head)
            pieces = case.answers[min(len(case.seen), 2) - 1]
            for i, piece in enumerate(pieces):
                if i:
                    await writer.drain()
                    await asyncio.sleep(0.03)
                writer.write(piece)
            await writer.drain()
            if case.close_after:
                return
    finally:
        writer.close()


async def _answer(reader: asyncio.StreamReader, request: bytes) -> bytes:
    """One answer as the client reads it, raw (the proxy's request ids masked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    low = head.lower()
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"\r\ncontent-length: *(\d+)", low)
    if request.startswith(b"HEAD") or status in (204, 304):
        body = b""
    elif length is not None:
        body = await reader.readexactly(int(length.group(1)))
    elif b"\r\ntransfer-encoding: chunked" in low:
        body = b""
        while not body.endswith(b"0\r\n\r\n"):
            body += await reader.readuntil(b"\r\n")
    else:
        body = await reader.read()  # to the close
    return _PROXY_ID.sub(b"X-Request-Id: *\r\n", head) + body


async def _run(case: Case, whole: bool) -> tuple[list[bytes], int, int]:
    """The client's two answers, the upstream connections opened, the responses taken whole."""
    case.seen = []
    tasks: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        await _serve(case, reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        router = RoundRobinRouter([upstream("a", port)])
        async with proxying(router) as (proxy, proxy_port):
            pool = proxy.state.pool  # type: ignore[attr-defined]
            pool.whole = pool.whole and whole
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            got = []
            for request in case.requests:
                if reader.at_eof():
                    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
                writer.write(request)
                got.append(await asyncio.wait_for(_answer(reader, request), 5))
                await asyncio.sleep(0.05)  # a stray byte's abort is read before the next one
            writer.close()
            taken = pool.taken_whole
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return got, len(tasks), taken


@pytest.mark.parametrize("name", list(CASES))
async def test_the_client_gets_the_parsers_bytes_and_whole_answers_are_taken(name: str) -> None:
    case = CASES[name]
    parsed, parsed_connections, none = await _run(case, whole=False)
    got, connections, taken = await _run(case, whole=True)
    assert none == 0
    assert got == parsed
    assert connections == parsed_connections
    assert taken == (case.taken if WHOLE_RESPONSES else 0)


async def test_a_taken_answer_is_the_nginx_head_with_the_proxys_id_and_the_body() -> None:
    got, connections, _ = await _run(CASES["nginx, twice"], whole=True)
    expected = (
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\nX-Request-Id: *\r\n\r\nok"
    )
    assert got == [expected, expected]
    assert connections == 1  # kept alive and reused


async def test_a_head_answer_sent_with_a_body_never_gives_the_client_its_bytes() -> None:
    got, connections, _ = await _run(CASES["HEAD, the body sent anyway"], whole=True)
    assert got[0].endswith(b"\r\n\r\n") and b"ok" not in got[0].split(b"\r\n\r\n")[1]
    assert got[1].endswith(b"\r\n\r\nok") and got[1].startswith(b"HTTP/1.1 200 OK")
    assert connections == 2  # the HEAD's connection is not reused (its parser saw a body)
