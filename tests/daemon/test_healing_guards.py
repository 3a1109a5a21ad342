"""End to end: the healing guards of an in-process Controller over real model-server replicas
(LocalBackend, real HTTP probes, the real API with bearer tokens).

Faults are real: SIGSTOP (hung), kill -9, a liveness path that never answers 200. The guards:
blast radius (three hung replicas are restarted one at a time), dry-run (a killed replica is
not restarted, the decision is audited), maint (a replica an operator took out is left alone),
never-live escalation.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from vigil.daemon import Controller
from vigil.model import FindingKind, HealthChanged, IncidentState, ProbeKind, ReplicaState

from ._support import (
    client,
    eventually,
    healthy_fleet,
    model_servers,
    pid_of,
    replica_states,
    running,
    service,
    settled,
)
from .conftest import ADMIN, OPERATOR, StartController

WINDOW = timedelta(seconds=10)
"""A maintenance window that opens as the controller starts: long enough for the replica to
start and a kill -9 to be noticed inside it on a loaded machine."""


def actions(controller: Controller, replica: str, kind: str) -> list:
    found = controller.store.list_actions(subject=f"replica:{replica}", limit=200).items
    return [a for a in found if a.kind == kind]


@pytest.mark.slow
async def test_three_hung_replicas_are_restarted_one_at_a_time(
    start_controller: StartController, tag: str
) -> None:
    svc = service(tag, replicas=3, remediation={"max_unavailable": 1})
    controller, events = await healthy_fleet(start_controller, {"services": [svc]})
    names = ["llm/0", "llm/1", "llm/2"]
    hung = {name: pid_of(controller, name) for name in names}
    for pid in hung.values():  # a shared dependency froze them all at once
        os.kill(pid, signal.SIGSTOP)

    def replaced() -> bool:
        return all(
            (info := controller.runners[n].info) is not None and info.pid != hung[n]  # type: ignore[index]
            for n in names
        ) and settled(controller)

    await eventually(
        replaced, 45, "all three replaced, one at a time", lambda: replica_states(controller)
    )
    # Each restart, from the guards' yes (before the kill) until the new process was ready:
    # no two of these spans overlap.
    spans = []
    for name in names:
        [restart] = actions(controller, name, "restart")
        assert restart.ok is True and restart.actor == "vigil"
        ready_at = min(
            e.at
            for e in events.of(
                HealthChanged,
                lambda e, n=name: e.replica == n and e.probe == ProbeKind.READINESS and e.healthy,
            )
            if e.at >= restart.started_at
        )
        spans.append((restart.started_at, ready_at, name))
    spans.sort()
    for (_, first_ready, first), (second_start, _, second) in itertools.pairwise(spans):
        assert second_start >= first_ready, f"{second} restarted while {first} was not ready"
    # the two that waited have their deferral on record and in the audit trail
    waited = [name for _, _, name in spans[1:]]
    for name in waited:
        [deferred] = actions(controller, name, "restart.deferred")
        assert "blast radius" in deferred.reason
    async with client(controller, ADMIN) as admin:
        audit = (await admin.get("/api/v1/audit", params={"limit": 200})).json()["items"]
        deferrals = [a for a in audit if a["action"] == "restart.deferred"]
        assert sorted(a["target"] for a in deferrals) == sorted(f"replica:{n}" for n in waited)
        assert all(a["detail"]["guard"] == "blast_radius" for a in deferrals)
        allowed = [a for a in audit if a["action"] == "restart"]
        assert len(allowed) == 3 and all(a["detail"]["decision"] == "allowed" for a in allowed)
        assert (await admin.get("/api/v1/audit/verify")).json()["intact"] is True
    for pid in hung.values():
        assert not running(pid)


@pytest.mark.slow
async def test_in_dry_run_a_killed_replica_is_not_restarted_but_the_decision_is_audited(
    start_controller: StartController, tag: str
) -> None:
    svc = service(tag, replicas=1, remediation={"dry_run": True})
    controller, _ = await healthy_fleet(start_controller, {"services": [svc]})
    os.kill(pid_of(controller, "llm/0"), signal.SIGKILL)

    await eventually(
        lambda: actions(controller, "llm/0", "restart.dry_run"), 10, "a dry-run decision"
    )
    await asyncio.sleep(1.5)  # time it would have needed to restart (backoff 0, load 0.2 s)
    assert model_servers(tag, "llm/0") == []
    assert controller.replicas("llm")[0].state == ReplicaState.EXITED
    assert actions(controller, "llm/0", "restart") == []
    async with client(controller, ADMIN) as admin:
        audit = (await admin.get("/api/v1/audit", params={"limit": 100})).json()["items"]
        [entry] = [a for a in audit if a["action"] == "restart.dry_run"]
        assert entry["actor"] == "vigil" and entry["target"] == "replica:llm/0"
        assert entry["detail"]["dry_run"] is True
        assert "would restart" in entry["reason"]

    # an operator is never held back by dry-run
    async with client(controller, OPERATOR) as operator:
        resp = await operator.post("/api/v1/replicas/llm/0/restart", json={"reason": "by hand"})
        assert resp.status_code == 202, resp.text
    await eventually(lambda: settled(controller), 15, "restarted by the operator")


@pytest.mark.slow
async def test_a_replica_an_operator_put_in_maint_is_not_restarted(
    start_controller: StartController, tag: str
) -> None:
    svc = service(tag, replicas=2, balancer={"policy": "round_robin", "slow_start": 0})
    controller, _ = await healthy_fleet(start_controller, {"services": [svc]})
    pid = pid_of(controller, "llm/1")
    async with client(controller, OPERATOR) as operator:
        resp = await operator.post("/api/v1/replicas/llm/1/balancer", json={"state": "maint"})
        assert resp.status_code == 200, resp.text

        os.kill(pid, signal.SIGSTOP)  # the operator is debugging it
        await eventually(
            lambda: actions(controller, "llm/1", "restart.suppressed"), 10, "suppressed"
        )
        await asyncio.sleep(1.5)
        assert running(pid), "the process in maint was not killed"
        assert model_servers(tag, "llm/1") == [pid]
        assert actions(controller, "llm/1", "restart") == []
        [suppressed] = actions(controller, "llm/1", "restart.suppressed")
        assert "maint" in suppressed.reason

        os.kill(pid, signal.SIGCONT)  # done debugging: it answers again, and is ready
        resp = await operator.post("/api/v1/replicas/llm/1/balancer", json={"state": "ready"})
        assert resp.status_code == 200, resp.text
        await eventually(lambda: settled(controller), 15, "llm/1 live again without a restart")
        assert pid_of(controller, "llm/1") == pid


@pytest.mark.slow
async def test_a_replica_never_live_is_escalated_after_k_restarts_and_left_alone(
    start_controller: StartController, tag: str
) -> None:
    svc = service(
        tag,
        replicas=1,
        start_timeout=1.0,
        remediation={"escalate_after": 2},
    )
    svc["liveness"] = {**svc["liveness"], "http": {"path": "/no-such-path"}}  # always 404
    controller = await start_controller({"services": [svc]})
    subject = "replica:llm/0"

    def escalated():
        found = controller.store.list_incidents(subject=subject, limit=10).items
        return [i for i in found if i.state == IncidentState.ESCALATED]

    [incident] = await eventually(escalated, 20, "escalated as never live")
    assert "never live after 2 restart(s)" in incident.summary
    kinds = [f["kind"] for f in incident.evidence["findings"]]
    assert FindingKind.NEVER_LIVE.value in kinds
    replica = controller.replicas("llm")[0]
    assert (replica.state, replica.held, replica.restarts) == (ReplicaState.FAILED, True, 2)
    await asyncio.sleep(2.5)  # more than two start_timeouts: no new process
    assert model_servers(tag, "llm/0") == []
    assert controller.replicas("llm")[0].restarts == 2
    [escalation] = actions(controller, "llm/0", "escalate")
    assert "never live" in escalation.reason


@pytest.mark.slow
async def test_changing_only_a_service_s_guards_does_not_replace_its_replicas(
    start_controller: StartController, tag: str
) -> None:
    # turning dry-run on for a service must not restart every replica of it
    first = await start_controller({"on_exit": "leave", "services": [service(tag, replicas=2)]})
    await eventually(lambda: settled(first), 20, "both replicas ready")
    pids = [pid_of(first, "llm/0"), pid_of(first, "llm/1")]
    await start_controller.stop(first)

    guarded = service(tag, replicas=2, remediation={"dry_run": True, "max_unavailable": "50%"})
    second = await start_controller({"on_exit": "leave", "services": [guarded]})
    await eventually(lambda: settled(second), 20, "both replicas ready again")
    assert [pid_of(second, "llm/0"), pid_of(second, "llm/1")] == pids, "adopted, not replaced"
    assert second.gate.guards("llm").dry_run is True


@pytest.mark.slow
async def test_a_replica_killed_in_a_maintenance_window_is_restarted_when_it_ends(
    start_controller: StartController, tag: str
) -> None:
    now = datetime.now(UTC)
    window = {"name": "upgrade", "start": now.isoformat(), "end": (now + WINDOW).isoformat()}
    svc = service(tag, replicas=1, remediation={"windows": [window]})
    controller, _ = await healthy_fleet(start_controller, {"services": [svc]})
    assert datetime.now(UTC) < now + WINDOW / 2, "the replica took too long to start"
    os.kill(pid_of(controller, "llm/0"), signal.SIGKILL)

    [suppressed] = await eventually(
        lambda: actions(controller, "llm/0", "restart.suppressed"), 10, "suppressed"
    )
    assert "upgrade" in suppressed.reason
    assert model_servers(tag, "llm/0") == []
    await eventually(lambda: settled(controller), 20, "restarted once the window ended")
    [restart] = actions(controller, "llm/0", "restart")
    assert restart.started_at >= (now + WINDOW).timestamp()
