"""Anomaly rules in a real controller: a real series pushed over HTTP, an incident on its
labelled anomaly and none on its normal part, with the view that fired in the summary."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from .conftest import ADMIN, StartController

SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.is_dir():
    SHARED = Path("/work/shared")
NAB = SHARED / "data" / "nab"
SERIES = "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.split(".")[0]).replace(tzinfo=UTC).timestamp()


@pytest.mark.skipif(not (NAB / "data" / SERIES).is_file(), reason="NAB data not present")
async def test_an_anomaly_rule_fires_on_the_labelled_anomaly_of_a_real_series_only(
    start_controller: StartController,
) -> None:
    with (NAB / "data" / SERIES).open() as f:
        rows = [(epoch(r["timestamp"]), float(r["value"])) for r in csv.DictReader(f)]
    windows = [
        (epoch(a), epoch(b))
        for a, b in json.loads((NAB / "labels" / "combined_windows.json").read_text())[SERIES]
    ]
    controller = await start_controller(
        {
            "nodes": [{"name": "db1"}],
            "rules": [{"name": "rds-cpu", "expr": "anomaly(rds.cpu) > 0.9"}],
        }
    )
    samples = [{"name": "rds.cpu", "value": v, "at": t} for t, v in rows]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{controller.api_port}") as client:
        for start in range(0, len(samples), 2000):
            pushed = await client.post(
                "/api/v1/samples",
                headers=AUTH,
                json={"node": "db1", "samples": samples[start : start + 2000]},
            )
            assert pushed.json()["accepted"] == len(samples[start : start + 2000]), pushed.text
        incidents = (await client.get("/api/v1/incidents", headers=AUTH)).json()["items"]
    assert controller.rules.evaluations == {"rds-cpu": len(rows)}
    [incident] = incidents  # nothing on the normal part of the series
    assert incident["subject"] == "rule:rds-cpu{node=db1}"
    assert any(a <= incident["detected_at"] <= b for a, b in windows)
    assert "anomaly(rds.cpu) score 0.9" in incident["summary"]
    assert "beyond its range ever seen: evidence" in incident["summary"]
