"""The API server's stop is bounded: agents' batches are turned away once it stops, and a server
that never gets to its own shutdown is closed by force at the deadline (logged).

Under agents' heavy heartbeats the controller's loop was so busy ingesting them that uvicorn's
main loop looked at ``should_exit`` 22 to 44 s after the stop (``bench/slow_controller.py``);
here a main loop that never looks stands for it, with no timing assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest

from vigil.daemon._server_stop import StopGate

from .conftest import StartController


async def _call(gate: StopGate, method: str, path: str) -> tuple[int, list[str]]:
    """One request through ``gate``: the status answered and the paths the app was given."""
    seen: list[str] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body of a turned-away request is read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    gate.app = app
    scope = {"type": "http", "method": method, "path": path, "headers": []}
    await gate(scope, receive, send)
    return sent[0]["status"], seen


async def test_a_stopping_server_turns_agents_batches_away_unread_and_serves_the_rest() -> None:
    gate = StopGate(app=None)  # type: ignore[arg-type]
    assert await _call(gate, "POST", "/api/v1/heartbeats") == (200, ["/api/v1/heartbeats"])
    gate.stopping = True
    for path in ("/api/v1/heartbeats", "/api/v1/samples", "/api/v1/logs/batches"):
        assert await _call(gate, "POST", path) == (503, [])  # 503: agents keep their data
    assert await _call(gate, "GET", "/api/v1/nodes") == (200, ["/api/v1/nodes"])


async def test_a_server_that_never_gets_to_its_shutdown_is_closed_by_force_at_the_deadline(
    start_controller: StartController,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def busy_main_loop(self: Any) -> None:  # never looks at should_exit
        await asyncio.Event().wait()

    monkeypatch.setattr("vigil.daemon._server.DRAIN_SECONDS", 1)
    monkeypatch.setattr("vigil.daemon._server._Server.main_loop", busy_main_loop)
    controller = await start_controller({"nodes": [{"name": "local"}]})
    reader, writer = await asyncio.open_connection("127.0.0.1", controller.api_port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: vigil\r\n\r\n")
    await writer.drain()
    assert (await asyncio.wait_for(reader.readline(), 30)).startswith(b"HTTP/1.1 ")
    caplog.set_level(logging.ERROR, "vigil.daemon")
    await start_controller.stop(controller)  # before: waited for serve() forever (30 s guard)
    forced = [r.getMessage() for r in caplog.records if "by force" in r.getMessage()]
    assert len(forced) == 1, forced
    assert forced[0].startswith("the API server did not stop within 3s: closing it by force")
    # the keep-alive connection is closed (aborted): the rest of the answer, then the end
    with contextlib.suppress(ConnectionResetError):
        await asyncio.wait_for(reader.read(), 30)
    writer.close()
    with pytest.raises(OSError):  # nothing listens any more
        await asyncio.open_connection("127.0.0.1", controller.api_port)
