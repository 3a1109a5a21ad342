"""ReplicaRunner end to end on fakes: FakeBackend processes, fake probe drivers, a fake clock.

The runner runs as a task; the test crashes processes, publishes probe verdicts and sends
commands, then yields to the event loop until the runner has reacted (``rig.until``).
"""

from __future__ import annotations

import asyncio

import pytest

from vigil.errors import BackendError
from vigil.model import (
    ActionRecord,
    FindingKind,
    FindingRaised,
    Health,
    IncidentState,
    ProbeKind,
    Replica,
    ReplicaExited,
    ReplicaStarted,
    ReplicaState,
    replica_id,
)
from vigil.remediation import ReplicaRunner, describe_exit
from vigil.settings import CrashLoop, RestartPolicy

from .conftest import Rig, service

RID = replica_id("llm", 0)
SUBJECT = "replica:llm/0"
LIVE, READY = ProbeKind.LIVENESS, ProbeKind.READINESS


async def started(rig: Rig, runner: ReplicaRunner, count: int = 1) -> None:
    """Wait until the backend has been asked ``count`` times and the replica is running."""
    await rig.until(
        lambda: len(rig.backend.started) == count and runner.replica.state == ReplicaState.RUNNING,
        lambda: (
            f"start #{count} and state running (starts: {len(rig.backend.started)}, "
            f"state: {runner.replica.state})"
        ),
    )


async def running(rig: Rig, **overrides: object) -> ReplicaRunner:
    runner = rig.runner(service(**overrides) if overrides else None)
    rig.start(runner)
    await started(rig, runner)
    return runner


async def ready(rig: Rig, runner: ReplicaRunner) -> None:
    rig.probes.latest(LIVE).report(True)
    rig.probes.latest(READY).report(True)
    await rig.until(
        lambda: runner.replica.live == Health.HEALTHY and runner.replica.ready == Health.HEALTHY,
        "live and ready",
    )


# --- starting --------------------------------------------------------------------------------


async def test_the_runner_starts_the_process_marks_it_running_and_starts_its_probes(
    rig: Rig,
) -> None:
    runner = await running(rig)
    [spec] = rig.backend.started
    assert list(spec.argv) == ["serve", "--port", "9100"]
    assert spec.env["PORT"] == "9100"
    [proc] = rig.backend.running()
    assert runner.info == proc
    assert runner.replica.pid == proc.pid
    assert runner.replica.started_at == rig.clock.now
    stored = rig.store.get_replica(RID)
    assert (stored.state, stored.pid, stored.create_time) == (
        ReplicaState.RUNNING,
        proc.pid,
        proc.create_time,
    )
    assert [(d.kind, d.running) for d in rig.probes.made] == [(LIVE, True), (READY, True)]
    [event] = rig.recorded(ReplicaStarted)
    assert (event.replica, event.pid, event.adopted) == (RID, proc.pid, False)
    assert rig.store.list_incidents().total == 0


async def test_readiness_marks_the_replica_ready_without_any_incident(rig: Rig) -> None:
    runner = await running(rig)
    await ready(rig, runner)
    assert rig.store.get_replica(RID).ready == Health.HEALTHY
    assert rig.store.list_incidents().total == 0
    assert rig.store.list_actions().total == 0


async def test_a_replica_without_probes_is_ready_as_soon_as_it_runs(rig: Rig) -> None:
    runner = await running(rig, liveness=None, readiness=None)
    await rig.until(lambda: runner.replica.ready == Health.HEALTHY, "ready without probes")
    assert rig.probes.made == []


# --- a crash ---------------------------------------------------------------------------------


