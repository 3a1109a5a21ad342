"""A request in flight when the controller is told to stop is finished, and its events stored.

The controller told its API server to exit and went straight on to stop the event persister:
a request still being read or handled then published events nobody stored (an Alertmanager
notification found the receiver closed and was answered 503). Now the server stops accepting,
the requests in flight finish (bounded by ``DRAIN_SECONDS``), and only then does the persister
stop. A real controller, its real API server on a socket, a real SQLite store; the slow request
is a notification whose body arrives in two parts, the second after the stop began.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from ._support import GPU_FLEET, NOTIFICATION
from .conftest import OPERATOR, StartController


async def test_a_request_in_flight_at_stop_is_answered_and_its_events_stored(
    start_controller: StartController,
) -> None:
    controller = await start_controller(GPU_FLEET)
    body = json.dumps(NOTIFICATION).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", controller.api_port)
    writer.write(
        b"POST /api/v1/alerts/alertmanager HTTP/1.1\r\nHost: vigil\r\n"
        b"Content-Type: application/json\r\n"
        + f"Authorization: Bearer {OPERATOR}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    await writer.drain()
    await asyncio.sleep(0.5)  # the server (on this loop) accepts and reads the first part
    stopping = asyncio.create_task(start_controller.stop(controller))
    await asyncio.sleep(1.0)  # the shutdown goes as far as it will while the body is unfinished
    assert not stopping.done()  # the request in flight holds it
    writer.write(body[10:])
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    await stopping
    assert status.startswith(b"HTTP/1.1 200"), status
    kinds = {e.kind for e in controller.store.list_events(subject="node:gpu-01").items}
    assert {"finding.raised", "incident.changed"} <= kinds


async def test_a_client_that_never_finishes_its_request_holds_the_stop_only_for_the_drain(
    start_controller: StartController, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vigil.daemon._server.DRAIN_SECONDS", 1)
    controller = await start_controller({"nodes": [{"name": "local"}]})
    reader, writer = await asyncio.open_connection("127.0.0.1", controller.api_port)
    writer.write(
        b"POST /api/v1/alerts/alertmanager HTTP/1.1\r\nHost: vigil\r\n"
        + f"Authorization: Bearer {OPERATOR}\r\nContent-Length: 100\r\n\r\n".encode()
        + b'{"version"'
    )
    await writer.drain()
    await asyncio.sleep(0.5)  # accepted and partly read by the server on this loop
    await start_controller.stop(controller)  # returns (within its 30 s): the request cancelled
    answer = await reader.read()  # cancelled: uvicorn answers 500, or closes
    assert answer == b"" or answer.startswith(b"HTTP/1.1 500"), answer
    writer.close()
