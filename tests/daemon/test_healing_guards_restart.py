"""End to end: what the healing guards keep across a restart of the controller (an in-process
Controller over real model-server replicas, LocalBackend, real HTTP probes, SQLite store).

A replica escalated as never live is released by a change of its service's guards alone
(``escalate_after`` raised: a config reload); the count of restarts that did not make a replica
live outlives the controller, so a restart of the controller does not grant more of them.
"""

from __future__ import annotations

import pytest

from vigil.daemon import Controller
from vigil.model import FindingKind, IncidentState, ReplicaState

from ._support import eventually, model_servers, service
from .conftest import StartController


def never_live(tag: str, escalate_after: int) -> dict:
    """One replica whose liveness path always answers 404: it is never live."""
    svc = service(
        tag, replicas=1, start_timeout=1.0, remediation={"escalate_after": escalate_after}
    )
    svc["liveness"] = {**svc["liveness"], "http": {"path": "/no-such-path"}}
    return svc


def escalations(controller: Controller) -> list:
    found = controller.store.list_incidents(subject="replica:llm/0", limit=10).items
    return [i for i in found if i.state == IncidentState.ESCALATED]


@pytest.mark.slow
async def test_raising_only_escalate_after_releases_a_replica_escalated_as_never_live(
    start_controller: StartController, tag: str
) -> None:
    first = await start_controller({"services": [never_live(tag, 1)]})
    await eventually(lambda: escalations(first), 20, "escalated as never live")
    assert first.replicas("llm")[0].held is True
    await start_controller.stop(first)

    # the reload: the same service, only its guards changed
    second = await start_controller({"services": [never_live(tag, 3)]})
    # released: started again at once, and restarted by the guards' new allowance
    await eventually(lambda: model_servers(tag, "llm/0"), 10, "started again")

    def state() -> tuple[ReplicaState, bool, int]:
        replica = second.replicas("llm")[0]
        return (replica.state, replica.held, replica.restarts)

    # a fresh start, then escalated again after the 3 restarts the new guards allow
    await eventually(
        lambda: state() == (ReplicaState.FAILED, True, 3), 30, "escalated again", state
    )


@pytest.mark.slow
async def test_the_never_live_count_outlives_a_restart_of_the_controller(
    start_controller: StartController, tag: str
) -> None:
    config = {"services": [never_live(tag, 3)]}
    first = await start_controller(config)
    await eventually(lambda: first.replicas("llm")[0].restarts >= 1, 20, "one restart")
    await start_controller.stop(first)
    assert 1 <= first.replicas("llm")[0].restarts < 3  # not escalated yet
    second = await start_controller(config)
    [incident] = await eventually(lambda: escalations(second), 30, "escalated as never live")
    # escalated after 3 restarts that did not help in all, not 3 more after the restart
    assert "never live after 3 restart(s)" in incident.summary
    replica = second.replicas("llm")[0]
    assert (replica.state, replica.held, replica.restarts) == (ReplicaState.FAILED, True, 3)
    kinds = [f["kind"] for f in incident.evidence["findings"]]
    assert FindingKind.NEVER_LIVE.value in kinds
