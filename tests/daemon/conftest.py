"""Fixtures for the end-to-end daemon tests: a test tag, in-process controllers, `vigil up`;
and ``store`` (a SQLite store in tmp_path, from tests/_log_pipeline.py) for the log pipeline's.

Teardown never leaves a process behind: controllers are stopped (hung replicas are continued
first so they can stop), then everything carrying the test's tag is killed.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _log_pipeline import store
from vigil.daemon import Controller
from vigil.settings import Settings

from ._support import VigilUp, kill_tagged, signal_all, tagged

ADMIN = "admin-" + secrets.token_urlsafe(16)
OPERATOR = "operator-" + secrets.token_urlsafe(16)
VIEWER = "viewer-" + secrets.token_urlsafe(16)

__all__ = ["store"]  # a fixture from tests/_log_pipeline.py, registered for this directory

API_TOKENS = [
    {"name": "root", "role": "admin", "token": ADMIN},
    {"name": "alice", "role": "operator", "token": OPERATOR},
    {"name": "bob", "role": "viewer", "token": VIEWER},
]


@pytest.fixture
def tag() -> Iterator[str]:
    """The marker every process of this test carries; whatever still carries it is killed."""
    value = f"t-{uuid.uuid4().hex[:12]}"
    yield value
    kill_tagged(value)
    assert tagged(value) == [], "a process of the test survived teardown"


class StartController:
    """Starts Controllers in this event loop from a settings dict (API on a free port)."""

    def __init__(self, tmp_path: Path, tag: str) -> None:
        self.tmp_path = tmp_path
        self.tag = tag
        self.running: dict[int, tuple[Controller, asyncio.Task[None]]] = {}

    async def __call__(self, config: dict[str, Any]) -> Controller:
        settings = Settings.model_validate(
            {"data_dir": str(self.tmp_path / "data"), "api": {"port": 0, "tokens": API_TOKENS}}
            | config
        )
        controller = Controller(settings, base_dir=self.tmp_path)
        task = asyncio.create_task(controller.run())
        ready = asyncio.create_task(controller.started.wait())
        await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not controller.started.is_set():
            ready.cancel()
            task.cancel()
            raise AssertionError(f"controller did not start: {task!r}")
        self.running[id(controller)] = (controller, task)
        return controller

    async def stop(self, controller: Controller) -> None:
        """Stop the controller as Ctrl-C would and wait until its run() has returned."""
        controller, task = self.running.pop(id(controller))
        # a SIGSTOPped replica must be able to receive its SIGTERM
        signal_all([p.pid for p in tagged(self.tag)], signal.SIGCONT)
        controller.stop()
        await asyncio.wait_for(task, 30)

    async def close(self) -> None:
        for controller, _ in list(self.running.values()):
            await self.stop(controller)


@pytest.fixture
async def start_controller(tmp_path: Path, tag: str) -> AsyncIterator[StartController]:
    starter = StartController(tmp_path, tag)
    yield starter
    await starter.close()


@pytest.fixture
def vigil_up(tmp_path: Path, tag: str) -> Iterator[Callable[[Path], VigilUp]]:
    """Start `vigil up -c CONFIG` subprocesses; all are killed at teardown."""
    started: list[VigilUp] = []

    def start(config: Path, *args: str) -> VigilUp:
        proc = VigilUp(config, tag, tmp_path / "vigil-up.log", *args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.send_signal(signal.SIGTERM)
            try:
                proc.proc.wait(timeout=20)
            except Exception:
                proc.close()
        proc.close()
