"""Samples pushed with heartbeats (the lean path, stored in columns) drive the rules and meet the
series limits exactly as samples pushed one by one do, on a real controller over real HTTP."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from typing import Any

import httpx
import pytest

from vigil.daemon import Controller
from vigil.model import IncidentState

from .conftest import ADMIN, StartController

HEADERS = {
    "Authorization": f"Bearer {ADMIN}",
    "Content-Type": "application/json",
    "Content-Encoding": "gzip",
}


async def beat(controller: Controller, node: str, seq: int, samples: list[Any]) -> Any:
    body = gzip.compress(json.dumps({"node": node, "seq": seq, "samples": samples}).encode())
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            f"http://127.0.0.1:{controller.api_port}/api/v1/heartbeats",
            headers=HEADERS,
            content=body,
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_rule_over_heartbeat_samples_opens_and_resolves_its_incident(
    start_controller: StartController,
) -> None:
    controller = await start_controller(
        {
            "nodes": [{"name": "n1"}],
            "rules": [{"name": "hot", "expr": "gpu.temperature_c > 85", "severity": "critical"}],
        }
    )
    subject = "rule:hot{gpu=0,node=n1}"

    def samples(at: float, value: float) -> list[Any]:
        other = {"name": "gpu.power_w", "labels": {"gpu": "0"}, "value": 300.0, "at": at}
        hot = {"name": "gpu.temperature_c", "labels": {"gpu": "0"}, "value": value, "at": at}
        return [other, hot]

    assert (await beat(controller, "n1", 0, samples(1000.0, 70.0)))["samples_rejected"] == 0
    assert controller.store.find_active_incident(subject) is None
    await beat(controller, "n1", 1, samples(1001.0, 91.0))
    incident = controller.store.find_active_incident(subject)
    assert incident is not None
    assert (incident.kind, incident.severity) == ("metric_rule", "critical")
    # an out-of-order hot sample is refused and not seen by the rule; the in-order one is
    answer = await beat(controller, "n1", 2, [*samples(1000.5, 99.0), *samples(1002.0, 60.0)])
    assert answer["samples_rejected"] == 2
    assert controller.store.find_active_incident(subject) is None
    [resolved] = controller.store.list_incidents(subject=subject).items
    assert resolved.state == IncidentState.RESOLVED
    points = controller.series.query("gpu.temperature_c", {"node": "n1"})
    assert points == [(1000.0, 70.0), (1001.0, 91.0), (1002.0, 60.0)]


async def test_heartbeat_samples_past_the_series_limit_are_refused_and_logged_once(
    start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    controller = await start_controller(
        {
            "nodes": [{"name": "n1"}, {"name": "n2"}, {"name": "n3"}],
            "metrics": {"max_series_per_metric": 2},
        }
    )
    caplog.set_level(logging.ERROR, "vigil.daemon")
    rejected = []
    for seq, node in enumerate(("n1", "n2", "n3", "n3")):
        pushed = [{"name": "req.count", "value": 1.0, "at": 1e9 + seq}]
        rejected.append((await beat(controller, node, seq, pushed))["samples_rejected"])
    assert rejected == [0, 0, 1, 1]
    assert [k.labels for k in controller.series.series()] == [
        (("node", "n1"),),
        (("node", "n2"),),
    ]
    refused = [r.getMessage() for r in caplog.records if "limit of 2" in r.getMessage()]
    assert refused == [
        'req.count{node="n3"}: limit of 2 series named req.count reached; new ones are refused '
        "(drop a high-cardinality label such as a request id, or raise "
        "metrics.max_series_per_metric) (logged once per metric name)"
    ]


async def test_a_sample_from_the_future_is_refused_and_its_series_goes_on(
    start_controller: StartController,
) -> None:
    # a sample stamped in milliseconds used to be stored, and then every later sample of its
    # series was refused as "not newer than the last one" for as long as the controller ran
    controller = await start_controller({"nodes": [{"name": "n1"}]})
    now = time.time()

    def temp(at: float) -> dict[str, Any]:
        return {"name": "gpu.temperature_c", "labels": {"gpu": "0"}, "value": 40.0, "at": at}

    assert (await beat(controller, "n1", 0, [temp(now * 1000)]))["samples_rejected"] == 1
    assert (await beat(controller, "n1", 1, [temp(now)]))["samples_rejected"] == 0
    async with httpx.AsyncClient(timeout=10) as client:
        pushed = await client.post(
            f"http://127.0.0.1:{controller.api_port}/api/v1/samples",
            headers={"Authorization": f"Bearer {ADMIN}"},
            json={"node": "n1", "samples": [temp(now + 3600), temp(now + 1)]},
        )
    assert pushed.status_code == 202, pushed.text
    assert (pushed.json()["accepted"], pushed.json()["rejected"]) == (1, 1)
    assert "is in the future" in pushed.json()["errors"][0]
    points = controller.series.query("gpu.temperature_c", {"node": "n1"})
    assert points == [(now, 40.0), (now + 1, 40.0)]


@pytest.mark.parametrize("path", ["/api/v1/heartbeats", "/api/v1/samples"])
async def test_a_body_announced_past_the_bound_is_refused_before_it_is_read(
    start_controller: StartController, path: str
) -> None:
    # the body was read whole into memory before any token was checked: one client sending
    # gigabytes (no token needed) took the controller down. Here the 200 MB never come: the
    # answer must not wait for them.
    controller = await start_controller({"nodes": [{"name": "n1"}]})
    reader, writer = await asyncio.open_connection("127.0.0.1", controller.api_port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        "content-length: 200000000\r\n\r\n{".encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head


async def test_samples_sent_again_are_not_errors_and_the_rules_see_them_once(
    start_controller: StartController,
) -> None:
    # an agent whose heartbeat timed out sends the same samples with its next beat although the
    # controller had stored them: each came back as an error ("not newer than the last one"),
    # thousands per answer after a stall (bench/slow_controller.py)
    controller = await start_controller(
        {
            "nodes": [{"name": "n1"}],
            "rules": [{"name": "hot", "expr": "gpu.temperature_c > 85"}],
        }
    )

    def temp(at: float, value: float) -> dict[str, Any]:
        return {"name": "gpu.temperature_c", "labels": {"gpu": "0"}, "value": value, "at": at}

    sent = [temp(1000.0, 70.0), temp(1001.0, 91.0)]
    assert (await beat(controller, "n1", 0, sent))["samples_rejected"] == 0
    again = await beat(controller, "n1", 1, [*sent, temp(1002.0, 72.0)])
    assert again["samples_rejected"] == 0
    # the same time with another value is still an error, named
    changed = await beat(controller, "n1", 2, [temp(1001.0, 50.0)])
    assert changed["samples_rejected"] == 1
    assert "not newer than the last one" in changed["sample_errors"][0]
    points = controller.series.query("gpu.temperature_c", {"node": "n1"})
    assert points == [(1000.0, 70.0), (1001.0, 91.0), (1002.0, 72.0)]
    assert controller.rules.evaluations["hot"] == 3
    async with httpx.AsyncClient(timeout=10) as client:
        exposed = (await client.get(f"http://127.0.0.1:{controller.api_port}/metrics")).text
    assert "vigil_samples_resent_total 2.0" in exposed
