"""The address an agent asks to be reached at: real `vigil agent` processes and a real
controller. A node declared without an address takes the agent's ``--advertise-address`` over
the heartbeat's peer (behind a NAT or a proxy the peer is the proxy's), ``address_source:
agent``; without the option the agent sends the local address of its route to the controller;
a heartbeat without the field (an older agent) still teaches the peer (``heartbeat``); a bad
value is refused by the agent's CLI and by the API, naming the option or the field.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from vigil.daemon import Controller

from ._support import eventually, tagged_env
from .conftest import OPERATOR, StartController
from .test_agents import Agents

TOKEN = "agent-gpu-1-" + "y" * 20
CONFIG = {
    "heartbeat": {"interval": 0.2, "acceptable_pause": 0.6},
    "agents": [{"node": "gpu-1", "token": TOKEN}],
    "nodes": [{"name": "ctl", "address": "127.0.0.1"}, {"name": "gpu-1"}],
}


def learnt(controller: Controller) -> tuple[str | None, str]:
    (node,) = [n for n in controller.nodes() if n.name == "gpu-1"]
    return node.address, node.address_source


def start_agent(agents: Agents, url: str, *extra: str) -> subprocess.Popen[bytes]:
    """A `vigil agent` for gpu-1 with ``extra`` options (stopped by ``agents.close``)."""
    argv = [sys.executable, "-m", "vigil", "agent", "--controller", url, "--name", "gpu-1"]
    argv += ["--token", TOKEN, "--interval", "0.2", "--no-metrics", *extra]
    with (agents.tmp_path / "agent.log").open("ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=tagged_env(agents.tag),
            start_new_session=True,
        )
    agents.procs.append(proc)
    return proc


async def test_an_agent_advertising_an_address_is_reached_there_not_at_its_peer(
    start_controller: StartController, tmp_path: Path, tag: str
) -> None:
    # on main the controller took the heartbeat's peer (127.0.0.1 here) whatever the agent said
    controller = await start_controller(CONFIG)
    url = f"http://127.0.0.1:{controller.api_port}"
    agents = Agents(tmp_path, tag)
    try:
        start_agent(agents, url, "--advertise-address", "gpu-1.internal")
        await eventually(
            lambda: learnt(controller) == ("gpu-1.internal", "agent"),
            30,
            "the advertised address",
            lambda: (learnt(controller), agents.log("agent.log")[-2000:]),
        )
        view = {"Authorization": f"Bearer {OPERATOR}"}
        async with httpx.AsyncClient(base_url=url, timeout=10, headers=view) as http:
            nodes = {n["name"]: n for n in (await http.get("/api/v1/nodes")).json()}
        assert (nodes["gpu-1"]["address"], nodes["gpu-1"]["address_source"]) == (
            "gpu-1.internal",
            "agent",
        )
        for proc in agents.procs:
            proc.kill()
            proc.wait(timeout=10)
        # without the option: the local address of its route to the controller (127.0.0.1)
        start_agent(agents, url)
        await eventually(
            lambda: learnt(controller) == ("127.0.0.1", "agent"),
            30,
            "the route's address",
            lambda: (learnt(controller), agents.log("agent.log")[-2000:]),
        )
    finally:
        agents.close()


async def test_a_heartbeat_without_an_address_teaches_its_peer_and_a_bad_one_is_refused(
    start_controller: StartController,
) -> None:
    controller = await start_controller(CONFIG)
    url = f"http://127.0.0.1:{controller.api_port}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    old_agent = httpx.AsyncHTTPTransport(local_address="127.0.0.9")
    async with httpx.AsyncClient(base_url=url, timeout=10, transport=old_agent) as http:
        answer = await http.post(
            "/api/v1/heartbeats", json={"node": "gpu-1", "seq": 0, "info": {}}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        assert learnt(controller) == ("127.0.0.9", "heartbeat")
        for bad in ("http://gpu-1:8000", "gpu 1", "10.0.0.300", ""):
            answer = await http.post(
                "/api/v1/heartbeats",
                json={"node": "gpu-1", "seq": 1, "info": {}, "address": bad},
                headers=auth,
            )
            assert answer.status_code == 422, (bad, answer.text)
            assert "address" in answer.text, answer.text
        assert learnt(controller) == ("127.0.0.9", "heartbeat")  # nothing taken from them
        answer = await http.post(
            "/api/v1/heartbeats",
            json={"node": "gpu-1", "seq": 2, "info": {}, "address": "10.1.2.3"},
            headers=auth,
        )
        assert answer.status_code == 200, answer.text
    assert learnt(controller) == ("10.1.2.3", "agent")


async def test_an_advertised_address_keeps_its_source_across_a_restart(
    start_controller: StartController,
) -> None:
    # on main the store kept the address, not its source: "heartbeat" after the restart
    controller = await start_controller(CONFIG)
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        answer = await http.post(
            "/api/v1/heartbeats",
            json={"node": "gpu-1", "seq": 0, "info": {}, "address": "10.1.2.3"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert answer.status_code == 200, answer.text
    assert learnt(controller) == ("10.1.2.3", "agent")
    await start_controller.stop(controller)

    again = await start_controller(CONFIG)
    url = f"http://127.0.0.1:{again.api_port}"
    view = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=view) as http:
        nodes = {n["name"]: n for n in (await http.get("/api/v1/nodes")).json()}
    assert (nodes["gpu-1"]["address"], nodes["gpu-1"]["address_source"]) == ("10.1.2.3", "agent")
    assert (nodes["ctl"]["address"], nodes["ctl"]["address_source"]) == ("127.0.0.1", "config")


def test_the_agent_refuses_a_bad_advertise_address_naming_the_option() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "vigil", "agent", "--controller", "http://127.0.0.1:9"),
            *("--name", "gpu-1", "--advertise-address", "http://gpu-1:8000"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**tagged_env("addr"), "COLUMNS": "200"},
    )
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--advertise-address'" in done.stderr, done.stderr
    assert "must be an IP address or a host name" in done.stderr
    assert "'http://gpu-1:8000'" in done.stderr
