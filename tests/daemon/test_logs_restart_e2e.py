"""A real controller restarted: what the log analyses learned (burst baselines, association and
Bayes counts, the incidents already learned) comes back from its data dir."""

from __future__ import annotations

import httpx

from ._support import eventually
from .conftest import ADMIN, StartController

AUTH = {"Authorization": f"Bearer {ADMIN}"}
CONFIG = {
    "nodes": [{"name": "n1"}],
    "rules": [{"name": "hot", "expr": "gpu.temp > 80", "severity": "critical"}],
    "logs": {"poll_every": 0.05},
}


async def test_what_the_log_analyses_learned_survives_a_controller_restart(
    start_controller: StartController,
) -> None:
    first = await start_controller(CONFIG)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{first.api_port}") as client:
        lines = {"node": "n1", "source": "app", "lines": ["ECC error on GPU 0"] * 3}
        assert (await client.post("/api/v1/logs", headers=AUTH, json=lines)).status_code == 200
        now = first.clock()
        hot = {"node": "n1", "samples": [{"name": "gpu.temp", "value": 95.0, "at": now}]}
        await client.post("/api/v1/samples", headers=AUTH, json=hot)  # an incident opens
    await eventually(lambda: first.logs.association.incidents == 1, 20, "the incident learned")
    (tid,) = [e.id for e in first.logs.registry.entries()]
    learned = list(first.logs.learner.seen)
    await start_controller.stop(first)

    second = await start_controller(CONFIG)
    logs = second.logs
    assert logs.association.incidents == 1
    assert list(logs.learner.seen) == learned  # the same incident seen again teaches nothing
    assert logs.bursts.baseline(tid) is not None
    assert any(tid in ids for _, ids in logs.bayes.to_dict()["open"])  # its slot is kept
