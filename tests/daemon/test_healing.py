"""End to end: an in-process Controller heals real model-server replicas (LocalBackend).

Faults are real (kill -9, SIGSTOP, a poisoned start), probes are real HTTP over loopback, and
operators act through the real HTTP API with bearer tokens.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from vigil.daemon import Controller
from vigil.model import (
    FindingKind,
    FindingRaised,
    Health,
    IncidentState,
    ReplicaExited,
    ReplicaStarted,
    ReplicaState,
)

from ._support import (
    client,
    eventually,
    healthy_fleet,
    model_servers,
    pid_of,
    running,
    service,
    settled,
)
from .conftest import ADMIN, OPERATOR, VIEWER, StartController

SUBJECT = "replica:llm/0"


def incidents_of(controller: Controller, subject: str = SUBJECT) -> list:
    return list(controller.store.list_incidents(subject=subject, limit=50).items)


def resolved_incident(controller: Controller, subject: str = SUBJECT):
    found = [i for i in incidents_of(controller, subject) if i.state == IncidentState.RESOLVED]
    return found[0] if found else None


@pytest.mark.slow
async def test_a_replica_killed_with_sigkill_is_restarted_and_its_incident_resolved(
    start_controller: StartController, tag: str
) -> None:
    controller, events = await healthy_fleet(start_controller, {"services": [service(tag)]})
    old_pid = pid_of(controller)
    other_pid = pid_of(controller, "llm/1")

    os.kill(old_pid, signal.SIGKILL)

    exited = await events.wait(ReplicaExited, lambda e: e.pid == old_pid, 10, "the kill -9 noticed")
    assert exited.replica == "llm/0"
    assert exited.returncode == -signal.SIGKILL
    assert exited.expected is False
    incident = await eventually(
        lambda: resolved_incident(controller),
        15,
        "the incident resolved",
        lambda: incidents_of(controller),
    )
    new_pid = pid_of(controller)
    assert new_pid != old_pid
    assert not running(old_pid)
    assert running(new_pid)
    assert pid_of(controller, "llm/1") == other_pid, "the healthy replica was left alone"
    assert model_servers(tag, "llm/0") == [new_pid]
    started = events.of(ReplicaStarted, lambda e: e.replica == "llm/0" and e.pid == new_pid)
    assert started and started[0].adopted is False

    assert incident.kind == FindingKind.PROCESS_EXITED
    assert incident.first_action_at is not None and incident.resolved_at is not None
    assert incident.detected_at <= incident.first_action_at <= incident.resolved_at
    replica = next(r for r in controller.replicas("llm") if r.id == "llm/0")
    assert (replica.state, replica.ready, replica.restarts) == (
        ReplicaState.RUNNING,
        Health.HEALTHY,
        1,
    )

    async with client(controller, ADMIN) as http:
        actions = (await http.get("/api/v1/actions", params={"subject": SUBJECT})).json()
        restart = [a for a in actions["items"] if a["kind"] == "restart"]
        assert len(restart) == 1, actions
        assert restart[0]["actor"] == "vigil"
        assert restart[0]["ok"] is True
        assert restart[0]["incident_id"] == incident.id
        assert str(new_pid) in restart[0]["detail"]

        audit = (await http.get("/api/v1/audit")).json()["items"]
        entries = [a for a in audit if a["target"] == SUBJECT and a["action"] == "restart"]
        assert len(entries) == 1, audit
        assert entries[0]["actor"] == "vigil"
        assert entries[0]["result"] == "ok"
        assert entries[0]["detail"]["incident_id"] == incident.id
        verify = (await http.get("/api/v1/audit/verify")).json()
        assert verify == {"intact": True, "first_broken": None}

        api_incident = (await http.get(f"/api/v1/incidents/{incident.id}")).json()
        assert api_incident["state"] == "resolved"
        assert api_incident["time_to_recover"] > 0

        # The controller refreshes replica gauges every few seconds: wait for the restart count.
        async def restart_counted() -> str | None:
            text = (await http.get("/metrics")).text
            wanted = 'vigil_replica_restarts{replica="llm/0",service="llm"} 1.0'
            return text if wanted in text else None

        metrics = await eventually(restart_counted, 15, "the restart visible in /metrics")
        assert 'vigil_replica_up{replica="llm/0",service="llm"} 1.0' in metrics
        assert 'vigil_replica_ready{replica="llm/1",service="llm"} 1.0' in metrics
        assert 'vigil_actions_total{kind="restart",result="ok"} 1.0' in metrics
        assert "vigil_incidents_active 0.0" in metrics
        assert 'vigil_events_total{kind="replica.exited"}' in metrics


@pytest.mark.slow
async def test_a_replica_stopped_with_sigstop_is_judged_hung_and_replaced(
    start_controller: StartController, tag: str
) -> None:
    controller, events = await healthy_fleet(start_controller, {"services": [service(tag)]})
    old_pid = pid_of(controller)

    os.kill(old_pid, signal.SIGSTOP)

    hung = await events.wait(
        FindingRaised,
        lambda e: e.finding.subject == SUBJECT and e.finding.kind == FindingKind.HUNG,
        10,
        "a hung finding",
    )
    assert hung.finding.evidence["pid"] == old_pid
    await events.wait(
        ReplicaExited,
        lambda e: e.pid == old_pid and e.expected,
        10,
        "the hung process stopped by vigil",
    )
    incident = await eventually(
        lambda: resolved_incident(controller),
        15,
        "the incident resolved",
        lambda: incidents_of(controller),
    )
    new_pid = pid_of(controller)
    assert new_pid != old_pid
    assert not running(old_pid), "the hung process is gone, not left stopped"
    assert model_servers(tag, "llm/0") == [new_pid]
    kinds = [f["kind"] for f in incident.evidence["findings"]]
    assert "hung" in kinds, incident.evidence
    assert incident.detected_at <= incident.first_action_at <= incident.resolved_at
    restarts = [
        a for a in controller.store.list_actions(subject=SUBJECT).items if a.kind == "restart"
    ]
    assert len(restarts) == 1 and restarts[0].ok is True
    assert "hung" in restarts[0].reason


@pytest.mark.slow
async def test_a_crash_loop_is_escalated_and_an_operator_restart_through_the_api_heals_it(
    start_controller: StartController, tag: str, tmp_path: Path
) -> None:
    poison = tmp_path / "poison"
    svc = service(tag, replicas=1, extra=("--fail-if-exists", str(poison)))
    controller, events = await healthy_fleet(start_controller, {"services": [svc]})
    first_pid = pid_of(controller)

    async with client(controller, VIEWER) as viewer:
        assert (await viewer.get("/detect_fault")).json() == {"fault_detected": False}

        poison.touch()
        os.kill(first_pid, signal.SIGKILL)

        def escalated():
            found = [i for i in incidents_of(controller) if i.state == IncidentState.ESCALATED]
            return found[0] if found else None

        incident = await eventually(
            escalated, 15, "the crash loop escalated", lambda: incidents_of(controller)
        )
        replica = controller.replicas("llm")[0]
        assert replica.state == ReplicaState.FAILED
        assert replica.pid is None
        assert replica.restarts == 3
        assert "crash loop" in incident.summary
        assert (await viewer.get("/detect_fault")).json() == {"fault_detected": True}
        # Given up means given up: no new process appears.
        for _ in range(3):
            assert model_servers(tag) == []
            assert controller.replicas("llm")[0].state == ReplicaState.FAILED
            await asyncio.sleep(0.5)
        crashes = events.of(ReplicaExited, lambda e: e.replica == "llm/0" and e.returncode == 1)
        assert len(crashes) == 3
        assert (await viewer.get("/balance_load", params={"service": "llm"})).json() == {
            "load_balanced_pods": []
        }
        denied = await viewer.post("/api/v1/replicas/llm/0/restart")
        assert denied.status_code == 403

    poison.unlink()
    async with client(controller, OPERATOR) as operator:
        resp = await operator.post(
            "/api/v1/replicas/llm/0/restart", json={"reason": "bad build removed"}
        )
        assert resp.status_code == 202, resp.text
        accepted = resp.json()
        assert accepted["kind"] == "restart" and accepted["actor"] == "alice"

        healed = await eventually(
            lambda: resolved_incident(controller),
            15,
            "the escalated incident resolved",
            lambda: incidents_of(controller),
        )
        assert healed.id == incident.id
        assert settled(controller)
        assert (await operator.get("/detect_fault")).json() == {"fault_detected": False}
        pods = (await operator.get("/balance_load", params={"service": "llm"})).json()
        assert [p["replica"] for p in pods["load_balanced_pods"]] == ["llm/0"]

    async with client(controller, ADMIN) as admin:
        actions = (await admin.get("/api/v1/actions", params={"subject": SUBJECT})).json()
        by_kind = [(a["kind"], a["actor"], a["ok"]) for a in reversed(actions["items"])]
        assert by_kind == [
            ("restart", "vigil", True),
            ("restart", "vigil", True),
            ("restart", "vigil", True),
            ("escalate", "vigil", True),
            ("restart", "alice", True),
        ]
        assert all(a["incident_id"] == incident.id for a in actions["items"])
        audit = (await admin.get("/api/v1/audit", params={"limit": 100})).json()["items"]
        seen = [(a["actor"], a["action"], a["result"]) for a in reversed(audit)]
        assert ("vigil", "escalate", "ok") in seen
        assert ("alice", "replica.restart", "accepted") in seen
        assert ("alice", "restart", "ok") in seen
        assert seen.index(("alice", "replica.restart", "accepted")) < seen.index(
            ("alice", "restart", "ok")
        )
        reasons = {a["reason"] for a in audit if a["actor"] == "alice"}
        assert reasons == {"bad build removed"}
        assert (await admin.get("/api/v1/audit/verify")).json()["intact"] is True

    async with client(controller, OPERATOR) as operator:
        assert (await operator.get("/api/v1/audit")).status_code == 403


async def test_balance_load_lists_only_healthy_replicas(
    start_controller: StartController, tag: str
) -> None:
    controller, _ = await healthy_fleet(start_controller, {"services": [service(tag)]})
    async with client(controller, OPERATOR) as http:

        async def pods() -> list[tuple[str, float]]:
            body = (await http.get("/balance_load", params={"service": "llm"})).json()
            return [(p["replica"], p["share"]) for p in body["load_balanced_pods"]]

        assert await pods() == [("llm/0", 0.5), ("llm/1", 0.5)]
        stopped_pid = pid_of(controller, "llm/1")

        resp = await http.post("/api/v1/replicas/llm/1/stop", json={"reason": "drain"})
        assert resp.status_code == 202, resp.text

        async def only_llm0() -> bool:
            return await pods() == [("llm/0", 1.0)]

        await eventually(only_llm0, 10, "llm/1 out of the balance", pods)
        await eventually(lambda: not running(stopped_pid), 10, "llm/1's process gone")
        replica = (await http.get("/api/v1/replicas/llm/1")).json()
        assert (replica["state"], replica["pid"]) == ("stopped", None)
        assert model_servers(tag, "llm/1") == []
        assert (await http.get("/detect_fault")).json() == {"fault_detected": False}

        resp = await http.post("/api/v1/replicas/llm/1/start")
        assert resp.status_code == 202

        async def both() -> bool:
            return await pods() == [("llm/0", 0.5), ("llm/1", 0.5)]

        await eventually(both, 15, "llm/1 back in the balance", pods)
        unknown = await http.get("/balance_load", params={"service": "nope"})
        assert unknown.status_code == 404
