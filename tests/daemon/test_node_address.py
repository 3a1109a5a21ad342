"""A node declared without an address: its address is not known, so it is never taken for the
controller's own host (it was 127.0.0.1 by default, and a remote node named alone was listed up
without an agent and took placements with the controller's own free memory); only ``local``,
the default node's name, stands for this host without one. Placement counts
the own host by the same rule as ``GET /api/v1/nodes``. Real controller, real HTTP."""

from __future__ import annotations

import httpx
import pytest

from vigil.daemon import StandaloneBalancers
from vigil.errors import ConfigError
from vigil.settings import Settings, parse_settings

from .conftest import OPERATOR, StartController


def test_a_node_named_alone_has_no_address_but_local_is_this_host() -> None:
    settings = parse_settings("nodes:\n  - name: local\n  - name: gpu-1\n")
    assert [(n.name, n.address) for n in settings.nodes] == [
        ("local", "127.0.0.1"),  # the default node's name: the controller's own host
        ("gpu-1", None),  # it was 127.0.0.1 too
    ]
    assert [(n.name, n.address) for n in Settings().nodes] == [("local", "127.0.0.1")]
    assert parse_settings("nodes:\n  - {name: local, address: 10.0.0.5}\n").nodes[0].address == (
        "10.0.0.5"
    )


async def test_a_remote_node_named_without_an_address_waits_for_its_agent(
    start_controller: StartController,
) -> None:
    # on main: the lone node defaulted to 127.0.0.1, so it was the "own host": listed up
    # without an agent, and a placement went to it counting the controller's own memory
    controller = await start_controller({"nodes": [{"name": "gpu-1", "memory_mb": 1024}]})
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {OPERATOR}"}
    ) as http:
        nodes = (await http.get("/api/v1/nodes")).json()
        assert [(n["name"], n["status"]) for n in nodes] == [("gpu-1", "unknown")], nodes
        placed = await http.post("/api/v1/placements", json={"memory_mb": 1})
        assert placed.status_code == 409, placed.text
        assert "agent" in placed.text, placed.text


async def test_placement_counts_the_own_host_as_the_node_list_shows_it(
    start_controller: StartController,
) -> None:
    # two nodes at this host stand for agents run here: both listed unknown until their
    # agents beat (fc48fcb), yet placement counted each as the own host, up, and placed on one
    controller = await start_controller(
        {
            "nodes": [
                {"name": "gpu-a", "address": "127.0.0.1", "memory_mb": 1024},
                {"name": "gpu-b", "address": "127.0.0.1", "memory_mb": 1024},
            ]
        }
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {OPERATOR}"}
    ) as http:
        statuses = {n["name"]: n["status"] for n in (await http.get("/api/v1/nodes")).json()}
        assert statuses == {"gpu-a": "unknown", "gpu-b": "unknown"}
        placed = await http.post("/api/v1/placements", json={"memory_mb": 1})
        assert placed.status_code == 409, placed.text


async def test_the_own_host_by_its_address_is_up_and_takes_placements(
    start_controller: StartController,
) -> None:
    controller = await start_controller(
        {"nodes": [{"name": "ctl", "address": "127.0.0.1"}, {"name": "gpu-1"}]}
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {OPERATOR}"}
    ) as http:
        statuses = {n["name"]: n["status"] for n in (await http.get("/api/v1/nodes")).json()}
        assert statuses == {"ctl": "up", "gpu-1": "unknown"}
        placed = await http.post("/api/v1/placements", json={"memory_mb": 1})
        assert placed.status_code == 200, placed.text
        assert placed.json()["node"] == "ctl"


def test_vigil_balance_refuses_a_balanced_service_on_a_node_without_an_address() -> None:
    # it balanced to 127.0.0.1, the controller's host, for a node declared elsewhere
    settings = Settings.model_validate(
        {
            "nodes": [{"name": "gpu-1"}],
            "services": [
                {
                    "name": "llm",
                    "command": "unused",
                    "node": "gpu-1",
                    "base_port": 9100,
                    "balancer": {"policy": "round_robin"},
                }
            ],
        }
    )
    with pytest.raises(ConfigError) as caught:
        StandaloneBalancers(settings)
    (problem,) = caught.value.problems
    assert problem.startswith("services[0].node: node 'gpu-1' has no address"), problem
    assert "nodes[0].address" in problem, problem


async def test_a_node_without_an_address_learns_it_from_its_agents_heartbeats(
    start_controller: StartController,
) -> None:
    # on main: the API showed "" for it before and after its agent beat, the schema said a
    # string, and nothing said where an address came from
    token = "agent-gpu-1-" + "x" * 20
    config = {
        "agents": [{"node": "gpu-1", "token": token}],
        "nodes": [{"name": "ctl", "address": "127.0.0.1"}, {"name": "gpu-1"}],
    }
    controller = await start_controller(config)
    url = f"http://127.0.0.1:{controller.api_port}"
    view = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=view) as http:
        schema = (await http.get("/openapi.json")).json()["components"]["schemas"]["NodeOut"]
        assert {"type": "null"} in schema["properties"]["address"]["anyOf"]
        nodes = {n["name"]: n for n in (await http.get("/api/v1/nodes")).json()}
        assert (nodes["gpu-1"]["address"], nodes["gpu-1"]["address_source"]) == (None, None)
        assert (nodes["ctl"]["address"], nodes["ctl"]["address_source"]) == ("127.0.0.1", "config")
    # the agent's heartbeat comes from 127.0.0.7 (a loopback address of its own)
    agent = httpx.AsyncHTTPTransport(local_address="127.0.0.7")
    async with httpx.AsyncClient(base_url=url, timeout=10, transport=agent) as beat:
        answer = await beat.post(
            "/api/v1/heartbeats",
            json={"node": "gpu-1", "seq": 0, "info": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=view) as http:
        nodes = {n["name"]: n for n in (await http.get("/api/v1/nodes")).json()}
    assert (nodes["gpu-1"]["address"], nodes["gpu-1"]["address_source"]) == (
        "127.0.0.7",
        "heartbeat",
    )
    await start_controller.stop(controller)

    again = await start_controller(config)  # the learned address outlives a restart
    (gpu,) = [n for n in again.nodes() if n.name == "gpu-1"]
    assert (gpu.address, gpu.address_source) == ("127.0.0.7", "heartbeat")
