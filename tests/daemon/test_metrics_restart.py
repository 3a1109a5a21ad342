"""``/metrics`` after a restart of the controller: what it says is what the store and the node
monitor hold, not only what this process saw change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prometheus_client import generate_latest

from vigil.model import Finding, FindingKind, IncidentState
from vigil.settings import Settings
from vigil.store import SqlStore

from .conftest import StartController


async def test_incidents_open_before_a_restart_and_every_node_are_on_metrics(
    tmp_path: Path, start_controller: StartController
) -> None:
    # an earlier run left two incidents open and one resolved; node gpu-01 never reported.
    # vigil_incidents_active read 0 (an alert on it went quiet at every restart) and
    # vigil_node_status had no series at all until a node's status changed
    config = {"nodes": [{"name": "local"}, {"name": "gpu-01", "address": "192.0.2.1"}]}
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data")} | config)
    (tmp_path / "data").mkdir()
    store = SqlStore(settings.store_url(tmp_path))
    try:
        for i, subject in enumerate(("node:gpu-01", "alert:disk", "alert:gone")):
            finding = Finding(FindingKind.EXTERNAL_ALERT, subject, at=float(i), summary="x")
            incident = store.open_incident(finding, opened_at=float(i))
        resolved = dataclasses.replace(incident, state=IncidentState.RESOLVED, resolved_at=5.0)
        store.update_incident(resolved)
    finally:
        store.close()
    controller = await start_controller(config)
    text = generate_latest(controller.registry).decode()
    assert "vigil_incidents_active 2.0" in text, text
    assert 'vigil_node_status{node="gpu-01"} -1.0' in text, text
    # the controller's own host needs no agent: up, as GET /api/v1/nodes lists it
    assert 'vigil_node_status{node="local"} 0.0' in text, text
