"""End to end: killing the controller loses nothing.

Real ``vigil up -c <tmp>/vigil.yaml`` processes: the replicas outlive a ``kill -9`` of the
controller, the next ``vigil up`` adopts them (never a duplicate), keeps the incident history
and the audit chain, sweeps stray processes of its instance, and a SIGTERM stops everything.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from vigil.backends import free_port
from vigil.model import Finding, FindingKind, IncidentState, ReplicaState, Severity
from vigil.store import SqlStore

from ._support import (
    MODEL_SERVER,
    VigilUp,
    api,
    eventually,
    model_servers,
    running,
    service,
    settled,
    tagged_env,
    vigil_up_refused,
    wait_until,
    write_config,
)
from .conftest import ADMIN, API_TOKENS, StartController

StartUp = Callable[[Path], VigilUp]


def config(tmp_path: Path, tag: str, *, replicas: int = 2) -> Path:
    return write_config(
        tmp_path / "vigil.yaml",
        {
            "data_dir": "data",
            "api": {"host": "127.0.0.1", "port": 0, "tokens": API_TOKENS},
            "services": [service(tag, replicas=replicas)],
        },
    )


def replicas(url: str) -> list[dict]:
    with api(url, ADMIN) as http:
        resp = http.get("/api/v1/replicas")
        resp.raise_for_status()
        return resp.json()


def all_ready(url: str, count: int) -> dict[str, int] | None:
    """``{replica id: pid}`` once ``count`` replicas run, live and ready."""
    listed = replicas(url)
    ok = [
        r
        for r in listed
        if r["state"] == "running" and r["live"] == "healthy" and r["ready"] == "healthy"
    ]
    return {r["id"]: r["pid"] for r in ok} if len(ok) == count else None


def incidents(url: str) -> list[dict]:
    with api(url, ADMIN) as http:
        return http.get("/api/v1/incidents", params={"limit": 100}).json()["items"]


def assert_no_duplicates(tag: str, expected: list[int], seconds: float) -> None:
    """For ``seconds``, the model-server processes of the test are exactly ``expected``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert model_servers(tag) == sorted(expected)
        time.sleep(0.1)