async def test_a_crash_opens_an_incident_restarts_the_process_and_readiness_resolves_it(
    rig: Rig,
) -> None:
    runner = await running(rig)
    await ready(rig, runner)
    first = rig.backend.crash(RID, returncode=3)
    await started(rig, runner, count=2)

    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.kind == FindingKind.PROCESS_EXITED
    assert incident.state == IncidentState.REMEDIATING
    assert incident.summary == "llm/0 exited with code 3"
    assert incident.first_action_at == rig.clock.now
    [exited] = rig.recorded(ReplicaExited)
    assert (exited.pid, exited.returncode, exited.expected) == (first.pid, 3, False)

    [restart] = rig.actions_of(SUBJECT)
    assert (restart.kind, restart.actor, restart.ok) == ("restart", "vigil", True)
    assert restart.incident_id == incident.id
    assert restart.reason.startswith("exited with code 3")
    second = rig.backend.running()[0]
    assert second.pid != first.pid
    assert restart.detail == f"started pid {second.pid}"
    assert runner.info == second
    assert runner.replica.restarts == 1
    assert rig.store.get_replica(RID).restarts == 1
    # the old process's probes were stopped, the new process has its own
    assert [d.running for d in rig.probes.made] == [False, False, True, True]
    assert runner.replica.ready == Health.UNKNOWN

    rig.clock.advance(7)
    rig.probes.latest(READY).report(True)
    await rig.until(lambda: rig.incidents.active(SUBJECT) is None, "incident resolved")
    resolved = rig.store.get_incident(incident.id)
    assert resolved.state == IncidentState.RESOLVED
    assert resolved.resolved_at == rig.clock.now
    assert resolved.time_to_recover == 7
    rig.assert_every_action_audited()


async def test_a_process_killed_by_a_signal_is_described_by_the_signal_name(rig: Rig) -> None:
    runner = await running(rig)
    rig.backend.crash(RID, returncode=-9)
    await started(rig, runner, count=2)
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.summary == "llm/0 killed by SIGKILL"
    assert describe_exit(None) == "exited (code unknown: adopted process)"


# --- liveness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timed_out", "kind", "what"),
    [
        (True, FindingKind.HUNG, "hung (liveness probe timed out)"),
        (False, FindingKind.LIVENESS_FAILING, "liveness failing"),
    ],
)
async def test_losing_liveness_after_being_live_stops_and_restarts_the_process(
    rig: Rig, timed_out: bool, kind: FindingKind, what: str
) -> None:
    runner = await running(rig)
    await ready(rig, runner)
    first = runner.info
    assert first is not None
    rig.backend.hang(RID)  # ignores SIGTERM: stop() must escalate to SIGKILL
    rig.probes.latest(LIVE).report(False, timed_out=timed_out, detail="no answer in 1s")
    await started(rig, runner, count=2)

    [(stopped, grace)] = rig.backend.stops
    assert (stopped, grace) == (first, 2.0)
    assert rig.backend.process(first.pid).exited
    assert (first.pid, 9) in rig.backend.kills
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.kind == kind
    assert incident.summary == f"llm/0 {what}: no answer in 1s"
    [exited] = rig.recorded(ReplicaExited)
    assert (exited.pid, exited.returncode, exited.expected) == (first.pid, None, True)
    [restart] = rig.actions_of(SUBJECT)
    assert restart.kind == "restart"
    assert restart.reason.startswith(what)
    assert restart.incident_id == incident.id
    await ready(rig, runner)
    await rig.until(lambda: rig.incidents.active(SUBJECT) is None, "incident resolved")
    rig.assert_every_action_audited()


def action(rig: Rig, action_id: int) -> ActionRecord:
    [found] = [a for a in rig.store.list_actions(limit=1000).items if a.id == action_id]
    return found


