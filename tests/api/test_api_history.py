"""Incidents, events, actions and the audit trail, read from a real SQLite store."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from apifakes import NOW, bearer

from vigil.model import Finding, FindingKind, IncidentState
from vigil.store import Store

VIEW = bearer("viewer")
ADMIN = bearer("admin")


def _open_incidents(store: Store, count: int) -> None:
    for i in range(count):
        finding = Finding(
            kind=FindingKind.PROCESS_EXITED,
            subject=f"replica:web/{i}",
            at=NOW + i,
            summary=f"web/{i} exited with code 1",
        )
        store.open_incident(finding, opened_at=NOW + i)


async def test_incidents_are_paged_newest_first(client: httpx.AsyncClient, store: Store) -> None:
    _open_incidents(store, 3)
    body = (await client.get("/api/v1/incidents?offset=1&limit=1", headers=VIEW)).json()
    assert (body["total"], body["offset"], body["limit"]) == (3, 1, 1)
    (incident,) = body["items"]
    assert incident["subject"] == "replica:web/1"
    assert incident["state"] == "open"
    assert incident["time_to_recover"] is None


async def test_incidents_filter_by_state_and_subject(
    client: httpx.AsyncClient, store: Store
) -> None:
    _open_incidents(store, 2)
    first = store.list_incidents(subject="replica:web/0").items[0]
    store.update_incident(replace(first, state=IncidentState.RESOLVED, resolved_at=NOW + 5))
    resolved = (await client.get("/api/v1/incidents?state=resolved", headers=VIEW)).json()
    assert [i["subject"] for i in resolved["items"]] == ["replica:web/0"]
    assert resolved["items"][0]["time_to_recover"] == 5.0
    by_subject = await client.get(
        "/api/v1/incidents", params={"subject": "replica:web/1"}, headers=VIEW
    )
    assert by_subject.json()["total"] == 1


async def test_active_incidents_are_the_unresolved_ones(
    client: httpx.AsyncClient, store: Store
) -> None:
    _open_incidents(store, 2)
    first = store.list_incidents(subject="replica:web/0").items[0]
    store.update_incident(replace(first, state=IncidentState.RESOLVED, resolved_at=NOW + 5))
    active = (await client.get("/api/v1/incidents?state=active", headers=VIEW)).json()
    assert [i["subject"] for i in active["items"]] == ["replica:web/1"]


async def test_one_incident_by_id_and_404_for_an_unknown_one(
    client: httpx.AsyncClient, store: Store
) -> None:
    _open_incidents(store, 1)
    (incident,) = store.list_incidents().items
    found = await client.get(f"/api/v1/incidents/{incident.id}", headers=VIEW)
    assert found.json()["summary"] == "web/0 exited with code 1"
    missing = await client.get("/api/v1/incidents/999", headers=VIEW)
    assert missing.status_code == 404
    assert "999" in missing.json()["detail"]


async def test_events_filter_by_subject_and_kind(client: httpx.AsyncClient, store: Store) -> None:
    store.append_event(NOW, "replica.exited", "replica:web/0", {"returncode": 1})
    store.append_event(NOW + 1, "replica.started", "replica:web/0", {"pid": 7})
    store.append_event(NOW + 2, "node.heartbeat", "node:node-a", {"seq": 3})
    body = (
        await client.get(
            "/api/v1/events",
            params={"subject": "replica:web/0", "kind": "replica.exited"},
            headers=VIEW,
        )
    ).json()
    assert body["total"] == 1
    assert body["items"][0]["data"] == {"returncode": 1}


async def test_actions_are_listed(client: httpx.AsyncClient, store: Store) -> None:
    store.start_action(
        kind="restart", subject="replica:web/0", actor="vigil", reason="hung", at=NOW
    )
    body = (await client.get("/api/v1/actions", headers=VIEW)).json()
    assert [(a["kind"], a["actor"]) for a in body["items"]] == [("restart", "vigil")]


@pytest.mark.parametrize("limit", ["0", "501", "many"])
async def test_a_bad_limit_is_422_naming_the_field(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get(f"/api/v1/events?limit={limit}", headers=VIEW)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("query.limit: ")
    assert f"(got '{limit}')" in detail


async def test_a_negative_offset_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/actions?offset=-1", headers=VIEW)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query.offset: ")


async def test_an_unknown_incident_state_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/incidents?state=sleeping", headers=VIEW)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query.state.0: ")


async def test_admins_read_the_audit_trail_and_verify_it(
    client: httpx.AsyncClient, store: Store
) -> None:
    await client.post("/api/v1/replicas/web/0/restart", headers=bearer("operator"))
    audit = (await client.get("/api/v1/audit", headers=ADMIN)).json()
    assert [e["action"] for e in audit["items"]] == ["replica.restart"]
    assert len(audit["items"][0]["hash"]) == 64
    verify = await client.get("/api/v1/audit/verify", headers=ADMIN)
    assert verify.json() == {"intact": True, "first_broken": None}


async def test_verifying_the_audit_trail_needs_the_admin_role(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/audit/verify", headers=VIEW)
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["incidents", "events", "actions", "audit"])
async def test_an_offset_beyond_the_databases_integers_is_422_not_500(
    client: httpx.AsyncClient, path: str
) -> None:
    # SQLite binds at most a signed 64-bit integer: 2**63 used to crash with OverflowError (500)
    response = await client.get(f"/api/v1/{path}?offset={2**63}", headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query.offset: ")
    largest = await client.get(f"/api/v1/{path}?offset={2**63 - 1}", headers=ADMIN)
    assert largest.status_code == 200
    assert largest.json()["items"] == []


@pytest.mark.parametrize("incident_id", [2**63, 10**30, -(2**63) - 1])
async def test_an_incident_id_beyond_the_databases_integers_is_404_not_500(
    client: httpx.AsyncClient, incident_id: int
) -> None:
    response = await client.get(f"/api/v1/incidents/{incident_id}", headers=VIEW)
    assert response.status_code == 404
    assert response.json()["detail"] == f"no incident named '{incident_id}'"
