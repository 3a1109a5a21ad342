"""Helpers for the end-to-end daemon tests: real processes, found and killed by a test tag.

Every process a test causes to exist (replicas, agents, ``vigil up`` controllers, stray model
servers) carries ``VIGIL_TEST_TAG=<tag>`` in its environment, either through the service's
``env`` in the config or through the environment the test passes to a subprocess (replicas
inherit the controller's environment). Teardown kills everything carrying the tag, so no test
leaves a process behind even when it fails half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import yaml

from vigil.bus import Subscription
from vigil.daemon import Controller
from vigil.model import Event, Health, ReplicaState

T = TypeVar("T")

TAG_ENV = "VIGIL_TEST_TAG"
MODEL_SERVER = "vigil.demo.model_server"
VIGIL = str(Path(sys.executable).with_name("vigil"))
"""The installed console script, as an operator runs it."""
UP_LINE = re.compile(r"controller up, API on (http://[0-9.]+:\d+)")


GPU_FLEET: dict[str, Any] = {"nodes": [{"name": "local"}, {"name": "gpu-01"}]}
"""A controller's config with node gpu-01, the subject of :data:`NOTIFICATION`'s alert."""
NOTIFICATION: dict[str, Any] = {
    "version": "4",
    "status": "firing",
    "receiver": "vigil",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "GpuHot", "instance": "gpu-01:9100"},
            "annotations": {"summary": "hot"},
            "startsAt": "2026-11-30T04:00:00Z",
            "fingerprint": "f00d",
        }
    ],
}
"""An Alertmanager notification (webhook body) of one firing alert on gpu-01."""


def model_server_argv(*extra: str, load_time: float = 0.2) -> list[str]:
    return [
        sys.executable,
        "-m",
        MODEL_SERVER,
        "--port",
        "{port}",
        "--load-time",
        str(load_time),
        *extra,
    ]


def service(tag: str, *, replicas: int = 2, extra: Sequence[str] = (), **over: Any) -> dict:
    """A model-server service with fast probes, tagged so teardown finds its processes."""
    svc: dict[str, Any] = {
        "name": "llm",
        "command": model_server_argv(*extra),
        "replicas": replicas,
        "env": {TAG_ENV: tag},
        "stop_grace": 2,
        "start_timeout": 20,
        "liveness": {
            "http": {"path": "/healthz"},
            "interval": 0.3,
            "timeout": 0.5,
            "failure_threshold": 2,
        },
        "readiness": {
            "http": {"path": "/ready"},
            "interval": 0.1,
            "timeout": 0.5,
            "failure_threshold": 2,
        },
        "restart": {"backoff_base": 0.1, "crash_loop": {"max_restarts": 3, "window": 30}},
    }
    svc.update(over)
    return svc


# --- processes ------------------------------------------------------------------------------


def _environ(proc: psutil.Process) -> dict[str, str]:
    try:
        return proc.environ()
    except (psutil.Error, OSError):
        return {}


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except (psutil.Error, OSError):
        return []


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


def tagged(tag: str) -> list[psutil.Process]:
    """Live processes carrying the test tag (never this test process)."""
    me = os.getpid()
    return [
        p
        for p in psutil.process_iter()
        if p.pid != me and _alive(p) and _environ(p).get(TAG_ENV) == tag
    ]


def model_servers(tag: str, replica: str | None = None) -> list[int]:
    """Pids of live model-server processes of this test (optionally of one replica)."""
    pids = []
    for proc in tagged(tag):
        if not any(MODEL_SERVER in word for word in _cmdline(proc)):
            continue
        if replica is not None and _environ(proc).get("VIGIL_REPLICA") != replica:
            continue
        pids.append(proc.pid)
    return sorted(pids)


def running(pid: int) -> bool:
    try:
        return _alive(psutil.Process(pid))
    except psutil.Error:
        return False


def kill_tagged(tag: str) -> None:
    """SIGKILL every process of the test and wait (at most 10 s) until they are gone."""
    victims = tagged(tag)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(victims, timeout=10)


def wait_until(predicate: Callable[[], T], within: float, what: str, state: Any = None) -> T:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` and the state."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = state() if callable(state) else state
            raise AssertionError(f"not {what} within {within:g} s; last state: {shown!r}")
        time.sleep(0.05)


async def eventually(
    predicate: Callable[[], T | Awaitable[T]], within: float, what: str, state: Any = None
) -> T:
    """Async ``wait_until``: ``predicate`` may be a plain or an async function."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            shown = state() if callable(state) else state
            if asyncio.iscoroutine(shown):
                shown = await shown
            raise AssertionError(f"not {what} within {within:g} s; last state: {shown!r}")
        await asyncio.sleep(0.05)


