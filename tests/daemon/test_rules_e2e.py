"""Rules in a real controller: a real series pushed over HTTP, an incident on its labelled
anomaly and none on its normal part, with the view that fired in the summary; a breach firing
across a restart is still resolved."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from vigil.daemon import Controller

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


async def test_a_rule_firing_before_a_restart_is_resolved_by_the_next_value_within_bounds(
    start_controller: StartController,
) -> None:
    # The rule engine starts empty: a breach firing before the restart was never cleared, its
    # incident stayed open for ever however low the value went.
    hot = {"name": "hot", "expr": "host.cpu.used_pct > 90"}
    config = {"nodes": [{"name": "n1"}, {"name": "n2"}], "rules": [hot]}

    async def push(controller: Controller, node: str, value: float, at: float) -> list[dict]:
        base = f"http://127.0.0.1:{controller.api_port}"
        async with httpx.AsyncClient(base_url=base) as client:
            sample = {"name": "host.cpu.used_pct", "value": value, "at": at}
            pushed = await client.post(
                "/api/v1/samples", headers=AUTH, json={"node": node, "samples": [sample]}
            )
            assert pushed.json()["accepted"] == 1, pushed.text
            return (await client.get("/api/v1/incidents", headers=AUTH)).json()["items"]

    first = await start_controller(config)
    await push(first, "n1", 95.0, 1000.0)
    opened = await push(first, "n2", 97.0, 1000.0)
    assert {i["subject"]: i["state"] for i in opened} == {
        "rule:hot{node=n1}": "open",
        "rule:hot{node=n2}": "open",
    }
    await start_controller.stop(first)
    second = await start_controller(config)
    incidents = await push(second, "n1", 40.0, 1010.0)
    states = {i["subject"]: i["state"] for i in incidents}
    assert states == {"rule:hot{node=n1}": "resolved", "rule:hot{node=n2}": "open"}
    assert second.rules.firing() == {"hot": 1}  # n2 still beyond: its next low value clears it
    await start_controller.stop(second)
    other = {"name": "cool", "expr": "host.cpu.used_pct < 5"}
    third = await start_controller({**config, "rules": [other]})  # the rule hot is gone
    incidents = await push(third, "n1", 50.0, 1020.0)
    gone = {i["subject"]: i for i in incidents}["rule:hot{node=n2}"]
    assert gone["state"] == "resolved"
    assert "rule hot is no longer configured" in gone["evidence"]["resolution"]


async def test_a_rule_at_or_above_its_value_with_clear_at_that_value_judges_every_sample(
    start_controller: StartController,
) -> None:
    # `>= 90` with `clear: 90` (clear once back under 90) passed the settings, then the rule's
    # threshold refused it on the first sample (ValueError: clear above the limit, the limit
    # being 90 nudged down for `>=`): every push of that metric answered 500, samples unjudged.
    rule = {"name": "full", "expr": "host.disk.used_pct >= 90", "clear": 90}
    controller = await start_controller({"nodes": [{"name": "n1"}], "rules": [rule]})
    base = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=base) as client:
        for at, value in ((1000.0, 95.0), (1010.0, 90.0), (1020.0, 89.0)):
            sample = {"name": "host.disk.used_pct", "value": value, "at": at}
            pushed = await client.post(
                "/api/v1/samples", headers=AUTH, json={"node": "n1", "samples": [sample]}
            )
            assert pushed.status_code == 202, pushed.text
            assert pushed.json()["accepted"] == 1, pushed.text
            if at == 1010.0:  # 90 is still at or above 90: firing
                assert controller.rules.firing() == {"full": 1}
        incidents = (await client.get("/api/v1/incidents", headers=AUTH)).json()["items"]
    assert controller.rules.firing() == {"full": 0}
    assert [(i["subject"], i["state"]) for i in incidents] == [("rule:full{node=n1}", "resolved")]
