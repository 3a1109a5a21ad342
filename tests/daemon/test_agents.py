"""End to end: real `vigil agent` processes send heartbeats to an in-process controller.

A killed agent makes its node Suspect then Down (an escalated incident), a restarted agent makes
it Up again (resolved); the other nodes stay Up throughout. Wrong tokens are refused.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vigil.daemon import Controller
from vigil.model import IncidentState, NodeStatus, NodeStatusChanged

from ._support import EventLog, eventually, tagged_env
from .conftest import ADMIN, API_TOKENS, OPERATOR, StartController

NODES = ("n1", "n2", "n3")
TOKENS = {node: f"agent-{node}-" + secrets.token_urlsafe(16) for node in (*NODES, "n4")}


class Agents:
    """`vigil agent` processes of one test, each logging to its own file."""

    def __init__(self, tmp_path: Path, tag: str) -> None:
        self.tmp_path = tmp_path
        self.tag = tag
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, url: str, name: str, token: str, log: str) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "vigil", "agent", "--controller", url, "--name", name]
        argv += ["--token", token, "--interval", "0.2"]
        with (self.tmp_path / log).open("ab") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=tagged_env(self.tag),
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp_path / name
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def agents(tmp_path: Path, tag: str) -> Iterator[Agents]:
    group = Agents(tmp_path, tag)
    yield group
    group.close()


async def fleet_of_nodes(start: StartController) -> tuple[Controller, EventLog, str]:
    controller = await start(
        {
            # One lost heartbeat is never suspicious; a pause of a second on this busy test
            # machine is not either (the default tolerates one interval).
            "heartbeat": {"interval": 0.2, "acceptable_pause": 0.6},
            "agents": [{"node": node, "token": token} for node, token in TOKENS.items()],
            # n1..n4 are remote (TEST-NET-1 addresses): only their agents' heartbeats count;
            # `local` is the controller's own host, up without an agent
            "nodes": [{"name": "local"}]
            + [{"name": n, "address": f"192.0.2.{i}"} for i, n in enumerate((*NODES, "n4"), 1)],
        }
    )
    return controller, EventLog(controller), f"http://127.0.0.1:{controller.api_port}"


def statuses(controller: Controller) -> dict[str, str]:
    return {n.name: n.status.value for n in controller.nodes()}


def node_incidents(controller: Controller, node: str) -> list:
    return list(controller.store.list_incidents(subject=f"node:{node}").items)


async def test_a_killed_agent_makes_its_node_suspect_then_down_and_a_restart_brings_it_back(
    start_controller: StartController, agents: Agents
) -> None:
    controller, events, url = await fleet_of_nodes(start_controller)
    procs = {n: agents.start(url, n, TOKENS[n], f"agent-{n}.log") for n in NODES}

    def all_up() -> bool:
        # a status change is published once its writes are committed (on the writer thread):
        # wait for the events too, so none of them lands after ``up_since``
        published = {e.node for e in events.of(NodeStatusChanged, lambda e: e.new == NodeStatus.UP)}
        return all(statuses(controller)[n] == "up" for n in NODES) and published >= set(NODES)

    await eventually(all_up, 20, "every node up", lambda: statuses(controller))
    assert statuses(controller)["local"] == "up"  # the controller's host: no agent needed
    up_since = len(events.all())

    procs["n2"].send_signal(signal.SIGKILL)
    procs["n2"].wait(timeout=10)

    down = await events.wait(
        NodeStatusChanged,
        lambda e: e.node == "n2" and e.new == NodeStatus.DOWN,
        15,
        "n2 down",
    )
    changes = [
        (e.old, e.new)
        for e in events.all()[up_since:]
        if isinstance(e, NodeStatusChanged) and e.node == "n2"
    ]
    # Suspect (phi 5) and Down (phi 10) are ~90 ms of silence apart here (1.01 s, 1.09 s): a
    # round falls between them only if the controller's loop does not stall longer than that
    # (a GC pass over a big heap, a loaded host). A round judging past both goes straight to
    # Down, by design (tests/detectors: a long silence goes straight from Up to Down).
    assert changes in (
        [(NodeStatus.UP, NodeStatus.SUSPECT), (NodeStatus.SUSPECT, NodeStatus.DOWN)],
        [(NodeStatus.UP, NodeStatus.DOWN)],
    ), changes
    assert down.phi >= 10
    (incident,) = node_incidents(controller, "n2")
    assert incident.state == IncidentState.ESCALATED
    # the incident holds one finding per stage the node went through, opened by the first
    stages = [f"node_{new.value}" for _, new in changes]
    assert incident.kind == stages[0]
    assert [f["kind"] for f in incident.evidence["findings"]] == stages
    actions = controller.store.list_actions(subject="node:n2").items
    assert [(a.kind, a.actor, a.ok, a.incident_id) for a in actions] == [
        ("escalate", "vigil", True, incident.id)
    ]
    assert controller.fault_detected()
    async with httpx.AsyncClient(base_url=url) as http:
        nodes = (await http.get("/api/v1/nodes", headers=_bearer("viewer"))).json()
    assert {n["name"]: n["status"] for n in nodes}["n2"] == "down"

    agents.start(url, "n2", TOKENS["n2"], "agent-n2-again.log")
    await eventually(
        lambda: statuses(controller)["n2"] == "up", 15, "n2 up again", lambda: statuses(controller)
    )
    healed = await eventually(
        lambda: [i for i in node_incidents(controller, "n2") if i.resolved_at is not None],
        10,
        "the node incident resolved",
        lambda: node_incidents(controller, "n2"),
    )
    assert healed[0].id == incident.id
    assert healed[0].state == IncidentState.RESOLVED
    assert not controller.fault_detected()

    others = [
        (e.node, e.new)
        for e in events.all()[up_since:]
        if isinstance(e, NodeStatusChanged) and e.node != "n2"
    ]
    assert others == [], "n1 and n3 stayed up the whole time"
    assert all(statuses(controller)[n] == "up" for n in ("n1", "n3"))
    assert node_incidents(controller, "n1") == node_incidents(controller, "n3") == []


def _bearer(role: str) -> dict[str, str]:
    token = next(t["token"] for t in API_TOKENS if t["role"] == role)
    return {"Authorization": f"Bearer {token}"}


async def test_agents_with_a_wrong_token_or_another_nodes_token_are_refused(
    start_controller: StartController, agents: Agents
) -> None:
    controller, _, url = await fleet_of_nodes(start_controller)

    agents.start(url, "n4", "wrong-" + secrets.token_urlsafe(16), "wrong.log")
    agents.start(url, "n4", TOKENS["n1"], "borrowed.log")

    await eventually(lambda: "HTTP 401" in agents.log("wrong.log"), 15, "a 401", agents.log)
    await eventually(lambda: "HTTP 403" in agents.log("borrowed.log"), 15, "a 403")
    assert "HTTP 403" not in agents.log("wrong.log")
    assert "may only send heartbeats for node 'n1', not 'n4'" in agents.log("borrowed.log")
    assert statuses(controller)["n4"] == "unknown"
    assert statuses(controller)["n1"] == "unknown", "a refused heartbeat counts for nobody"
    assert all(p.poll() is None for p in agents.procs), "refused agents keep trying"

    async with httpx.AsyncClient(base_url=url) as http:
        beat = {"node": "n2", "seq": 0, "info": {}}
        wrong = await http.post(
            "/api/v1/heartbeats", json=beat, headers={"Authorization": "Bearer nope-nope"}
        )
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        borrowed = await http.post(
            "/api/v1/heartbeats", json=beat, headers={"Authorization": f"Bearer {TOKENS['n1']}"}
        )
        assert borrowed.status_code == 403
        assert "'n1', not 'n2'" in borrowed.json()["detail"]
        own = await http.post(
            "/api/v1/heartbeats", json=beat, headers={"Authorization": f"Bearer {TOKENS['n2']}"}
        )
        assert own.status_code == 200
        assert own.json() == {"interval": 0.2, "node_status": "up", "samples_rejected": 0}
    assert statuses(controller)["n2"] == "up"


async def test_a_placement_uses_the_nodes_offer_and_the_memory_their_agents_report(
    start_controller: StartController, agents: Agents
) -> None:
    controller = await start_controller(
        {
            "heartbeat": {"interval": 0.2, "acceptable_pause": 0.6},
            "agents": [{"node": n, "token": TOKENS[n]} for n in ("n1", "n2")],
            "nodes": [
                {"name": "n1", "gpus": 2, "gpu_memory_mb": 81920, "labels": {"gpu": "h100"}},
                {"name": "n2", "gpus": 1, "gpu_memory_mb": 24576, "labels": {"gpu": "l4"}},
            ],
        }
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    for node in ("n1", "n2"):
        agents.start(url, node, TOKENS[node], f"agent-{node}.log")
    await eventually(
        lambda: all(n.info.get("memory_free_mb") for n in controller.nodes()),
        20,
        "both agents reporting memory",
        lambda: statuses(controller),
    )
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as api:
        fits = await api.post("/api/v1/placements", json={"gpus": 1, "gpu_memory_mb": 40000})
        assert fits.status_code == 200, fits.text
        assert fits.json()["node"] == "n1"
        labelled = await api.post("/api/v1/placements", json={"labels": {"gpu": "l4"}})
        assert labelled.json()["node"] == "n2"
        too_big = await api.post(
            "/api/v1/placements", json={"gpus": 1, "memory_mb": 1024 * 1024 * 1024}
        )
    assert too_big.status_code == 409
    reasons = too_big.json()["reasons"]
    assert len(reasons) == 2 and all("memory" in r for r in reasons), reasons


async def test_agents_push_host_metrics_that_the_series_api_and_vigil_top_show(
    start_controller: StartController, agents: Agents, tag: str
) -> None:
    controller, _, url = await fleet_of_nodes(start_controller)
    agents.start(url, "n1", TOKENS["n1"], "agent-n1.log")

    def mem_of_n1() -> list:
        return controller.series.query("host.mem.used_pct", {"node": "n1"})

    points = await eventually(mem_of_n1, 20, "memory samples from n1", agents.log("agent-n1.log"))
    assert 0 < points[-1][1] <= 100
    # no GPU or NVML driver here: the agent says so (once in its log), as a sample
    gpu = controller.series.query("gpu.available", {"node": "n1"})
    assert gpu and gpu[-1][1] == 0.0
    await eventually(
        lambda: controller.series.query("host.cpu.used_pct", {"node": "n1"}),
        20,
        "CPU samples (a rate: from the second batch on)",
    )
    top = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vigil", "top", "--once", "--url", url, "--token", ADMIN],
        capture_output=True,
        text=True,
        timeout=30,
        env={**tagged_env(tag), "COLUMNS": "160"},
    )
    assert top.returncode == 0, top.stderr
    row = next(line for line in top.stdout.splitlines() if " n1 " in line)
    assert row.count("-") < 3, top.stdout  # cpu, mem, load, disk, net all have figures


async def test_a_metric_rule_opens_an_incident_while_it_holds_and_resolves_it_after(
    start_controller: StartController,
) -> None:
    controller = await start_controller(
        {
            "agents": [{"node": "n1", "token": TOKENS["n1"]}],
            "nodes": [{"name": "n1"}],
            "rules": [{"name": "hot", "expr": "gpu.temperature_c > 85", "severity": "critical"}],
        }
    )
    url = f"http://127.0.0.1:{controller.api_port}"
    headers = {"Authorization": f"Bearer {TOKENS['n1']}"}

    async def push(at: float, value: float) -> None:
        sample = {"name": "gpu.temperature_c", "labels": {"gpu": "0"}, "value": value, "at": at}
        body = {"node": "n1", "samples": [sample]}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as api:
            assert (await api.post("/api/v1/samples", json=body)).status_code == 202

    subject = "rule:hot{gpu=0,node=n1}"
    await push(1000.0, 70.0)
    assert controller.store.find_active_incident(subject) is None
    await push(1001.0, 91.0)
    incident = controller.store.find_active_incident(subject)
    assert incident is not None
    assert (incident.kind, incident.severity) == ("metric_rule", "critical")
    await push(1002.0, 60.0)
    assert controller.store.find_active_incident(subject) is None
    [resolved] = controller.store.list_incidents(subject=subject).items
    assert resolved.state == IncidentState.RESOLVED


class CappedController(http.server.BaseHTTPRequestHandler):
    """A controller's batch endpoint with a small body cap: 413 over it, as the API answers
    a batch over its cap (vigil.daemon._server.MAX_BODY); the seq of each batch taken."""

    cap = 10_000
    taken: list[int] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if len(body) > self.cap:
            status, answer = 413, {"detail": f"body: over {self.cap} bytes"}
        else:
            self.taken.append(json.loads(body)["seq"])
            status, answer = 200, {"lines": 1, "templates": 1, "findings": 0}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


async def test_an_agent_drops_a_batch_over_the_controllers_cap_and_ships_the_next(
    tmp_path: Path,
) -> None:
    # kept for the next try, a batch the controller will never take (413) stopped every later one
    from vigil.agent import Agent
    from vigil.collectors import EdgeSourceSpec, LogEdge

    CappedController.taken = []  # a class attribute: not the seqs of an earlier run in this process
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CappedController)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    log = tmp_path / "app.log"
    edge = LogEdge([EdgeSourceSpec(str(log), "app.log")], tmp_path / "edge.json")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    agent = Agent(url, "n1", TOKENS["n1"], logs=edge)
    try:
        # five long lines: a template of 20 KB, a batch over the cap
        log.write_text("".join(" ".join(f"w{i}x{j}" for j in range(5000)) + "\n" for i in range(5)))
        edge.poll()
        async with httpx.AsyncClient() as client:
            assert not await agent.ship_logs(client)
            with log.open("a") as out:
                out.write("worker 7 started\n")
            edge.poll()
            assert await agent.ship_logs(client)
        assert (agent.log_refused, CappedController.taken) == (1, [2])
    finally:
        edge.close()
        server.shutdown()
        server.server_close()
