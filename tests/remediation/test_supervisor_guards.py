"""ReplicaRunners behind the healing guards (HealingGate), on the fake backend and fake clock:
blast radius across a service's runners, dry-run, maint, maintenance windows, the rate limit,
never-live escalation, and operator commands that the guards never hold back. Every decision
is an audited action."""

from __future__ import annotations

import asyncio
from typing import Any

from vigil.errors import StoreError
from vigil.model import FindingKind, Health, IncidentState, ProbeKind, ReplicaState
from vigil.remediation import HealingGate, ReplicaRunner
from vigil.settings import (
    CrashLoop,
    MaintenanceWindow,
    RateLimit,
    RemediationSettings,
    RestartPolicy,
    Service,
)

from .conftest import START, Rig, service

LIVE, READY = ProbeKind.LIVENESS, ProbeKind.READINESS


def probe(rig: Rig, runner: ReplicaRunner, kind: ProbeKind) -> Any:
    return [d for d in rig.probes.made if d.plan.id == runner.plan.id and d.kind == kind][-1]


def starts(rig: Rig, runner: ReplicaRunner) -> int:
    return sum(1 for spec in rig.backend.started if spec.replica == runner.plan.id)


async def ready(rig: Rig, runner: ReplicaRunner) -> None:
    probe(rig, runner, LIVE).report(True)
    probe(rig, runner, READY).report(True)
    await rig.until(
        lambda: runner.replica.live == Health.HEALTHY and runner.replica.ready == Health.HEALTHY,
        f"{runner.plan.id} live and ready",
    )


async def fleet(
    rig: Rig, svc: Service, settings: RemediationSettings, admin: dict[str, str] | None = None
) -> tuple[HealingGate, list[ReplicaRunner]]:
    """The service's runners sharing one gate, every replica live and ready."""
    gate = HealingGate(settings, [svc], clock=rig.clock, admin_state=(admin or {}).get)
    runners = [rig.runner(svc, index=i, gate=gate) for i in range(svc.replicas)]
    for runner in runners:
        rig.start(runner)
    for runner in runners:
        await rig.until(lambda r=runner: r.replica.state == ReplicaState.RUNNING, "running")
        await ready(rig, runner)
    return gate, runners


def decisions(rig: Rig, runner: ReplicaRunner, kind: str) -> list[Any]:
    return [a for a in rig.actions_of(f"replica:{runner.plan.id}") if a.kind == kind]


def audit_of(rig: Rig, kind: str) -> list[Any]:
    return [e for e in rig.store.list_audit(limit=1000).items if e.action == kind]


def no_backoff(**over: Any) -> Service:
    return service(
        restart=RestartPolicy(backoff_base=0.0, crash_loop=CrashLoop(max_restarts=50)), **over
    )


async def test_three_replicas_failing_liveness_at_once_are_restarted_one_at_a_time(
    rig: Rig,
) -> None:
    # the fake sleep makes time fly: here a wait never ends by itself, so a waiting replica
    # moves only when the slot it waits for is freed (no slot expires meanwhile)
    async def forever(seconds: float) -> None:
        await asyncio.Event().wait()

    rig.sleep = forever  # type: ignore[method-assign]
    gate, runners = await fleet(rig, no_backoff(replicas=3), RemediationSettings(max_unavailable=1))
    first_pids = [r.info.pid for r in runners if r.info]
    for runner in runners:
        probe(rig, runner, LIVE).report(False)

    restarted: list[str] = []
    for round_ in range(3):
        await rig.until(
            lambda n=round_: sum(starts(rig, r) for r in runners) == 3 + n + 1,
            f"restart #{round_ + 1}",
        )
        await rig.spin(100)
        # one replica at a time: exactly one more start, and the others still run their
        # first (unhealthy) process, neither killed nor restarted
        assert sum(starts(rig, r) for r in runners) == 3 + round_ + 1
        [now] = [r for r in runners if starts(rig, r) == 2 and r.plan.id not in restarted]
        restarted.append(now.plan.id)
        assert gate.in_flight("llm") == [now.plan.id]
        waiting = [r for r in runners if r.plan.id not in restarted]
        for other in waiting:
            assert other.info is not None and other.info.pid in first_pids
            assert decisions(rig, other, "restart.deferred"), f"{other.plan.id} not deferred"
        await ready(rig, now)  # back: its slot goes to the next one

    assert sorted(restarted) == ["llm/0", "llm/1", "llm/2"]
    assert gate.in_flight("llm") == []
    # each waiting replica's deferral is recorded once, however often it asked again
    second, third = restarted[1], restarted[2]
    assert len(decisions(rig, runners[int(second[-1])], "restart.deferred")) == 1
    assert len(decisions(rig, runners[int(third[-1])], "restart.deferred")) == 1
    deferred = audit_of(rig, "restart.deferred")
    assert {e.detail["guard"] for e in deferred} == {"blast_radius"}
    assert all(e.detail["dry_run"] is False for e in deferred)
    allowed = audit_of(rig, "restart")
    assert len(allowed) == 3 and {e.detail["decision"] for e in allowed} == {"allowed"}
    rig.assert_every_action_audited()


