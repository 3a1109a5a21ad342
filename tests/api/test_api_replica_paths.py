"""Replica paths that name no replica the config could hold (a service name past 63
characters, an index past 999) are a 422 naming the path field, on SQLite as on PostgreSQL.
The failed command's audit entry used to carry the whole name as its target: past 255
characters PostgreSQL refused it, and the answer was a 500 instead of the refusal."""

from __future__ import annotations

import httpx
import pytest
from apifakes import FakeControl, bearer

from vigil.store import SqlStore

LONG = "x" * 300
HUGE = "9" * 300


@pytest.fixture
def control() -> FakeControl:
    return FakeControl(balanced=True)  # a real pool for the "web" service


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"/api/v1/replicas/{LONG}/0/restart", None, "path.service"),
        (f"/api/v1/replicas/web/{HUGE}/restart", None, "path.index"),
        (f"/api/v1/replicas/{LONG}/0/balancer", {"weight": 2}, "path.service"),
        ("/api/v1/replicas/web/1000/balancer", {"weight": 2}, "path.index"),
    ],
    ids=["restart-long-service", "restart-huge-index", "balancer-long-service", "index-1000"],
)
async def test_a_replica_path_no_config_could_hold_is_a_422_naming_it(
    any_client: httpx.AsyncClient, path: str, body: dict | None, field: str
) -> None:
    resp = await any_client.post(path, json=body, headers=bearer("operator"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(f"{field}: ")


async def test_an_unknown_replica_of_a_possible_name_is_still_404_and_audited(
    any_client: httpx.AsyncClient, any_store: SqlStore
) -> None:
    resp = await any_client.post("/api/v1/replicas/nosuch/999/restart", headers=bearer("operator"))
    assert resp.status_code == 404, resp.text
    [entry] = any_store.list_audit().items
    assert (entry.target, entry.result) == (
        "replica:nosuch/999",
        "error: no replica named 'nosuch/999'",
    )