async def test_a_process_that_cannot_be_stopped_is_escalated_and_the_runner_goes_on(
    rig: Rig,
) -> None:
    # LocalBackend raises when a process is still alive after SIGKILL (stuck in the kernel, a
    # GPU driver call): the runner's task ended with it, and the controller's task group too
    runner = await running(rig)
    await ready(rig, runner)
    rig.backend.hang(RID)
    rig.backend.fail_next_stop()
    rig.probes.latest(LIVE).report(False, timed_out=True, detail="no answer in 1s")
    await rig.until(lambda: runner.replica.held, "replica held")
    assert runner.replica.state == ReplicaState.FAILED
    assert len(rig.backend.started) == 1  # no second process beside the one that lives on
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.state == IncidentState.ESCALATED
    assert "fake process survives SIGKILL" in incident.summary
    assert [a.kind for a in rig.actions_of(SUBJECT)] == ["escalate"]
    # the runner still takes commands: a restart once a person has dealt with the process
    restart = runner.command("restart", actor="ops", reason="cleared the stuck process")
    await started(rig, runner, count=2)
    assert action(rig, restart.id).ok is True
    rig.assert_every_action_audited()


async def test_an_operator_stop_that_cannot_stop_the_process_ends_its_action_failed(
    rig: Rig,
) -> None:
    runner = await running(rig)
    rig.backend.fail_next_stop()
    stop = runner.command("stop", actor="ops", reason="maintenance")
    await rig.until(lambda: action(rig, stop.id).ok is False, "stop action failed")
    assert "survives SIGKILL" in action(rig, stop.id).detail
    await rig.until(lambda: runner.replica.state == ReplicaState.FAILED, "replica failed")
    rig.assert_every_action_audited()


async def test_liveness_failing_before_the_first_success_is_left_to_start_timeout(
    rig: Rig,
) -> None:
    runner = await running(rig, start_timeout=30.0)
    rig.probes.latest(LIVE).report(False, timed_out=True)
    await rig.until(lambda: runner.replica.live == Health.UNHEALTHY, "liveness verdict seen")
    await rig.spin()
    assert rig.backend.stops == []
    assert len(rig.backend.started) == 1
    assert runner.replica.state == ReplicaState.RUNNING
    assert rig.store.list_incidents().total == 0


async def test_a_process_not_live_by_start_timeout_is_killed_and_restarted(rig: Rig) -> None:
    runner = await running(rig, start_timeout=30.0)
    first = runner.info
    rig.clock.advance(29)
    rig.probes.latest(LIVE).report(False)  # still loading: ignored, the deadline is 1s away
    await rig.until(lambda: runner.replica.live == Health.UNHEALTHY, "liveness verdict seen")
    await rig.spin()
    assert rig.backend.stops == []

    rig.clock.advance(2)  # now past start_timeout; the next turn of the runner notices
    rig.probes.latest(LIVE).report(False)
    await started(rig, runner, count=2)
    assert rig.backend.stops[0][0] == first
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.kind == FindingKind.LIVENESS_FAILING
    assert "not live 30s after start (start_timeout)" in incident.summary
    [restart] = rig.actions_of(SUBJECT)
    assert restart.kind == "restart"
    rig.assert_every_action_audited()


# --- crash loop and operator commands ---------------------------------------------------------


async def test_a_crash_loop_stops_restarts_and_escalates_until_an_operator_restarts_it(
    rig: Rig,
) -> None:
    runner = await running(rig)  # crash_loop.max_restarts = 3
    for n in range(2, 5):
        rig.backend.crash(RID, returncode=1)
        await started(rig, runner, count=n)
        rig.clock.advance(1)
    rig.backend.crash(RID, returncode=1)
    await rig.until(lambda: runner.replica.state == ReplicaState.FAILED, "state failed")
    await rig.spin()
    assert len(rig.backend.started) == 4  # the first start and three restarts, no more
    assert rig.backend.running() == []
    assert runner.info is None
    assert rig.store.get_replica(RID).state == ReplicaState.FAILED

    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.state == IncidentState.ESCALATED
    assert incident.findings == 5  # four exits and the crash loop
    assert "crash loop: 3 restarts in 60s" in incident.summary
    assert incident.evidence["findings"][-1]["kind"] == "crash_loop"
    loops = [e.finding for e in rig.recorded(FindingRaised)]
    assert [f.kind for f in loops].count(FindingKind.CRASH_LOOP) == 1
    kinds = [(a.kind, a.actor, a.ok) for a in rig.actions_of(SUBJECT)]
    assert kinds == [("restart", "vigil", True)] * 3 + [("escalate", "vigil", True)]

    action = runner.command("restart", actor="alice", reason="fixed the model path")
    assert action.incident_id == incident.id
    await started(rig, runner, count=5)
    done = rig.actions_of(SUBJECT)[-1]
    assert (done.id, done.kind, done.actor, done.ok) == (action.id, "restart", "alice", True)
    assert done.detail == f"started pid {runner.replica.pid}"
    await ready(rig, runner)
    await rig.until(lambda: rig.incidents.active(SUBJECT) is None, "incident resolved")
    assert rig.store.get_incident(incident.id).state == IncidentState.RESOLVED

    # the operator's restart reset the budget: the next crash is restarted, not escalated
    rig.backend.crash(RID, returncode=1)
    await started(rig, runner, count=6)
    rig.assert_every_action_audited()


