"""End to end: the controller's API holds at most a bounded request body in memory.

A real controller serves the API on a real socket. A body beyond its route's cap (``MAX_BODY``,
the size a gzip body may already inflate to, on agents' bulk routes; ``ROUTE_BODY`` on the
others; ``logs.push_max_bytes`` for a log push) is answered 413 whoever sends it, before the body
is read whole: an agent's log batch, a heartbeat, a restart, or a request with no token. A
chunked body to a placement was read whole, up to 64 MiB, before the route looked at it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from vigil.api._gzip import ROUTE_BODY
from vigil.daemon._server import MAX_BODY

from .conftest import OPERATOR, StartController

CHUNK = b"x" * (1024 * 1024)


async def endless(total: int) -> AsyncIterator[bytes]:
    """A streamed (chunked) body of ``total`` bytes: no Content-Length to refuse it by."""
    for _ in range(total // len(CHUNK)):
        yield CHUNK


def declare(port: int, path: str, headers: dict[str, str], cap: int) -> tuple[int, str]:
    """Send only the head of a request declaring a body over the cap; the answer's status and
    body (the socket's timeout only keeps a broken server from hanging the test)."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {cap + 1}"]
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


PUSH_MAX = 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "token", "cap"),
    [
        ("/api/v1/logs/batches", None, MAX_BODY),
        ("/api/v1/logs/batches", OPERATOR, MAX_BODY),
        ("/api/v1/heartbeats", None, MAX_BODY),
        ("/api/v1/logs", OPERATOR, PUSH_MAX),
        ("/api/v1/replicas/llm/0/restart", OPERATOR, ROUTE_BODY),
        ("/api/v1/placements", None, ROUTE_BODY),
        ("/api/v1/placements", OPERATOR, ROUTE_BODY),
        ("/api/v1/replicas/llm/0/balancer", OPERATOR, ROUTE_BODY),
        ("/auto_maintain", OPERATOR, ROUTE_BODY),
    ],
)
async def test_a_body_over_the_cap_is_a_413_naming_the_cap_on_every_endpoint(
    start_controller: StartController, path: str, token: str | None, cap: int
) -> None:
    controller = await start_controller({"logs": {"push_max_bytes": PUSH_MAX}})
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        streamed = await http.post(path, content=endless(cap + 8 * len(CHUNK)), headers=headers)
    assert streamed.status_code == 413, streamed.text
    assert f"{cap} bytes, the most {path} takes" in streamed.json()["detail"]
    # a declared length over the cap is answered at once, before any of the body is sent
    status, detail = await asyncio.to_thread(declare, controller.api_port, path, headers, cap)
    assert status == 413 and f"{cap} bytes" in detail
    # the server is still there for honest requests
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_gzip_bodies_pass_on_a_small_route_within_its_cap_and_are_refused_beyond(
    start_controller: StartController,
) -> None:
    controller = await start_controller({})
    url = f"http://127.0.0.1:{controller.api_port}"
    headers = {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "Authorization": f"Bearer {OPERATOR}",
    }
    path = "/api/v1/placements"
    # 300 KB inflated, under the cap: placed (200) or no node fits (409), the route answers
    honest = gzip.compress(json.dumps({"labels": {"pad": "x" * 300_000}}).encode())
    # a few KB that inflate past the route's cap: refused while inflating
    bomb = gzip.compress(json.dumps({"labels": {"pad": "x" * (ROUTE_BODY + 10)}}).encode())
    assert len(bomb) < ROUTE_BODY
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        passed = await http.post(path, content=honest, headers=headers)
        refused = await http.post(path, content=bomb, headers=headers)
    assert passed.status_code in (200, 409), passed.text
    assert refused.status_code == 413, refused.text
    assert f"inflates to more than {ROUTE_BODY} bytes" in refused.json()["detail"]
