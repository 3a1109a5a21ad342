"""End to end: the controller's API holds at most a bounded request body in memory.

A real controller serves the API on a real socket. A body beyond the cap (``MAX_BODY``, the size
a gzip body may already inflate to) is answered 413 whoever sends it and whatever the endpoint,
before the body is read whole: an agent's log batch, a heartbeat, or a request with no token.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from vigil.daemon._server import MAX_BODY

from .conftest import OPERATOR, StartController

CHUNK = b"x" * (1024 * 1024)


async def endless(total: int) -> AsyncIterator[bytes]:
    """A streamed (chunked) body of ``total`` bytes: no Content-Length to refuse it by."""
    for _ in range(total // len(CHUNK)):
        yield CHUNK


def declare(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """Send only the head of a request declaring a body over the cap; the answer's status and
    body (the socket's timeout only keeps a broken server from hanging the test)."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {MAX_BODY + 1}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status_line, _, rest = answer.decode().partition("\r\n")
    return int(status_line.split()[1]), rest.partition("\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/api/v1/logs/batches", None),
        ("/api/v1/logs/batches", OPERATOR),
        ("/api/v1/heartbeats", None),
        ("/api/v1/replicas/llm/0/restart", OPERATOR),
    ],
)
async def test_a_body_over_the_cap_is_a_413_naming_the_cap_on_every_endpoint(
    start_controller: StartController, path: str, token: str | None
) -> None:
    controller = await start_controller({})
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        streamed = await http.post(
            path, content=endless(MAX_BODY + 8 * len(CHUNK)), headers=headers
        )
    assert streamed.status_code == 413, streamed.text
    assert f"{MAX_BODY} bytes" in streamed.json()["detail"]
    # a declared length over the cap is answered at once, before any of the body is sent
    status, detail = await asyncio.to_thread(declare, controller.api_port, path, headers)
    assert status == 413 and f"{MAX_BODY} bytes" in detail
    # the server is still there for honest requests
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        assert (await http.get("/healthz")).status_code == 200