async def test_a_stop_command_stops_the_process_and_it_is_not_restarted(rig: Rig) -> None:
    runner = await running(rig)
    info = runner.info
    action = runner.command("stop", actor="bob", reason="maintenance")
    await rig.until(lambda: runner.replica.state == ReplicaState.STOPPED, "state stopped")
    await rig.spin()
    assert [i for i, _ in rig.backend.stops] == [info]
    assert rig.backend.running() == []
    assert len(rig.backend.started) == 1
    assert runner.info is None
    assert rig.store.get_replica(RID).state == ReplicaState.STOPPED
    assert rig.probes.running() == []
    [exited] = rig.recorded(ReplicaExited)
    assert exited.expected is True
    [done] = rig.actions_of(SUBJECT)
    assert (done.id, done.kind, done.actor, done.ok, done.detail) == (
        action.id,
        "stop",
        "bob",
        True,
        "stopped",
    )
    assert rig.store.list_incidents().total == 0

    runner.command("start", actor="bob", reason="maintenance over")
    await started(rig, runner, count=2)
    assert rig.actions_of(SUBJECT)[-1].ok is True
    rig.assert_every_action_audited()


async def test_a_start_command_on_a_running_replica_does_nothing_but_is_recorded(
    rig: Rig,
) -> None:
    runner = await running(rig)
    pid = runner.replica.pid
    runner.command("start", actor="carol", reason="make sure")
    await rig.until(lambda: rig.actions_of(SUBJECT)[-1].ok is not None, "action finished")
    [done] = rig.actions_of(SUBJECT)
    assert (done.kind, done.ok, done.detail) == ("start", True, f"already running as pid {pid}")
    await rig.spin()
    assert len(rig.backend.started) == 1
    assert rig.backend.stops == []
    assert runner.replica.pid == pid
    rig.assert_every_action_audited()


async def test_a_restart_command_replaces_a_running_process(rig: Rig) -> None:
    runner = await running(rig)
    first = runner.info
    runner.command("restart", actor="alice", reason="new weights")
    await started(rig, runner, count=2)
    assert [i for i, _ in rig.backend.stops] == [first]
    assert runner.info != first
    [done] = rig.actions_of(SUBJECT)
    assert (done.kind, done.actor, done.ok) == ("restart", "alice", True)
    assert rig.store.list_incidents().total == 0  # an asked-for restart is no incident
    rig.assert_every_action_audited()


async def test_an_operator_command_during_a_backoff_supersedes_the_pending_restart(
    rig: Rig,
) -> None:
    runner = await running(rig, restart=RestartPolicy(backoff_initial=600.0))
    rig.backend.crash(RID)
    await rig.until(lambda: len(rig.actions_of(SUBJECT)) == 1, "restart action begun")
    [pending] = rig.actions_of(SUBJECT)
    assert pending.ok is None
    assert pending.reason.endswith("restart after 600s backoff")
    runner.command("stop", actor="bob", reason="investigating")
    await rig.until(lambda: rig.actions_of(SUBJECT)[0].ok is not None, "restart settled")
    await rig.spin()
    restart, stop = rig.actions_of(SUBJECT)
    assert (restart.ok, restart.detail) == (False, "superseded by an operator command")
    assert (stop.kind, stop.ok) == ("stop", True)
    assert len(rig.backend.started) == 1
    rig.assert_every_action_audited()


