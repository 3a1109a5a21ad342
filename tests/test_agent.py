"""The node agent against a server that is not a Vigil controller: it keeps beating, says so."""

from __future__ import annotations

import asyncio
import logging

import pytest

from vigil.agent import Agent
from vigil.collectors import Sample


class One:
    """A metric source: one sample per collect."""

    def __init__(self) -> None:
        self.n = 0

    def collect(self) -> list[Sample]:
        self.n += 1
        return [Sample.of("test.one", 1.0, 1000.0 + self.n, {})]


async def _server(body: bytes, content_type: str) -> tuple[asyncio.Server, list[bytes]]:
    """A real HTTP server answering 200 with ``body`` to every request; the request lines."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            seen.append(head.split(b"\r\n")[0])
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: "
                + content_type.encode()
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0), seen


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Welcome to nginx!</body></html>", "text/html"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"interval": "soon", "samples_rejected": "many"}', "application/json"),
    ],
    ids=["html", "json-list", "json-wrong-types"],
)
async def test_an_answer_that_is_not_the_controllers_fails_the_beat_not_the_agent(
    body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A 200 whose body is not JSON (the URL points at another web server, a captive proxy)
    # raised out of beat(): the agent process died on its first heartbeat.
    server, seen = await _server(body, content_type)
    port = server.sockets[0].getsockname()[1]
    agent = Agent(
        f"http://127.0.0.1:{port}", "n1", "tok", interval=0.1, metrics=[One()], metrics_every=0
    )
    caplog.set_level(logging.WARNING, logger="vigil.agent")
    try:
        await agent.run(count=3)
    finally:
        server.close()
        await server.wait_closed()
    assert len(seen) == 3  # every beat went out
    assert agent.interval == 0.1  # not changed by the odd answer
    if body.startswith(b"{"):  # a JSON object: taken as an answer, its odd fields ignored
        assert (agent.sent, agent.failed, agent.pushed) == (3, 0, 3)
        return
    assert (agent.sent, agent.failed, agent.pushed) == (0, 3, 0)
    assert agent.buffered == 3  # kept, as when the controller cannot be reached (bounded)
    said = [r.getMessage() for r in caplog.records]
    assert any("is not a Vigil controller's" in m for m in said), said