class Census:
    """Samples the test's model-server processes in a thread: every pid ever seen."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.seen: set[int] = set()
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = model_servers(self.tag)
            self.seen.update(pids)
            self.most = max(self.most, len(pids))
            time.sleep(0.05)

    def __enter__(self) -> Census:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def serves(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/completions", timeout=5).status_code == 404
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_killing_the_controller_loses_nothing_and_sigterm_then_stops_every_replica(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    cfg = config(tmp_path, tag)
    first = vigil_up(cfg)
    url = first.wait_up()
    pids = wait_until(lambda: all_ready(url, 2), 20, "both replicas ready", lambda: replicas(url))
    assert model_servers(tag) == sorted(pids.values())

    os.kill(pids["llm/0"], signal.SIGKILL)

    def resolved() -> list[dict]:
        return [i for i in incidents(url) if i["state"] == "resolved"]

    history = wait_until(resolved, 15, "the kill -9 healed", lambda: incidents(url))
    pids = wait_until(lambda: all_ready(url, 2), 20, "both replicas ready again")
    with api(url, ADMIN) as http:
        audit_before = http.get("/api/v1/audit", params={"limit": 500}).json()["total"]
    assert audit_before >= 1

    ports = [r["port"] for r in replicas(url)]

    first.kill()

    # The replicas keep running (and serving) without their controller.
    for pid in pids.values():
        assert running(pid)
    assert all(serves(port) for port in ports)
    assert model_servers(tag) == sorted(pids.values())

    with Census(tag) as census:
        second = vigil_up(cfg)
        url = second.wait_up()
        adopted = wait_until(lambda: all_ready(url, 2), 20, "the replicas adopted and ready")
        assert_no_duplicates(tag, list(pids.values()), seconds=2.0)
    assert adopted == pids, "the same processes are supervised again, none restarted"
    assert census.seen == set(pids.values()), "no other model server ever ran"
    assert census.most == 2
    assert [r["port"] for r in replicas(url)] == ports
    assert "adopted" in second.output()

    after = incidents(url)
    assert [i["id"] for i in after] == [i["id"] for i in history]
    assert [i["state"] for i in after] == ["resolved"]
    with api(url, ADMIN) as http:
        assert http.get("/api/v1/audit/verify").json() == {"intact": True, "first_broken": None}
        assert http.get("/api/v1/audit", params={"limit": 500}).json()["total"] >= audit_before
        events = http.get("/api/v1/events", params={"kind": "replica.started", "limit": 50})
        started = events.json()["items"]
        assert sum(1 for e in started if e["data"]["adopted"]) == 2
        restarts = http.get("/api/v1/replicas/llm/0").json()["restarts"]
        assert restarts == 1, "the restart count survives the controller"

    assert second.terminate() == 0
    wait_until(
        lambda: model_servers(tag) == [], 15, "every replica stopped", lambda: model_servers(tag)
    )
    for pid in pids.values():
        assert not running(pid)


@pytest.mark.slow
def test_a_stray_process_of_the_instance_is_swept_when_the_controller_starts(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    cfg = config(tmp_path, tag, replicas=1)
    first = vigil_up(cfg)
    url = first.wait_up()
    pids = wait_until(lambda: all_ready(url, 1), 20, "the replica ready", lambda: replicas(url))
    environ = psutil.Process(pids["llm/0"]).environ()
    instance = environ["VIGIL_INSTANCE"]
    assert environ["VIGIL_REPLICA"] == "llm/0"
    first.kill()

    # A duplicate of llm/0 nobody recorded (say, started by a controller that died before it
    # could store the pid): it carries the instance's markers but is not in the store.
    stray = subprocess.Popen(
        [sys.executable, "-m", MODEL_SERVER, "--port", str(free_port())],
        env={**tagged_env(tag), "VIGIL_INSTANCE": instance, "VIGIL_REPLICA": "llm/0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: stray.pid in model_servers(tag), 10, "the stray visible")
        second = vigil_up(cfg)
        url = second.wait_up()
        assert stray.wait(timeout=10) == -signal.SIGKILL
        assert str(stray.pid) in second.output()
        adopted = wait_until(lambda: all_ready(url, 1), 20, "the replica adopted")
        assert adopted == pids
        assert_no_duplicates(tag, list(pids.values()), seconds=1.0)
    finally:
        if stray.poll() is None:
            stray.kill()
            stray.wait()


@pytest.mark.slow
def test_a_second_controller_on_the_same_data_dir_refuses_to_start(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    cfg = config(tmp_path, tag, replicas=1)
    first = vigil_up(cfg)
    first.wait_up()
    pids = model_servers(tag)

    second = vigil_up_refused(cfg, tag, timeout=30)

    assert second.returncode == 1, second.stderr
    assert f"another controller (pid {first.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.proc.poll() is None, "the running controller is untouched"
    assert model_servers(tag) == pids


@pytest.mark.slow
def test_a_second_controller_on_the_same_store_with_another_data_dir_refuses_to_start(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # two configs, two data dirs, one store.url: the second must not take over the first's
    # replicas (it swept them as strays and started its own: two controllers acting at once)
    store = {"url": f"sqlite:///{tmp_path / 'shared' / 'vigil.db'}"}
    configs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        configs.append(
            write_config(
                tmp_path / name / "vigil.yaml",
                {
                    "data_dir": "data",
                    "store": store,
                    "api": {"host": "127.0.0.1", "port": 0, "tokens": API_TOKENS},
                    "services": [service(tag, replicas=1)],
                },
            )
        )
    first = vigil_up(configs[0])
    url = first.wait_up()
    pids = wait_until(lambda: all_ready(url, 1), 20, "the replica ready", lambda: replicas(url))

    second = vigil_up_refused(configs[1], tag, timeout=30)

    assert second.returncode == 1, second.stderr
    assert f"another controller (pid {first.pid}) uses the store" in second.stderr
    assert str(tmp_path / "shared" / "vigil.db") in second.stderr
    assert "Traceback" not in second.stderr
    assert first.proc.poll() is None, "the running controller is untouched"
    assert model_servers(tag) == sorted(pids.values())


@pytest.mark.slow
async def test_a_replica_given_up_on_stays_given_up_when_the_controller_restarts(
    start_controller: StartController, tag: str, tmp_path: Path
) -> None:
    poison = tmp_path / "poison"
    config = {"services": [service(tag, replicas=1, extra=("--fail-if-exists", str(poison)))]}
    first = await start_controller(config)
    await eventually(lambda: settled(first), 20, "the replica ready")
    poison.touch()
    os.kill(first.runners["llm/0"].info.pid, signal.SIGKILL)  # type: ignore[index, union-attr]
    await eventually(
        lambda: first.replicas()[0].state == ReplicaState.FAILED, 15, "the crash loop given up"
    )
    await start_controller.stop(first)

    second = await start_controller(config)
    await asyncio.sleep(2.0)

    replica = second.replicas()[0]
    assert (replica.state, replica.restarts) == (ReplicaState.FAILED, 3)
    launches = second.store.list_events(kind="replica.started", limit=100).total
    assert launches == 4, "no process was started after the hand-over to a person"


@pytest.mark.slow
async def test_a_replica_stopped_by_an_operator_stays_stopped_when_the_controller_restarts(
    start_controller: StartController, tag: str
) -> None:
    config = {"on_exit": "leave", "services": [service(tag, replicas=2)]}
    first = await start_controller(config)
    await eventually(lambda: settled(first), 20, "both replicas ready")
    await first.replica_command("llm/1", "stop", actor="alice", reason="drain")  # type: ignore[arg-type]
    await eventually(lambda: model_servers(tag, "llm/1") == [], 10, "llm/1 stopped")
    await start_controller.stop(first)

    second = await start_controller(config)
    # llm/0 (adopted) is supervised again; llm/1 must still be stopped well after that
    await eventually(
        lambda: second.replicas()[0].state == ReplicaState.RUNNING, 20, "llm/0 running again"
    )
    await asyncio.sleep(2.0)

    assert model_servers(tag, "llm/1") == []
    assert [r.state for r in second.replicas()] == [ReplicaState.RUNNING, ReplicaState.STOPPED]


@pytest.mark.slow
async def test_a_replica_stopped_by_an_operator_stays_stopped_when_its_service_changed(
    start_controller: StartController, tag: str
) -> None:
    # the service's config changes (its replicas are replaced), but the operator's stop holds
    first = await start_controller({"services": [service(tag, replicas=2)]})
    await eventually(lambda: settled(first), 20, "both replicas ready")
    await first.replica_command("llm/1", "stop", actor="alice", reason="bad GPU")  # type: ignore[arg-type]
    await eventually(lambda: model_servers(tag, "llm/1") == [], 10, "llm/1 stopped")
    await start_controller.stop(first)

    changed = service(tag, replicas=2)
    changed["env"] = {**changed["env"], "MODEL": "v2"}
    second = await start_controller({"services": [changed]})
    await eventually(
        lambda: second.replicas()[0].state == ReplicaState.RUNNING, 20, "llm/0 running again"
    )
    await asyncio.sleep(2.0)

    assert model_servers(tag, "llm/1") == []
    assert [r.state for r in second.replicas()] == [ReplicaState.RUNNING, ReplicaState.STOPPED]
    assert second.replicas()[1].held


@pytest.mark.slow
async def test_the_open_incident_of_a_replica_removed_from_the_config_is_resolved(
    start_controller: StartController, tag: str, tmp_path: Path
) -> None:
    # a replica taken out of the config (replicas: 2 -> 1) is deleted at start; its open
    # incident stayed open for ever, and fault_detected() (the seed's auto_maintain) with it
    first = await start_controller({"services": [service(tag, replicas=2)]})
    await eventually(lambda: settled(first), 20, "both replicas ready")
    await start_controller.stop(first)
    store = SqlStore(f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    try:
        hung = Finding(FindingKind.HUNG, "replica:llm/1", 1.0, "llm/1 hung", Severity.CRITICAL)
        opened = store.open_incident(hung, opened_at=1.0)
    finally:
        store.close()

    second = await start_controller({"services": [service(tag, replicas=1)]})

    assert second.store.find_active_incident("replica:llm/1") is None
    resolved = second.store.get_incident(opened.id)
    assert resolved.state == IncidentState.RESOLVED
    assert "removed from the configuration" in str(resolved.evidence.get("resolution"))
    assert not second.fault_detected()
