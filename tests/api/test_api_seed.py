"""The prototype's endpoints at the root: balance_load, detect_fault, auto_maintain."""

from __future__ import annotations

from dataclasses import replace

import httpx
from apifakes import FakeControl, bearer

from vigil.model import replica_id
from vigil.store import Store

VIEW = bearer("viewer")


async def test_balance_load_uses_the_only_service_and_lists_its_healthy_replicas(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/balance_load", headers=VIEW)
    assert response.status_code == 200
    assert response.json() == {
        "load_balanced_pods": [{"replica": "web/0", "port": 9000, "node": "node-a", "share": 1.0}]
    }


async def test_balance_load_gives_healthy_replicas_equal_shares(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.replica_list[1] = replace(
        control.replica_list[0], id=replica_id("web", 1), index=1, port=9001
    )
    pods = (await client.get("/balance_load?service=web", headers=VIEW)).json()
    assert [p["share"] for p in pods["load_balanced_pods"]] == [0.5, 0.5]


async def test_balance_load_needs_a_service_when_several_exist(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.replica_list.append(
        replace(control.replica_list[0], id=replica_id("db", 0), service="db")
    )
    response = await client.get("/balance_load", headers=VIEW)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query.service: ")
    assert "db, web" in response.json()["detail"]


async def test_balance_load_for_an_unknown_service_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/balance_load?service=nope", headers=VIEW)
    assert response.status_code == 404


async def test_detect_fault_reports_the_control_planes_verdict(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    assert (await client.get("/detect_fault", headers=VIEW)).json() == {"fault_detected": False}
    control.fault = True
    assert (await client.get("/detect_fault", headers=VIEW)).json() == {"fault_detected": True}


async def test_an_operator_runs_auto_maintain_and_it_is_audited(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    response = await client.post("/auto_maintain", headers=bearer("operator"))
    assert response.status_code == 200
    assert response.json() == {"maintenance_completed": True}
    assert control.maintained_by == ["olga"]
    (entry,) = store.list_audit().items
    assert (entry.actor, entry.action, entry.result) == ("olga", "auto_maintain", "accepted")


async def test_a_viewer_may_not_run_auto_maintain(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    response = await client.post("/auto_maintain", headers=VIEW)
    assert response.status_code == 403
    assert control.maintained_by == []


async def test_get_auto_maintain_is_405_with_an_allow_header_and_a_hint(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    response = await client.get("/auto_maintain", headers=bearer("operator"))
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json() == {"detail": "auto_maintain changes state: use POST"}
    assert control.maintained_by == []
