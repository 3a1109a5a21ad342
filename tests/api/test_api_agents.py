"""Heartbeats from node agents: agent tokens are bound to their node."""

from __future__ import annotations

import httpx
from apifakes import AGENT_A, FakeControl, bearer

BEAT = {"node": "node-a", "seq": 4, "info": {"load1": 0.5}}


async def test_an_agent_reports_for_its_node_and_learns_the_interval(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    response = await client.post("/api/v1/heartbeats", headers=bearer(AGENT_A), json=BEAT)
    assert response.status_code == 200
    assert response.json() == {"interval": 1.0, "node_status": "up", "samples_rejected": 0}
    assert control.heartbeats == [("node-a", 4, {"load1": 0.5})]


async def test_an_agent_token_for_another_node_gets_403(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    response = await client.post(
        "/api/v1/heartbeats", headers=bearer(AGENT_A), json={**BEAT, "node": "node-b"}
    )
    assert response.status_code == 403
    assert "'node-a'" in response.json()["detail"]
    assert control.heartbeats == []


async def test_an_admin_token_may_report_for_any_node(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/heartbeats", headers=bearer("admin"), json={**BEAT, "node": "node-b"}
    )
    assert response.status_code == 200


async def test_an_operator_token_may_not_send_heartbeats(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/heartbeats", headers=bearer("operator"), json=BEAT)
    assert response.status_code == 403


async def test_a_heartbeat_without_a_token_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/heartbeats", json=BEAT)
    assert response.status_code == 401
    assert "agents" in response.json()["detail"]


async def test_a_heartbeat_for_an_unknown_node_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/heartbeats", headers=bearer("admin"), json={**BEAT, "node": "ghost"}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "no node named 'ghost'"}


async def test_a_negative_seq_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/heartbeats", headers=bearer(AGENT_A), json={**BEAT, "seq": -1}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body.seq: ")
    assert "(got -1)" in response.json()["detail"]


async def test_a_heartbeat_without_a_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/heartbeats", headers=bearer(AGENT_A))
    assert response.status_code == 422
    assert response.json()["detail"] == "body: field required"


async def test_a_heartbeat_body_that_is_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/heartbeats", headers=bearer(AGENT_A), json=[1, 2])
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body: ")


async def test_samples_can_ride_on_a_heartbeat(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    body = {
        "node": "node-a",
        "seq": 1,
        "samples": [{"name": "host.mem.used_pct", "value": 31.5, "at": 1000.0}],
    }
    response = await client.post("/api/v1/heartbeats", headers=bearer(AGENT_A), json=body)
    assert response.status_code == 200
    assert response.json()["samples_rejected"] == 0
    assert control.series.query("host.mem.used_pct", {"node": "node-a"}) == [(1000.0, 31.5)]
