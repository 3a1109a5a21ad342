"""Serve the FastAPI app with uvicorn inside the controller's event loop, on a socket we bound.

The app is served behind :func:`vigil.api.with_lean_heartbeats`: agents' heartbeats (the one
request every node sends every second) are answered without going through FastAPI. In front of
both, :class:`BodyLimit` caps what one request body may hold in memory, per route: FastAPI
reads a body whole before it checks the token, so without it anyone who can reach the port could
make the controller hold any amount. Agents' bulk routes take up to :data:`MAX_BODY`, a log push
``logs.push_max_bytes``, every other route :data:`vigil.api._gzip.ROUTE_BODY` (1 MiB): a chunked
body of 64 MiB to a placement or a restart was read whole before the route refused it.

Used by :class:`vigil.daemon.Controller`. Signals stay with the controller (uvicorn's own handlers
are disabled), so one Ctrl-C shuts everything down in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.api import close_receiver, with_lean_heartbeats
from vigil.api._gzip import LOGS_PATH, body_limit, over, refuse, replay, replay_message
from vigil.api._metrics import LOG_ENDPOINTS
from vigil.daemon._server_stop import FORCE_AFTER, StopGate, force_close, stop_accepting

MAX_BODY = 64 * 1024 * 1024
"""Bytes one request body may hold: what a gzip body may already inflate to (the API's
``MAX_INFLATED``), so one cap holds whatever the encoding. An agent's log batch of 1,000
templates with 3 samples of 1 KiB each is ~4 MB. Agents' bulk routes only: a log push has its
own limit (``logs.push_max_bytes``), the other routes a much lower one."""

DRAIN_SECONDS = 10
"""How long :meth:`ApiServer.stop` lets requests in flight finish (their events reach the store)
before uvicorn cancels them: a shutdown is never held longer by a stuck client (whole seconds:
uvicorn's ``timeout_graceful_shutdown`` is typed int)."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class BodyLimit:
    """ASGI middleware: a request whose body is over its route's limit gets a 413 naming the
    limit, as soon as its declared length or the bytes read so far say so; the body is read here
    (at most that many bytes) and handed on whole. ``limit``: agents' bulk routes
    (:func:`vigil.api._gzip.body_limit`); ``push_limit``: a log push (``limit`` if None)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_BODY,
        push_limit: int | None = None,
        refused: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.push_limit = limit if push_limit is None else push_limit
        self._refused = refused  # told the path of each 413 (the API's log rejection count)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.push_limit if path == LOGS_PATH else body_limit(path, self.limit)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, path, limit)
                return
        first = await receive()
        if len(first.get("body", b"")) > limit:
            await self._refuse(send, path, limit)
            return
        if not first.get("more_body", False):  # the usual case: the body in one message
            await self.app(scope, replay_message(first, receive), send)
            return
        chunks = [first.get("body", b"")]
        size = len(chunks[0])
        message = first
        while message.get("more_body", False):
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, path, limit)  # the server discards the rest
                return
            chunks.append(chunk)
        await self.app(scope, replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send, path: str, limit: int) -> None:
        if self._refused is not None:
            self._refused(path)
        await refuse(send, 413, over(path, limit))


def _log_rejections(app: FastAPI) -> Callable[[str], None] | None:
    """Count a log push or batch refused here as the API counts those it refuses itself
    (``vigil_log_requests_rejected_total{endpoint, status="413"}``)."""
    metrics = getattr(app.state, "api_metrics", None)
    if metrics is None:
        return None

    def refused(path: str) -> None:
        endpoint = LOG_ENDPOINTS.get(path)
        if endpoint is not None:
            metrics.log_rejected.labels(endpoint, "413").inc()

    return refused


class ApiServer:
    def __init__(
        self,
        app: FastAPI,
        sock: socket.socket,
        *,
        max_body: int = MAX_BODY,
        max_push: int | None = None,
        drain: int | None = None,
    ) -> None:
        self._gate = StopGate(
            BodyLimit(with_lean_heartbeats(app), max_body, max_push, _log_rejections(app))
        )
        self._drain = DRAIN_SECONDS if drain is None else drain
        config = uvicorn.Config(
            self._gate,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=self._drain,
        )
        self._server = _Server(config)
        self._app = app
        self._sock = sock
        self._served = asyncio.Event()  # serve() returned: no request is in flight any more
        self._serving = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Nothing to do before serve(); kept so the controller can order startup explicitly."""

    async def serve(self) -> None:
        self._serving = True
        self._task = asyncio.current_task()
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            self._served.set()

    async def stop(self) -> None:
        """Stop accepting now, turn agents' batches away (:class:`StopGate`), let the requests
        in flight finish (at most ``drain`` seconds: uvicorn cancels them then) and only then
        return: the controller stops persisting events next, and a request still running then
        published events that were never stored. Bounded: past ``drain`` +
        :data:`FORCE_AFTER` seconds the server is closed by force (logged)."""
        self._gate.stopping = True
        self._server.should_exit = True
        stop_accepting(self._server)
        if self._serving:
            deadline = self._drain + FORCE_AFTER
            try:
                await asyncio.wait_for(asyncio.shield(self._served.wait()), deadline)
            except TimeoutError:
                await force_close(self._server, self._task, deadline)
        # the Alertmanager receiver's chunk in flight is written, and its events handed to the
        # loop, before the controller goes on to stop persisting events; its thread ends
        await asyncio.to_thread(close_receiver, self._app)

    def close(self) -> None:
        """Close the socket of a server that never served (startup failed after the bind)."""
        self._sock.close()
