"""A bounded stop for the controller's API server: agents' batches are turned away once it
stops, and a server that has not finished by its deadline is closed by force (logged).

Used by :class:`vigil.daemon._server.ApiServer`: :class:`StopGate` is the outermost ASGI layer,
:func:`force_close` ends what uvicorn left running.

Why: ``ApiServer.stop`` set uvicorn's ``should_exit`` and waited for ``serve()``; uvicorn looks
at that flag every 0.1 s of its main loop, and only then stops accepting and starts its drain
(``timeout_graceful_shutdown``). Under agents' heavy heartbeats the same event loop was busy
ingesting them, so that 0.1 s sleep took tens of seconds: 22 to 44 s to stop with 10 agents
sending after a 4 s stall (``bench/slow_controller.py``; ``tests/daemon`` aborted such a stop at
30 s). Now the stop stops accepting at once, answers the heartbeats, sample pushes and log
batches that still arrive 503 without reading them (agents keep their data: 503 is "not taken"
to them, :data:`vigil.agent.NOT_TAKEN`), and ends at ``drain + FORCE_AFTER`` seconds whatever
uvicorn does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.api._gzip import BULK_PATHS, refuse

log = logging.getLogger("vigil.daemon")

FORCE_AFTER = 2.0
"""Seconds past the drain (``timeout_graceful_shutdown``) before the server is closed by force:
uvicorn's own shutdown takes ~0.1 s once it runs, so this is only reached when it never got to."""


class StopGate:
    """ASGI middleware: once :attr:`stopping`, agents' bulk requests (heartbeats, sample pushes,
    log pushes and batches) get a 503 and are not read; anything else goes on, so a user's
    request in flight still finishes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.stopping = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.stopping and scope["type"] == "http" and scope["path"] in BULK_PATHS:
            await refuse(send, 503, "the controller is stopping: send it again later")
            return
        await self.app(scope, receive, send)


def stop_accepting(server: Any) -> None:
    """Close uvicorn's listening servers now, not at its main loop's next look at
    ``should_exit`` (which a busy loop delays)."""
    for listener in getattr(server, "servers", ()):
        listener.close()


async def force_close(server: Any, serving: asyncio.Task[Any] | None, waited: float) -> None:
    """End what a uvicorn server still runs after ``waited`` seconds: its request tasks are
    cancelled, its connections aborted and ``serving`` (the task of its ``serve()``) cancelled
    and awaited. Logged as an error: a stop that needs this lost requests in flight."""
    state = server.server_state
    log.error(
        "the API server did not stop within %gs: closing it by force (%d requests in flight, "
        "%d connections)",
        waited,
        len(state.tasks),
        len(state.connections),
    )
    server.force_exit = True
    for task in list(state.tasks):
        task.cancel()
    for connection in list(state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.abort()
    if serving is not None and serving is not asyncio.current_task():
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