async def test_dry_run_audits_the_decision_and_restarts_nothing(rig: Rig) -> None:
    svc = no_backoff(replicas=1)
    _, [runner] = await fleet(rig, svc, RemediationSettings(dry_run=True))
    rig.backend.crash(runner.plan.id)
    await rig.until(lambda: decisions(rig, runner, "restart.dry_run"), "a dry-run decision")
    await rig.spin(200)  # it asks again every few (fake) seconds: nothing more is done
    assert starts(rig, runner) == 1
    assert runner.replica.state == ReplicaState.EXITED
    [record] = decisions(rig, runner, "restart.dry_run")
    assert "would restart" in record.reason
    [entry] = audit_of(rig, "restart.dry_run")
    assert entry.detail["dry_run"] is True and entry.detail["decision"] == "dry_run"
    incident = rig.incidents.active(runner.subject)
    assert incident is not None and incident.first_action_at is None  # nothing was done
    assert record.incident_id == incident.id

    # an operator is never held back by the guards
    runner.command("restart", actor="alice", reason="do it")
    await rig.until(lambda: starts(rig, runner) == 2, "the operator's restart")
    rig.assert_every_action_audited()


async def test_a_replica_in_maint_is_left_alone_until_an_operator_readies_it(rig: Rig) -> None:
    admin = {"llm/0": "maint"}
    _, [runner] = await fleet(rig, no_backoff(replicas=1), RemediationSettings(), admin)
    pid = runner.info.pid if runner.info else None
    probe(rig, runner, LIVE).report(False)
    await rig.until(lambda: decisions(rig, runner, "restart.suppressed"), "suppressed")
    await rig.spin(200)
    assert starts(rig, runner) == 1
    assert runner.info is not None and runner.info.pid == pid, "its process was not killed"
    assert rig.backend.running(), "still running"
    [entry] = audit_of(rig, "restart.suppressed")
    assert entry.detail["guard"] == "operator"

    admin["llm/0"] = "ready"
    await rig.until(lambda: starts(rig, runner) == 2, "restarted once it is ready again")
    assert len(decisions(rig, runner, "restart.suppressed")) == 1
    rig.assert_every_action_audited()


async def test_a_maintenance_window_suppresses_restarts_until_it_ends(rig: Rig) -> None:
    # a single window around the fake clock's start (cron windows: tests/remediation/test_windows)
    single = MaintenanceWindow(name="upgrade", start=_utc(START - 10), end=_utc(START + 60))
    svc = no_backoff(replicas=1)
    _, [runner] = await fleet(rig, svc, RemediationSettings(windows=[single]))
    rig.backend.crash(runner.plan.id)
    await rig.until(lambda: decisions(rig, runner, "restart.suppressed"), "suppressed")
    await rig.until(lambda: starts(rig, runner) == 2, "restarted after the window")
    assert rig.clock() >= START + 60
    [record] = decisions(rig, runner, "restart.suppressed")
    assert "upgrade" in record.reason
    [entry] = audit_of(rig, "restart.suppressed")
    assert entry.detail["guard"] == "window" and entry.detail["until"] == START + 60


async def test_the_rate_limit_defers_the_next_restart_until_it_fits(rig: Rig) -> None:
    settings = RemediationSettings(rate_limit=RateLimit(actions=2, window=600))
    _, [runner] = await fleet(rig, no_backoff(replicas=1), settings)
    first = rig.clock()
    for n in (2, 3):
        rig.backend.crash(runner.plan.id)
        await rig.until(lambda n=n: starts(rig, runner) == n, f"restart {n - 1}")
        await ready(rig, runner)
        rig.clock.advance(10)
    rig.backend.crash(runner.plan.id)
    await rig.until(lambda: decisions(rig, runner, "restart.deferred"), "deferred")
    await rig.until(lambda: starts(rig, runner) == 4, "restarted once the window allows")
    assert rig.clock() >= first + 600
    [entry] = audit_of(rig, "restart.deferred")
    assert entry.detail["guard"] == "rate_limit"