async def test_supervision_ending_during_a_backoff_ends_the_pending_restart_as_not_done(
    rig: Rig,
) -> None:
    # A controller shut down (or restarted to fix its config) while a replica waits out its
    # backoff: the restart it had begun must not stay "in progress" for ever, unaudited.
    async def forever(seconds: float) -> None:
        rig.sleeps.append(seconds)
        await asyncio.Event().wait()

    rig.sleep = forever  # type: ignore[method-assign]
    runner = await running(rig, restart=RestartPolicy(backoff_initial=600.0))
    rig.backend.crash(RID)
    await rig.until(lambda: rig.sleeps == [600.0], "the backoff begun")
    await rig.stop_tasks()
    late = runner.command("start", actor="ops", reason="after the end")
    await rig.spin()
    await runner.close(stop=False)
    restart, start = rig.actions_of(SUBJECT)
    assert (restart.kind, restart.ok) == ("restart", False)
    assert restart.detail == "not carried out: supervision ended"
    assert (start.id, start.ok) == (late.id, False)  # not taken by a waiter left behind
    assert len(rig.backend.started) == 1
    rig.assert_every_action_audited()


# --- restart policies, start failures --------------------------------------------------------


async def test_restart_policy_never_escalates_instead_of_restarting(rig: Rig) -> None:
    runner = await running(rig, restart=RestartPolicy(policy="never"))
    rig.backend.crash(RID, returncode=2)
    await rig.until(lambda: len(rig.actions_of(SUBJECT)) == 1, "escalation recorded")
    await rig.spin()
    assert len(rig.backend.started) == 1
    assert runner.replica.state == ReplicaState.EXITED
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.state == IncidentState.ESCALATED
    [escalate] = rig.actions_of(SUBJECT)
    assert (escalate.kind, escalate.actor, escalate.ok) == ("escalate", "vigil", True)
    assert "restart policy 'never' says no restart" in escalate.reason
    rig.assert_every_action_audited()


@pytest.mark.parametrize(("returncode", "restarted"), [(1, True), (0, False)])
async def test_restart_policy_on_failure_restarts_only_a_failed_process(
    rig: Rig, returncode: int, restarted: bool
) -> None:
    runner = await running(rig, restart=RestartPolicy(policy="on-failure", backoff_base=0.0))
    rig.backend.crash(RID, returncode=returncode)
    if restarted:
        await rig.until(lambda: len(rig.actions_of(SUBJECT)) == 1, "restart recorded")
    else:
        await rig.until(lambda: runner.replica.state == ReplicaState.EXITED, "state exited")
    await rig.spin()
    assert len(rig.backend.started) == (2 if restarted else 1)
    # a clean exit under on-failure is a finished job: no incident, no action
    assert [a.kind for a in rig.actions_of(SUBJECT)] == (["restart"] if restarted else [])
    assert (rig.incidents.active(SUBJECT) is not None) is restarted
    assert (runner.replica.state == ReplicaState.RUNNING) is restarted


