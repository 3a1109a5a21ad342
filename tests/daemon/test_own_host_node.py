"""The controller's own host with no agent (the default ``local`` node of ``vigil up``) is
reported up with a last-seen time, as placement counts it; any other node without an agent
stays unknown. Real controller, real HTTP."""

from __future__ import annotations

import time

import httpx

from .conftest import OPERATOR, StartController


async def test_the_own_host_is_listed_up_and_seen_while_a_remote_node_stays_unknown(
    start_controller: StartController,
) -> None:
    # it was listed "unknown", last heartbeat null, and `vigil status` said "never"
    controller = await start_controller(
        {"nodes": [{"name": "local"}, {"name": "gpu-1", "address": "10.0.0.9"}]}
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as http:
        before = time.time()
        nodes = {n["name"]: n for n in (await http.get("/api/v1/nodes")).json()}
        assert nodes["local"]["status"] == "up", nodes
        seen = nodes["local"]["last_heartbeat"]
        assert seen is not None and before - 1 <= seen <= time.time() + 1, nodes
        assert nodes["local"]["info"]["memory_free_mb"] > 0  # read in place, as for placement
        assert nodes["gpu-1"]["status"] == "unknown" and nodes["gpu-1"]["last_heartbeat"] is None
        risk = {r["node"]: r["state"] for r in (await http.get("/api/v1/risk")).json()}
        assert risk == {"local": "up", "gpu-1": "unknown"}


async def test_several_nodes_at_this_host_each_wait_for_their_own_agent(
    start_controller: StartController,
) -> None:
    # nodes that all default to 127.0.0.1 stand for agents run on this host (the demo's, a
    # bench's): listed up before their first heartbeat, one whose agent never came stayed "up"
    controller = await start_controller({"nodes": [{"name": "gpu-a"}, {"name": "gpu-b"}]})
    url = f"http://127.0.0.1:{controller.api_port}"
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as http:
        nodes = {n["name"]: n["status"] for n in (await http.get("/api/v1/nodes")).json()}
    assert nodes == {"gpu-a": "unknown", "gpu-b": "unknown"}
