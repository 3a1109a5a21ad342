"""An agent batch whose template, level or example holds control characters is taken with them
repaired (spaces, as pushed lines are), on SQLite as on PostgreSQL: there the NUL of a new
template's finding failed its incident's write, and the batch answered 500 on every retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from apifakes import AGENT_A, FakeControl, bearer, build_app, serve
from prometheus_client import CollectorRegistry
from test_api_logs import batch

from _log_pipeline import Clock
from _log_pipeline import pipeline as log_pipeline
from vigil.store import SqlStore


@pytest.fixture
async def api(
    control: FakeControl, any_store: SqlStore, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = {
        "analysis": {"warmup_lines": 3, "warmup_seconds": 0, "incident_severity": "warning"}
    }
    control.logs = log_pipeline(tmp_path, any_store, Clock(1_700_000_000.0), settings)
    app = build_app(control, any_store, CollectorRegistry())
    async with serve(app) as http:
        yield http


async def test_control_characters_in_an_agent_batch_are_repaired(
    api: httpx.AsyncClient, any_store: SqlStore
) -> None:
    agent = bearer(AGENT_A)
    warm = await api.post(
        "/api/v1/logs/batches", json=batch(1, ("worker <*> up", 10)), headers=agent
    )
    assert warm.status_code == 200, warm.text
    bad = batch(2, ("disk \x00 full on <*>", 1))
    bad["templates"][0].update(level="FATAL", samples=["disk \x00 full on sda\x1b[2J"])
    resp = await api.post("/api/v1/logs/batches", json=bad, headers=agent)
    assert resp.status_code == 200, resp.text
    assert resp.json()["findings"] == 1
    templates = (await api.get("/api/v1/logs/templates", headers=bearer("viewer"))).json()
    new = next(t for t in templates["items"] if t["template"].startswith("disk"))
    assert (new["template"], new["level"], new["example"]) == (
        "disk   full on <*>",
        "FATAL",
        "disk   full on sda [2J",
    )
    [incident] = any_store.list_incidents().items
    assert "\x00" not in incident.summary
