"""``POST /api/v1/placements`` on a real controller fed by real heartbeats over HTTP: what an
agent reports about its node never turns a placement into an error."""

from __future__ import annotations

import secrets

import httpx

from .conftest import OPERATOR, StartController

TOKEN = "agent-n1-" + secrets.token_urlsafe(16)


async def test_a_heartbeat_reporting_nan_or_infinite_capacity_leaves_placement_working(
    start_controller: StartController,
) -> None:
    # JSON from a shipper may carry NaN / Infinity (Python's json writes them): a node whose
    # agent reported gpus_free: NaN made every placement an HTTP 500 until its next heartbeat.
    controller = await start_controller(
        {
            "agents": [{"node": "n1", "token": TOKEN}],
            "nodes": [
                {"name": "n1", "gpus": 2, "gpu_memory_mb": 81920, "memory_mb": 65536},
                {"name": "n2", "gpus": 1, "gpu_memory_mb": 24576, "memory_mb": 32768},
            ],
        }
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    beat = (
        b'{"node": "n1", "seq": 0, "info": {"gpus_free": NaN, "gpu_memory_free_mb": Infinity, '
        b'"memory_free_mb": 1' + b"0" * 400 + b', "cpu_pct": NaN}}'
    )
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        resp = await http.post(
            "/api/v1/heartbeats",
            content=beat,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert resp.status_code == 200, resp.text
        operator = {"Authorization": f"Bearer {OPERATOR}"}
        placed = await http.post("/api/v1/placements", json={"gpus": 2}, headers=operator)
        assert placed.status_code == 200, placed.text
        # the unusable numbers fall back to the node's declared offer: 2 GPUs fit on n1 only
        assert placed.json()["node"] == "n1"
        assert placed.json()["candidates"] == ["n1"]


async def test_a_heartbeat_reporting_negative_capacity_counts_as_none_free(
    start_controller: StartController,
) -> None:
    # A negative free amount was used as given: the 409 said "has -5 MB free" and a bin_pack
    # score went below every real node's.
    controller = await start_controller(
        {
            "agents": [{"node": "n1", "token": TOKEN}],
            "nodes": [{"name": "n1", "gpus": 2, "gpu_memory_mb": 81920, "memory_mb": 65536}],
        }
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    info = {"gpus_free": -1, "gpu_memory_free_mb": -7, "memory_free_mb": -5, "cpu_pct": -3}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        resp = await http.post(
            "/api/v1/heartbeats",
            json={"node": "n1", "seq": 0, "info": info},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert resp.status_code == 200, resp.text
        operator = {"Authorization": f"Bearer {OPERATOR}"}
        placed = await http.post(
            "/api/v1/placements", json={"gpus": 1, "memory_mb": 1}, headers=operator
        )
        assert placed.status_code == 409, placed.text
        reason = placed.json()["detail"]
        assert "-" not in reason.split("n1:", 1)[1], reason
        assert "has 0 free" in reason and "has 0 MB free" in reason, reason


async def test_placement_works_out_of_the_box_on_the_controllers_own_host_without_an_agent(
    start_controller: StartController,
) -> None:
    # The default setup (one node, `local`, where `vigil up` runs the replicas; no agent) had
    # its only node "unknown": every placement was a 409.
    controller = await start_controller({})
    url = f"http://127.0.0.1:{controller.api_port}"
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        placed = await http.post("/api/v1/placements", json={"memory_mb": 1}, headers=operator)
        assert placed.status_code == 200, placed.text
        assert placed.json()["node"] == "local"
        # its capacity is read in place (psutil): not the declared 0 MB, not unknown
        huge = await http.post("/api/v1/placements", json={"memory_mb": 10**12}, headers=operator)
        assert huge.status_code == 409, huge.text
        [reason] = huge.json()["reasons"]
        free = int(reason.split("has ")[1].split(" MB free")[0])
        assert reason.startswith("local: needs 1000000000000 MB memory") and free > 0, reason


async def test_a_remote_node_without_an_agent_stays_unknown_and_the_reason_says_start_one(
    start_controller: StartController,
) -> None:
    controller = await start_controller(
        {
            "nodes": [
                {"name": "local"},
                {"name": "gpu-1", "address": "10.0.0.9", "gpus": 8, "gpu_memory_mb": 81920},
            ]
        }
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        placed = await http.post("/api/v1/placements", json={"gpus": 1}, headers=operator)
        assert placed.status_code == 409, placed.text
        reasons = placed.json()["reasons"]
        assert reasons == [
            "local: needs 1 GPUs, has 0 free",
            "gpu-1: no heartbeat yet (start `vigil agent` on it)",
        ]
        nodes = await http.get("/api/v1/nodes", headers=operator)
        statuses = {n["name"]: n["status"] for n in nodes.json()}
        # the listing says what placement counts: the controller's host up, gpu-1 unknown
        assert statuses == {"local": "up", "gpu-1": "unknown"}