async def test_a_replica_never_live_after_k_restarts_is_escalated_and_not_restarted(
    rig: Rig,
) -> None:
    svc = no_backoff(replicas=1)
    gate = HealingGate(RemediationSettings(escalate_after=2), [svc], clock=rig.clock)
    runner = rig.runner(svc, gate=gate)
    rig.start(runner)
    for n in (1, 2, 3):  # it starts, never becomes live, and dies
        await rig.until(lambda n=n: starts(rig, runner) == n, f"start {n}")
        await rig.until(lambda: runner.replica.state == ReplicaState.RUNNING, "running")
        rig.backend.crash(runner.plan.id)
    await rig.until(lambda: runner.replica.state == ReplicaState.FAILED, "failed")
    await rig.spin(200)
    assert starts(rig, runner) == 3  # 2 restarts, then no more
    assert runner.replica.held
    incident = rig.incidents.active(runner.subject)
    assert incident is not None and incident.state == IncidentState.ESCALATED
    kinds = [f["kind"] for f in incident.evidence["findings"]]
    assert kinds[-1] == FindingKind.NEVER_LIVE
    assert "never live after 2 restart(s)" in incident.summary
    [escalation] = [e for e in audit_of(rig, "escalate")]
    assert escalation.detail["decision"] == "refused"
    assert escalation.detail["guard"] == "never_live"

    runner.command("restart", actor="alice", reason="fixed the weights path")
    await rig.until(lambda: starts(rig, runner) == 4, "the operator's restart")
    await ready(rig, runner)
    assert rig.incidents.active(runner.subject) is None
    rig.assert_every_action_audited()


async def test_ready_without_live_still_counts_as_never_live(rig: Rig) -> None:
    # a replica whose readiness passes while its liveness fails is not healed by a restart
    svc = no_backoff(replicas=1)
    gate = HealingGate(RemediationSettings(escalate_after=1), [svc], clock=rig.clock)
    runner = rig.runner(svc, gate=gate)
    rig.start(runner)
    for n in (1, 2):
        await rig.until(lambda n=n: starts(rig, runner) == n, f"start {n}")
        probe(rig, runner, READY).report(True)
        await rig.until(lambda: runner.replica.ready == Health.HEALTHY, "ready")
        rig.backend.crash(runner.plan.id)
    await rig.until(lambda: runner.replica.state == ReplicaState.FAILED, "escalated")
    assert starts(rig, runner) == 2


async def test_a_replica_that_was_live_between_restarts_is_not_escalated(rig: Rig) -> None:
    svc = no_backoff(replicas=1)
    gate = HealingGate(RemediationSettings(escalate_after=1), [svc], clock=rig.clock)
    runner = rig.runner(svc, gate=gate)
    rig.start(runner)
    for n in (1, 2, 3, 4):
        await rig.until(lambda n=n: starts(rig, runner) == n, f"start {n}")
        await ready(rig, runner)
        rig.clock.advance(100)
        rig.backend.crash(runner.plan.id)
    await rig.until(lambda: starts(rig, runner) == 5, "start 5")
    assert not runner.replica.held


def _utc(epoch: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)


async def test_a_decision_the_store_refused_still_holds_the_action_back(rig: Rig) -> None:
    # the supervisor's store-error path starts a replica that has no process: a refused
    # record of a dry-run must not turn into a restart
    _, [runner] = await fleet(rig, no_backoff(replicas=1), RemediationSettings(dry_run=True))
    real = rig.store.start_action
    refused: list[str] = []

    def busy_once(**fields: Any) -> Any:
        if fields["kind"] == "restart.dry_run" and not refused:
            refused.append(fields["kind"])
            raise StoreError("database is locked (test)")
        return real(**fields)

    rig.store.start_action = busy_once  # type: ignore[method-assign]
    rig.backend.crash(runner.plan.id)
    await rig.until(lambda: decisions(rig, runner, "restart.dry_run"), "recorded at last")
    await rig.spin(200)
    assert refused == ["restart.dry_run"]
    assert starts(rig, runner) == 1, "no restart in dry-run, store error or not"
    assert len(decisions(rig, runner, "restart.dry_run")) == 1
