"""A batch of severe log findings does not hold the controller's event loop (real controller,
API socket and SQLite store).

Each severe finding opens or joins an incident (two SQLite transactions). Written on the loop,
in one turn with the whole batch, an agent batch of 1,000 new ERROR templates held heartbeats,
probes and the API for 3-10 s (``bench/log_stall.py``). A task counting on the loop sees how
many findings are listed at each of its turns: with the batch taken in one turn, it only ever
saw none or all of them. The incidents are still written once each, in order, with their
events, and are there after a restart.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from vigil.daemon import Controller

from ._support import eventually
from .conftest import StartController

AGENT_TOKEN = "agent-n1-token-0123456789"
SUBJECT = "logs:n1/app"
N = 300


def config() -> dict[str, Any]:
    return {
        "agents": [{"node": "n1", "token": AGENT_TOKEN}],
        "nodes": [{"name": "n1"}],
        "logs": {"analysis": {"warmup_lines": 10, "warmup_seconds": 0}},
    }


def batch(seq: int, templates: list[str], level: str) -> dict[str, Any]:
    now = time.time()
    item = {"source": "app", "count": 1, "first_at": now, "last_at": now, "level": level}
    return {
        "node": "n1",
        "agent_id": "a1",
        "seq": seq,
        "sent_at": now,
        "templates": [{**item, "template": t, "samples": [t]} for t in templates],
        "stats": {},
    }


def errors(n: int) -> list[str]:
    words = ["disk", "nccl", "cuda", "pcie", "ecc", "link", "fan", "psu", "dimm", "nvlink"]
    return [f"ERROR {words[i % 10]} fault {words[i // 10 % 10]} unit{i} lost" for i in range(n)]


def severe(controller: Controller) -> list[dict[str, Any]]:
    return [f for f in controller.logs.found if f["severity"] == "critical"]


async def test_the_loop_turns_while_a_batch_of_severe_findings_is_written(
    start_controller: StartController,
) -> None:
    controller = await start_controller(config())
    url = f"http://127.0.0.1:{controller.api_port}"
    seen: set[int] = set()

    async def count_on_the_loop() -> None:
        while True:
            seen.add(len(severe(controller)))
            await asyncio.sleep(0)

    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {AGENT_TOKEN}"}, timeout=120
    ) as client:
        warm = await client.post(
            "/api/v1/logs/batches", json=batch(1, [f"INFO warm {i}" for i in range(20)], "INFO")
        )
        assert warm.status_code == 200, warm.text
        counter = asyncio.create_task(count_on_the_loop())
        resp = await client.post("/api/v1/logs/batches", json=batch(2, errors(N), "ERROR"))
        assert resp.status_code == 200, resp.text
        assert resp.json()["findings"] == N
        await eventually(lambda: len(severe(controller)) == N, 120, "every incident written")
        counter.cancel()
    # the loop had turns while the findings were analysed and their incidents written
    assert any(0 < n < N for n in seen), sorted(seen)

    found = severe(controller)
    incident_id = found[0]["incident_id"]
    assert [f["incident_id"] for f in found] == [incident_id] * N  # one incident, opened once
    assert [f["template"] for f in found] == errors(N)  # in the batch's order
    (incident,) = controller.store.list_incidents(subject=SUBJECT).items
    assert (incident.id, incident.findings) == (incident_id, N)
    kept = [f["template"] for f in incident.evidence["findings"]]
    assert kept == errors(N)[-len(kept) :]  # the latest findings, in order

    await start_controller.stop(controller)  # every event written before the store closed
    again = await start_controller(config())
    (incident,) = again.store.list_incidents(subject=SUBJECT).items
    assert (incident.id, incident.findings) == (incident_id, N)
    changes = again.store.list_events(subject=SUBJECT, kind="incident.changed", limit=1000)
    assert changes.total == N
    raised = again.store.list_events(subject=SUBJECT, kind="finding.raised", limit=1000)
    assert sum(e.data["finding"]["severity"] == "critical" for e in raised.items) == N
    # the listed findings came back with their incident
    assert [f["incident_id"] for f in severe(again)] == [incident_id] * N
