"""Fixtures for the CLI tests: run `vigil ...` as a real subprocess, and one running `vigil up`.

Every process started here carries ``VIGIL_TEST_TAG=<tag>`` (replicas inherit it from `vigil
up`); teardown kills whatever still carries it, so no test leaves a process behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import yaml

VIGIL = str(Path(sys.executable).with_name("vigil"))
TAG_ENV = "VIGIL_TEST_TAG"
UP_LINE = re.compile(r"controller up, API on (http://[0-9.]+:\d+)")
ADMIN = "cli-admin-" + secrets.token_urlsafe(16)
VIEWER = "cli-viewer-" + secrets.token_urlsafe(16)


def tagged(tag: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.pid != os.getpid() and proc.environ().get(TAG_ENV) == tag:
                found.append(proc)
    return found


def kill_tagged(tag: str) -> None:
    victims = tagged(tag)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(victims, timeout=10)


def wait_until(predicate: Callable[[], Any], within: float, what: str, state: Any = None) -> Any:
    deadline = time.monotonic() + within
    while not (value := predicate()):
        if time.monotonic() > deadline:
            shown = state() if callable(state) else state
            raise AssertionError(f"not {what} within {within:g} s; last state: {shown!r}")
        time.sleep(0.05)
    return value


@dataclass
class Cli:
    """Runs `vigil ARGS` in ``cwd`` with the test's tag; no terminal, as in CI or a pipe."""

    cwd: Path
    tag: str

    def __call__(
        self, *args: str, columns: int | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """``columns``: the terminal width Rich lays tables out for (default: Rich's 80)."""
        env = {**os.environ, TAG_ENV: self.tag}
        for name in ("VIGIL_URL", "VIGIL_TOKEN", "COLUMNS"):
            env.pop(name, None)
        if columns is not None:
            env["COLUMNS"] = str(columns)
        return subprocess.run(
            [VIGIL, *args],
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    tag = f"cli-{uuid.uuid4().hex[:12]}"
    yield Cli(tmp_path, tag)
    kill_tagged(tag)


def write_config(path: Path, tag: str, *, replicas: int = 1) -> Path:
    server = [sys.executable, "-m", "vigil.demo.model_server", "--port", "{port}"]
    config = {
        "data_dir": "data",
        "api": {
            "host": "127.0.0.1",
            "port": 0,
            "tokens": [
                {"name": "root", "role": "admin", "token": ADMIN},
                {"name": "bob", "role": "viewer", "token": VIEWER},
            ],
        },
        "services": [
            {
                "name": "llm",
                "command": [*server, "--load-time", "0.1"],
                "replicas": replicas,
                "env": {TAG_ENV: tag},
                "stop_grace": 2,
                "liveness": {"http": {"path": "/healthz"}, "interval": 0.3, "timeout": 0.5},
                "readiness": {"http": {"path": "/ready"}, "interval": 0.1, "timeout": 0.5},
            }
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Running:
    """A running `vigil up` with one healed incident in its history."""

    url: str
    proc: subprocess.Popen[bytes]
    pid: int
    incident_id: int


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("up")
    tag = f"cli-up-{uuid.uuid4().hex[:12]}"
    cfg = write_config(tmp / "vigil.yaml", tag)
    log = tmp / "vigil-up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [VIGIL, "up", "-c", str(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env={**os.environ, TAG_ENV: tag},
            start_new_session=True,
        )
    try:

        def up() -> str | None:
            assert proc.poll() is None, log.read_text()
            match = UP_LINE.search(log.read_text())
            return match.group(1) if match else None

        url = wait_until(up, 30, "vigil up listening", log.read_text)
        headers = {"Authorization": f"Bearer {ADMIN}"}

        def ready_pid() -> int | None:
            (replica,) = httpx.get(f"{url}/api/v1/replicas", headers=headers).json()
            return replica["pid"] if replica["ready"] == "healthy" else None

        pid = wait_until(ready_pid, 20, "the replica ready")
        os.kill(pid, signal.SIGKILL)

        def resolved() -> int | None:
            page = httpx.get(f"{url}/api/v1/incidents", headers=headers).json()
            done = [i["id"] for i in page["items"] if i["state"] == "resolved"]
            return done[0] if done else None

        incident_id = wait_until(resolved, 15, "the kill -9 healed")
        new_pid = wait_until(ready_pid, 20, "the replica ready again")
        yield Running(url=url, proc=proc, pid=new_pid, incident_id=incident_id)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        kill_tagged(tag)
        assert tagged(tag) == []
