"""Serve the FastAPI app with uvicorn inside the controller's event loop, on a socket we bound.

The app is served behind :func:`vigil.api.with_lean_heartbeats`: agents' heartbeats (the one
request every node sends every second) are answered without going through FastAPI.

Used by :class:`vigil.daemon.Controller`. Signals stay with the controller (uvicorn's own handlers
are disabled), so one Ctrl-C shuts everything down in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from vigil.api import with_lean_heartbeats


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        config = uvicorn.Config(
            with_lean_heartbeats(app), log_level="warning", lifespan="off", access_log=False
        )
        self._server = _Server(config)
        self._sock = sock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Nothing to do before serve(); kept so the controller can order startup explicitly."""

    async def serve(self) -> None:
        await self._server.serve(sockets=[self._sock])

    async def stop(self) -> None:
        self._server.should_exit = True

    def close(self) -> None:
        """Close the socket of a server that never served (startup failed after the bind)."""
        self._sock.close()