async def test_a_start_failure_is_escalated_and_leaves_the_replica_failed(rig: Rig) -> None:
    rig.backend.fail_next_start(BackendError("serve: no such file or directory"))
    runner = rig.runner()
    rig.start(runner)
    await rig.until(lambda: runner.replica.state == ReplicaState.FAILED, "state failed")
    await rig.spin()
    assert len(rig.backend.started) == 1
    assert rig.backend.running() == []
    assert rig.recorded(ReplicaStarted) == []
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.kind == FindingKind.START_FAILED
    assert incident.state == IncidentState.ESCALATED
    assert "no such file or directory" in incident.summary
    [escalate] = rig.actions_of(SUBJECT)
    assert escalate.kind == "escalate"
    assert rig.store.get_replica(RID).state == ReplicaState.FAILED

    start = runner.command("start", actor="alice", reason="installed serve")
    await started(rig, runner, count=2)
    assert rig.actions_of(SUBJECT)[-1].id == start.id
    assert rig.actions_of(SUBJECT)[-1].ok is True
    rig.assert_every_action_audited()


async def test_an_operator_start_that_fails_again_is_audited_as_failed(rig: Rig) -> None:
    rig.backend.fail_next_start(BackendError("boom"))
    rig.backend.fail_next_start(BackendError("boom again"))
    runner = rig.runner()
    rig.start(runner)
    await rig.until(lambda: runner.replica.state == ReplicaState.FAILED, "state failed")
    runner.command("start", actor="alice", reason="try again")
    await rig.until(lambda: len(rig.backend.started) == 2, "second start attempt")
    await rig.until(lambda: len(rig.actions_of(SUBJECT)) == 3, "second escalation")
    escalate, start, escalate_again = rig.actions_of(SUBJECT)
    assert (start.kind, start.ok, start.detail) == ("start", False, "boom again")
    assert escalate.kind == escalate_again.kind == "escalate"
    assert runner.replica.state == ReplicaState.FAILED
    rig.assert_every_action_audited()


# --- adoption and shutdown --------------------------------------------------------------------


async def test_an_adopted_process_is_supervised_without_being_started(rig: Rig) -> None:
    orphan = rig.backend.add_orphan(RID)
    adopted = rig.backend.adopt(RID, orphan.pid, orphan.create_time)
    assert adopted is not None
    runner = rig.runner(adopt=adopted)
    rig.start(runner)
    await rig.until(lambda: runner.replica.state == ReplicaState.RUNNING, "state running")
    assert rig.backend.started == []
    assert runner.replica.pid == orphan.pid
    [event] = rig.recorded(ReplicaStarted)
    assert (event.pid, event.adopted) == (orphan.pid, True)

    # its exit code is unknown (not our child): that counts as a failure, so it is restarted
    rig.backend.crash(orphan.pid, returncode=0)
    await started(rig, runner, count=1)
    [exited] = rig.recorded(ReplicaExited)
    assert exited.returncode is None
    incident = rig.incidents.active(SUBJECT)
    assert incident is not None
    assert incident.summary == "llm/0 exited (code unknown: adopted process)"


async def test_close_with_stop_stops_the_process(rig: Rig) -> None:
    runner = await running(rig)
    info = runner.info
    await rig.stop_tasks()  # the daemon cancels the runner before closing it
    await runner.close(stop=True)
    assert [i for i, _ in rig.backend.stops] == [info]
    assert rig.backend.running() == []
    assert runner.info is None
    assert rig.store.get_replica(RID).state == ReplicaState.STOPPED
    assert rig.probes.running() == []


async def test_close_without_stop_leaves_the_process_for_adoption(rig: Rig) -> None:
    runner = await running(rig)
    await rig.stop_tasks()
    await runner.close(stop=False)
    assert rig.backend.stops == []
    assert rig.backend.running() == [runner.info]
    assert rig.store.get_replica(RID).state == ReplicaState.RUNNING


async def test_the_crash_loop_budget_counts_only_restarts_within_the_window(rig: Rig) -> None:
    policy = RestartPolicy(backoff_base=0.0, crash_loop=CrashLoop(max_restarts=2, window=10.0))
    runner = await running(rig, restart=policy)
    for n in range(2, 7):
        await ready(rig, runner)  # live each time: the never-live guard has nothing to say
        rig.clock.advance(6)  # only the previous restart is within the 10s window
        rig.backend.crash(RID)
        await started(rig, runner, count=n)
    assert runner.replica.restarts == 5
    assert not any(a.kind == "escalate" for a in rig.actions_of(SUBJECT))


