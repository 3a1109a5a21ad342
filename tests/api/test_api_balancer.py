"""Balancer views and admin changes, placements, and /balance_load over a balancer's ranking."""

from __future__ import annotations

import httpx
from apifakes import FakeControl, bearer

from vigil.store import Store

VIEW = bearer("viewer")
OPS = bearer("operator")


async def test_a_service_without_a_balancer_has_no_balancer_view(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/services/web/balancer", headers=VIEW)
    assert response.status_code == 404
    assert "balancer" in response.json()["detail"]


async def test_the_balancer_view_ranks_replicas_by_share(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.balanced = True
    body = (await client.get("/api/v1/services/web/balancer", headers=VIEW)).json()
    assert (body["service"], body["policy"]) == ("web", "p2c_ewma")
    rows = body["upstreams"]
    assert [r["id"] for r in rows] == ["web/0", "web/1"]
    assert rows[0]["eligible"] and rows[0]["share"] == 1.0
    assert not rows[1]["eligible"] and rows[1]["share"] == 0.0  # not ready: no traffic


async def test_draining_a_replica_takes_it_out_of_rotation_and_is_audited(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    control.balanced = True
    response = await client.post(
        "/api/v1/replicas/web/0/balancer",
        headers=OPS,
        json={"state": "draining", "reason": "rolling update"},
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["eligible"]) == ("draining", False)
    pods = (await client.get("/balance_load?service=web", headers=VIEW)).json()
    assert pods == {"load_balanced_pods": []}
    [entry] = store.list_audit().items
    assert (entry.actor, entry.action, entry.target, entry.reason, entry.result) == (
        "olga",
        "balancer",
        "replica:web/0",
        "rolling update",
        "ok",
    )


async def test_a_weight_must_be_positive_and_a_state_known(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.balanced = True
    for body in ({"weight": 0}, {"state": "asleep"}, {}):
        response = await client.post("/api/v1/replicas/web/0/balancer", headers=OPS, json=body)
        assert response.status_code == 422, body
    ok = await client.post("/api/v1/replicas/web/0/balancer", headers=OPS, json={"weight": 3})
    assert ok.json()["weight"] == 3.0


async def test_a_viewer_cannot_change_the_balancer(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.balanced = True
    response = await client.post(
        "/api/v1/replicas/web/0/balancer", headers=VIEW, json={"state": "maint"}
    )
    assert response.status_code == 403


async def test_balance_load_reports_the_balancers_shares_for_eligible_replicas(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.balanced = True
    pods = (await client.get("/balance_load", headers=VIEW)).json()["load_balanced_pods"]
    assert pods == [{"replica": "web/0", "port": 9000, "node": "node-a", "share": 1.0}]


async def test_a_placement_picks_a_node_that_fits(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/placements", headers=OPS, json={"gpus": 1, "labels": {"gpu": "a100"}}
    )
    assert response.status_code == 200
    assert response.json()["node"] == "node-a"


async def test_a_placement_that_fits_nowhere_is_409_with_a_reason_per_node(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/placements", headers=OPS, json={"gpus": 4})
    assert response.status_code == 409
    body = response.json()
    assert body["detail"].startswith("no node fits the task")
    assert len(body["reasons"]) == 2
    assert any(r.startswith("node-a: needs 4 GPUs") for r in body["reasons"])


async def test_a_placement_with_bad_needs_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/placements", headers=OPS, json={"gpus": -1})
    assert response.status_code == 422
    assert "gpus" in response.json()["detail"]


async def test_a_misspelt_field_in_a_balancer_change_or_a_placement_is_a_422_naming_it(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    # Unknown fields were ignored: {"gpu": 4} placed a task needing four GPUs as one needing
    # none, and {"weight": 2, "sate": "draining"} re-weighted the replica and left it serving.
    control.balanced = True
    placed = await client.post("/api/v1/placements", headers=OPS, json={"gpu": 4})
    assert placed.status_code == 422, placed.text
    assert "body.gpu: extra inputs are not permitted" in placed.json()["detail"]
    changed = await client.post(
        "/api/v1/replicas/web/0/balancer", headers=OPS, json={"weight": 2, "sate": "draining"}
    )
    assert changed.status_code == 422, changed.text
    assert "body.sate: extra inputs are not permitted" in changed.json()["detail"]
    view = (await client.get("/api/v1/services/web/balancer", headers=VIEW)).json()
    rows = {u["id"]: (u["weight"], u["state"]) for u in view["upstreams"]}
    assert rows["web/0"] == (1.0, "ready")
