"""A replica that cannot start is said on the terminal, not only recorded: `vigil up` with a
wrong binary or working directory used to print nothing (the escalated incident was in the
store, where a first-time user does not look). The log line names the replica, the command,
the OS error and where in the config to look (real Controller, real LocalBackend)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from vigil.model import ReplicaState

from ._support import TAG_ENV, eventually
from .conftest import StartController


async def test_a_replica_that_cannot_start_is_logged_with_its_command_error_and_config_place(
    start_controller: StartController, tag: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing_binary = str(tmp_path / "no-such-server")
    missing_dir = str(tmp_path / "no-such-dir")
    config = {
        "services": [
            {
                "name": "good",
                "command": [sys.executable, "-c", "import time; time.sleep(60)"],
                "env": {TAG_ENV: tag},
            },
            {"name": "bad-bin", "command": [missing_binary, "--port", "{port}"]},
            {"name": "bad-cwd", "command": [sys.executable, "-V"], "cwd": missing_dir},
        ]
    }
    caplog.set_level(logging.INFO)
    controller = await start_controller(config)

    def failed() -> bool:
        states = [controller.replicas(s)[0].state for s in ("bad-bin", "bad-cwd")]
        return all(s == ReplicaState.FAILED for s in states)

    await eventually(failed, 15, "both bad replicas failed", lambda: caplog.text)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    [binary] = [m for m in errors if "bad-bin/0" in m]
    assert "could not start" in binary
    assert f"{missing_binary} --port " in binary  # the command as run, {port} substituted
    assert "No such file or directory" in binary
    assert "services[1]" in binary
    [cwd] = [m for m in errors if "bad-cwd/0" in m]
    assert f"working directory {missing_dir}" in cwd
    assert "services[2]" in cwd
    assert not [m for m in errors if "good/0" in m]