# --- backoff on the injected clock, and close() while running -----------------------------------


async def test_a_restart_backoff_waits_on_the_injected_sleep(rig: Rig) -> None:
    runner = await running(rig, restart=RestartPolicy(backoff_initial=5.0))
    rig.backend.crash(RID)
    await started(rig, runner, count=2)
    assert rig.sleeps == [5.0]


async def test_close_with_stop_while_the_runner_runs_leaves_nothing_running(rig: Rig) -> None:
    runner = await running(rig)
    await runner.close(stop=True)
    await rig.spin(200)
    assert rig.backend.running() == []
    assert len(rig.backend.started) == 1
    assert rig.store.list_incidents().total == 0


# --- held replicas: an operator's stop and a give-up survive a controller restart --------------


async def test_an_operator_stop_holds_the_replica_down(rig: Rig) -> None:
    runner = await running(rig)
    runner.command("stop", actor="alice", reason="maintenance")
    await rig.until(lambda: runner.replica.held, "held")
    assert runner.replica.state == ReplicaState.STOPPED
    assert rig.store.get_replica(RID).held


def held(state: ReplicaState, **fields: object) -> Replica:
    """The replica as an earlier controller left it in the store: held down by an operator."""
    return Replica(
        id=RID, service="llm", index=0, node="local", port=9100, state=state, held=True, **fields
    )  # type: ignore[arg-type]


async def test_a_held_replica_from_an_earlier_run_stays_down_until_an_operator_starts_it(
    rig: Rig,
) -> None:
    before = held(ReplicaState.FAILED, restarts=4)
    runner = rig.runner(previous=before)
    rig.start(runner)
    await rig.spin(200)
    assert rig.backend.started == []
    assert (runner.replica.state, runner.replica.restarts) == (ReplicaState.FAILED, 4)
    runner.command("start", actor="alice", reason="fixed the bad build")
    await started(rig, runner)
    assert not runner.replica.held
    assert not rig.store.get_replica(RID).held


async def test_a_held_replica_whose_stop_was_cut_short_shows_stopped_not_running(
    rig: Rig,
) -> None:
    # The last controller went down after holding the replica and killing its process, before
    # it wrote `stopped`: nothing to adopt, so `running` would be a lie.
    before = held(ReplicaState.RUNNING, pid=4242)
    runner = rig.runner(previous=before)
    assert runner.replica.state == ReplicaState.STOPPED
    rig.start(runner)
    await rig.spin(200)
    assert rig.backend.started == []
    assert rig.store.get_replica(RID).state == ReplicaState.STOPPED


async def test_a_held_replica_still_alive_after_a_restart_is_stopped_not_left_unsupervised(
    rig: Rig,
) -> None:
    alive = rig.backend.add_orphan(RID)
    before = held(ReplicaState.RUNNING, pid=alive.pid)
    runner = rig.runner(previous=before, adopt=alive)
    rig.start(runner)
    await rig.until(lambda: runner.replica.state == ReplicaState.STOPPED, "the stop finished")
    assert [info.pid for info, _ in rig.backend.stops] == [alive.pid]
    assert not rig.backend.alive(alive)
    assert runner.replica.held and runner.replica.pid is None
    assert rig.backend.started == []


async def test_commands_still_queued_when_supervision_ends_are_ended_and_audited(rig: Rig) -> None:
    runner = await running(rig)
    queued = [runner.command(kind, actor="ops", reason="r") for kind in ("restart", "stop")]
    await runner.close(stop=False)  # before the run loop took either
    done = {a.id: a for a in rig.actions_of(SUBJECT)}
    for action in queued:
        ended = done[action.id]
        assert ended.finished_at is not None and ended.ok is False
        assert ended.detail == "not carried out: supervision ended"
    assert len(rig.backend.started) == 1  # neither was carried out
    rig.assert_every_action_audited()