# --- in-process controllers -------------------------------------------------------------------


class EventLog:
    """Every bus event of a controller since it was built, for assertions on what happened."""

    def __init__(self, controller: Controller) -> None:
        self._sub: Subscription = controller.bus.subscribe("test")
        self.events: list[Event] = []

    def all(self) -> list[Event]:
        while (event := self._sub.get_nowait()) is not None:
            self.events.append(event)
        return self.events

    def of(self, cls: type[T], pred: Callable[[T], bool] = lambda _e: True) -> list[T]:
        return [e for e in self.all() if isinstance(e, cls) and pred(e)]

    async def wait(self, cls: type[T], pred: Callable[[T], bool], within: float, what: str) -> T:
        found = await eventually(
            lambda: self.of(cls, pred),
            within,
            what,
            lambda: [f"{e.kind} {e.subject}" for e in self.all()[-15:]],
        )
        return found[0]


def settled(controller: Controller, service_name: str = "llm") -> bool:
    """Every replica running, live and ready."""
    return all(
        r.state == ReplicaState.RUNNING and r.live == Health.HEALTHY and r.ready == Health.HEALTHY
        for r in controller.replicas(service_name)
    )


def replica_states(controller: Controller) -> list[tuple[str, str, int | None, str, str]]:
    return [
        (r.id, r.state.value, r.pid, r.live.value, r.ready.value) for r in controller.replicas()
    ]


# --- `vigil up` subprocesses --------------------------------------------------------------------


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
    return path


def tagged_env(tag: str) -> dict[str, str]:
    """The environment for a subprocess of the test: tagged, and wide enough for Rich."""
    env = {**os.environ, TAG_ENV: tag, "COLUMNS": "250"}
    env.pop("VIGIL_INSTANCE", None)
    env.pop("VIGIL_REPLICA", None)
    return env


def vigil_up_refused(
    config: Path, tag: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``vigil up -c CONFIG`` to its end (a controller that must refuse to start)."""
    return subprocess.run(
        [VIGIL, "up", "-c", str(config)],
        env=tagged_env(tag),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class VigilUp:
    """One ``vigil up -c CONFIG [ARGS]`` process; its stderr goes to a file the test can read."""

    def __init__(self, config: Path, tag: str, log: Path, *args: str) -> None:
        self.log = log
        self._log_file = log.open("ab")
        self.start_offset = log.stat().st_size
        self.proc = subprocess.Popen(
            [VIGIL, "up", "-c", str(config), *args],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=self._log_file,
            env=tagged_env(tag),
            start_new_session=True,
        )
        self.url = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        with self.log.open("rb") as f:
            f.seek(self.start_offset)
            return f.read().decode(errors="replace")

    def wait_up(self, timeout: float = 30.0) -> str:
        """Wait for the 'controller up' line; the API's URL."""

        def up() -> str | None:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"vigil up exited with {self.proc.returncode}: {self.output()}"
                )
            match = UP_LINE.search(self.output())
            return match.group(1) if match else None

        self.url = wait_until(up, timeout, "vigil up listening", self.output)
        return self.url

    def kill(self) -> None:
        """kill -9 the controller (only it: the replicas are in their own sessions)."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log_file.close()


def api(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def client(controller: Controller, token: str) -> httpx.AsyncClient:
    """An async client of ``controller``'s API on its socket, bearing ``token``."""
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{controller.api_port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


async def healthy_fleet(
    start: Callable[[dict[str, Any]], Awaitable[Controller]], config: dict[str, Any]
) -> tuple[Controller, EventLog]:
    """A controller started from ``config`` (by the ``start_controller`` fixture) once every
    replica is live and ready, and the log of its events from its start."""
    controller = await start(config)
    events = EventLog(controller)
    await eventually(
        lambda: settled(controller),
        20,
        "every replica live and ready",
        lambda: replica_states(controller),
    )
    return controller, events


def pid_of(controller: Controller, replica: str = "llm/0") -> int:
    """The process id of ``replica``'s model server (it must have one)."""
    info = controller.runners[replica].info  # type: ignore[index]
    assert info is not None, f"{replica} has no process"
    return info.pid


def signal_all(pids: Sequence[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
