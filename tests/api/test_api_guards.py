"""``GET /api/v1/remediation/guards``: each service's guards and what they hold, from a real
HealingGate (a slot taken, a never-live escalation, an open window); read with the viewer
role, refused without a token; typed in the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from apifakes import NOW, FakeControl, bearer

from vigil.daemon._guards import guard_views
from vigil.remediation import HealingGate, NeverLive
from vigil.settings import RemediationSettings, Service

URL = "/api/v1/remediation/guards"


def gate_with_state() -> HealingGate:
    start = datetime.fromtimestamp(NOW - 60, UTC)
    window = {"name": "upgrade", "start": start, "end": start + timedelta(hours=1)}
    settings = RemediationSettings.model_validate(
        {"max_unavailable": "50%", "escalate_after": 2, "windows": [window]}
    )
    web = Service(name="web", command="serve {port}", replicas=4)
    gate = HealingGate(settings, [web], clock=lambda: NOW)
    assert gate.ask("web/0", "web", never_live=0, hold_for=30.0).verdict.value == "suppressed"
    return gate


async def test_a_viewer_reads_each_service_s_guards_and_what_they_hold(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    settings = RemediationSettings.model_validate({"max_unavailable": "50%", "escalate_after": 2})
    web = Service(name="web", command="serve {port}", replicas=4)
    gate = HealingGate(settings, [web], clock=lambda: NOW)
    assert gate.ask("web/0", "web", never_live=0, hold_for=30.0).allowed
    gate.set_never_live("web/2", NeverLive(2, escalated=True))
    gate.set_never_live("web/3", NeverLive(1))
    ids = ["web/0", "web/1", "web/2", "web/3"]
    control.guards = guard_views(gate, lambda service: ids, NOW)

    response = await client.get(URL, headers=bearer("viewer"))
    assert response.status_code == 200, response.text
    [web_guards] = response.json()
    assert web_guards == {
        "service": "web",
        "dry_run": False,
        "max_unavailable": "50%",
        "unavailable_limit": 2,
        "slots": [{"replica": "web/0", "until": NOW + 30.0}],
        "rate_actions": 30,
        "rate_window": 600.0,
        "recent_actions": 1,
        "escalate_after": 2,
        "never_live": [
            {"replica": "web/2", "restarts": 2, "escalated": True},
            {"replica": "web/3", "restarts": 1, "escalated": False},
        ],
        "windows": [],
    }


async def test_an_open_maintenance_window_is_shown_with_its_end(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.guards = guard_views(gate_with_state(), lambda service: ["web/0"], NOW)
    [web_guards] = (await client.get(URL, headers=bearer("viewer"))).json()
    [window] = web_guards["windows"]
    assert "upgrade" in window["window"]
    assert window["open_until"] == NOW - 60 + 3600
    assert web_guards["slots"] == []  # suppressed: no slot taken


async def test_without_a_token_the_guards_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 401
    assert "Authorization: Bearer <token>" in response.json()["detail"]


async def test_the_openapi_document_types_the_answer(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    answer = spec["paths"][URL]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"]["items"]["$ref"].endswith("/GuardsOut")
    guards = spec["components"]["schemas"]["GuardsOut"]
    assert guards["properties"]["slots"]["items"]["$ref"].endswith("/SlotOut")
    assert guards["properties"]["never_live"]["items"]["$ref"].endswith("/NeverLiveOut")
    assert set(guards["required"]) >= {"service", "slots", "never_live", "windows"}
