"""An operator's free text (the reason of a replica command or a balancer change) with a
control character is refused (422 naming ``body.reason``) before anything acts: PostgreSQL text
cannot hold a NUL, so the change used to be made and its audit entry then failed (500), an
action without its audit trail. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from apifakes import FakeControl, bearer

from vigil.store import SqlStore

OPS = bearer("operator")


@pytest.fixture
def control() -> FakeControl:
    return FakeControl(balanced=True)  # a real pool for the "web" service


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/replicas/web/0/balancer", {"state": "draining", "reason": "a\x00b"}),
        ("/api/v1/replicas/web/0/restart", {"reason": "a\x00b"}),
        ("/api/v1/replicas/web/0/restart", {"reason": "ok\x1b[2Jcleared"}),
    ],
    ids=["drain-nul", "restart-nul", "restart-escape"],
)
async def test_a_reason_with_a_control_character_is_refused_before_anything_acts(
    any_client: httpx.AsyncClient, control: FakeControl, any_store: SqlStore, path: str, body: dict
) -> None:
    resp = await any_client.post(path, json=body, headers=OPS)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith("body.reason: must not hold control characters")
    assert control.commands == []  # nothing restarted
    assert control.pool.get("web/0").state.value == "ready"  # nothing drained
    assert any_store.list_audit().total == 0


async def test_a_reason_with_tabs_and_newlines_is_kept(
    any_client: httpx.AsyncClient, any_store: SqlStore
) -> None:
    reason = "disk\tfull\non node-a"
    resp = await any_client.post(
        "/api/v1/replicas/web/0/restart", json={"reason": reason}, headers=OPS
    )
    assert resp.status_code == 202, resp.text
    assert any_store.list_audit().items[0].reason == reason
