"""Bearer tokens, roles, and open read-only mode."""

from __future__ import annotations

import httpx
from apifakes import NOW, FakeControl, bearer

from vigil.store import Store


async def test_a_request_without_a_token_gets_401_saying_how_to_send_one(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/nodes")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer <token>" in response.json()["detail"]


async def test_a_wrong_token_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nodes", headers=bearer("not-a-configured-token"))
    assert response.status_code == 401
    assert response.json()["detail"].startswith("invalid bearer token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_non_bearer_authorization_header_counts_as_missing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/nodes", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("missing bearer token")


async def test_a_viewer_may_read(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nodes", headers=bearer("viewer"))
    assert response.status_code == 200


async def test_a_viewer_restarting_a_replica_gets_403_naming_the_operator_role(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    response = await client.post("/api/v1/replicas/web/0/restart", headers=bearer("viewer"))
    assert response.status_code == 403
    assert "operator role" in response.json()["detail"]
    assert control.commands == []
    assert store.list_audit().total == 0


async def test_an_operator_restart_is_accepted_and_audited_with_the_token_name(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    response = await client.post(
        "/api/v1/replicas/web/0/restart",
        headers=bearer("operator"),
        json={"reason": "stuck on a CUDA error"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "restart"
    assert body["subject"] == "replica:web/0"
    assert body["actor"] == "olga"
    assert control.commands == [("web/0", "restart", "olga", "stuck on a CUDA error")]
    (entry,) = store.list_audit().items
    assert (entry.actor, entry.action, entry.target) == ("olga", "replica.restart", "replica:web/0")
    assert (entry.reason, entry.result, entry.at) == ("stuck on a CUDA error", "accepted", NOW)
    assert entry.detail == {"action_id": 1}


async def test_the_audit_trail_needs_the_admin_role(client: httpx.AsyncClient) -> None:
    denied = await client.get("/api/v1/audit", headers=bearer("operator"))
    assert denied.status_code == 403
    assert "admin role" in denied.json()["detail"]
    allowed = await client.get("/api/v1/audit", headers=bearer("admin"))
    assert allowed.status_code == 200


async def test_with_no_tokens_configured_reads_are_open(open_client: httpx.AsyncClient) -> None:
    response = await open_client.get("/api/v1/services")
    assert response.status_code == 200


async def test_with_no_tokens_configured_commands_get_403_saying_to_add_tokens(
    open_client: httpx.AsyncClient, control: FakeControl
) -> None:
    response = await open_client.post("/api/v1/replicas/web/0/restart")
    assert response.status_code == 403
    assert "api.tokens" in response.json()["detail"]
    assert (await open_client.post("/auto_maintain")).status_code == 403
    assert (await open_client.get("/api/v1/audit")).status_code == 403
    assert control.commands == []


async def test_with_no_tokens_configured_a_presented_token_is_still_checked(
    open_client: httpx.AsyncClient,
) -> None:
    response = await open_client.get("/api/v1/services", headers=bearer("viewer"))
    assert response.status_code == 401


async def test_healthz_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
