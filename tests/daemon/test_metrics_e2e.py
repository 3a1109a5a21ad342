"""End to end over real HTTP: agents push compressed batches with back-pressure, rollups outlive
a controller restart, a real exporter is scraped, and each node's risk comes from its history."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from vigil.agent import Agent
from vigil.backends import free_port
from vigil.collectors import Sample
from vigil.daemon import Controller
from vigil.daemon._samples import REFUSED_NAMES_LOGGED
from vigil.store import SqlStore

from ._support import eventually
from .conftest import ADMIN, StartController

AUTH = {"Authorization": f"Bearer {ADMIN}"}
NODES = {"nodes": [{"name": "local"}, {"name": "n1"}, {"name": "n2"}]}


def url(controller: Controller) -> str:
    return f"http://127.0.0.1:{controller.api_port}"


class Counter:
    """A metric source: one sample per collect, values 1, 2, 3... one second apart."""

    def __init__(self) -> None:
        self.n = 0

    def collect(self) -> list[Sample]:
        self.n += 1
        return [Sample.of("test.counter", float(self.n), 1000.0 + self.n, {})]


async def test_an_agent_keeps_a_bounded_backlog_while_the_controller_is_away(
    start_controller: StartController,
) -> None:
    source, now = Counter(), [0.0]
    dead = f"http://127.0.0.1:{free_port()}"
    agent = Agent(dead, "n1", ADMIN, clock=lambda: now[0], metrics=[source], max_buffered=5)
    async with httpx.AsyncClient() as client:
        for seq in range(8):  # controller unreachable: 8 samples, room for 5
            now[0] += 1.0
            await agent.beat(client, seq)
        assert (agent.failed, agent.buffered, agent.dropped) == (8, 5, 3)
        controller = await start_controller(NODES)
        agent.url = url(controller) + "/api/v1/heartbeats"
        now[0] += 1.0
        await agent.beat(client, 8)  # answered: the backlog waited (vigil._agent_retry)
        assert (agent.sent, agent.pushed, agent.buffered, agent.dropped) == (1, 0, 5, 4)
        now[0] += 1.0
        await agent.beat(client, 9)  # the controller answers again: the backlog goes
    assert (agent.sent, agent.pushed, agent.buffered, agent.dropped) == (2, 5, 0, 5)
    stored = controller.series.query("test.counter", {"node": "n1"})
    assert [value for _, value in stored] == [6.0, 7.0, 8.0, 9.0, 10.0]  # the newest five


class Skewed:
    """A metric source on a node whose clock runs ``ahead`` seconds fast (a broken NTP)."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def collect(self) -> list[Sample]:
        return [Sample.of("test.skewed", 1.0, time.time() + self.ahead, {})]


async def test_an_agent_says_when_the_controller_refuses_its_samples_and_why(
    start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    # A node clock ten minutes fast: every sample refused as from the future, and the agent
    # counted them as pushed and said nothing; the node's metrics simply stopped.
    controller = await start_controller(NODES)
    source = Skewed(600.0)
    agent = Agent(url(controller), "n1", ADMIN, metrics=[source], metrics_every=0)
    caplog.set_level(logging.INFO, logger="vigil.agent")
    async with httpx.AsyncClient() as client:
        for seq in range(3):
            await agent.beat(client, seq)
        source.ahead = 0.0  # the clock fixed
        await agent.beat(client, 3)
    assert (agent.sent, agent.rejected, agent.pushed) == (4, 3, 1)
    said = [r.getMessage() for r in caplog.records if r.name == "vigil.agent"]
    assert len(said) == 2, said  # once when it starts, once when it ends
    assert "the controller refused 1 of 1 samples" in said[0]
    assert "is in the future" in said[0] and "check the sender's clock" in said[0]
    assert "takes the samples again" in said[1]
    assert len(controller.series.query("test.skewed", {"node": "n1"})) == 1


async def test_rollups_outlive_a_controller_restart(start_controller: StartController) -> None:
    first = await start_controller(NODES)
    base = time.time() // 3600 * 3600 - 3600  # within retention: older buckets are pruned
    samples = [{"name": "gpu.temp", "value": m, "at": base + 60 * m} for m in range(10)]
    async with httpx.AsyncClient() as client:
        pushed = await client.post(
            url(first) + "/api/v1/samples", headers=AUTH, json={"node": "n2", "samples": samples}
        )
        assert pushed.json()["accepted"] == 10
    await start_controller.stop(first)  # a clean stop writes the open buckets too
    second = await start_controller(NODES)
    assert len(second.series) == 0  # nothing in memory: the answer comes from the store
    params = {"name": "gpu.temp", "labels": "node=n2", "step": 60, "from": 0}
    async with httpx.AsyncClient() as client:
        out = (await client.get(url(second) + "/api/v1/series", headers=AUTH, params=params)).json()
    assert out["points"] == [[base + 60 * m, float(m)] for m in range(10)]


async def test_a_bucket_split_by_a_restart_adds_up_to_the_same_figures_as_an_unbroken_one(
    start_controller: StartController,
) -> None:
    # The clean stop saves the open minute and hour; the next controller opens them afresh
    # with the samples that come after. The answers took memory's part alone: the minute's
    # mean was the later sample's, and the hour's for as long as memory held it (a week).
    minute = time.time() // 3600 * 3600 - 3600 + 600  # within retention, in the last hour
    before = [(minute + 1, 10.0), (minute + 2, 20.0)]
    after = [(minute + 30, 60.0)]
    later = [(minute + 61, 100.0)]  # closes the minute (the hour stays open)

    async def push(controller: Controller, points: list[tuple[float, float]]) -> None:
        samples = [{"name": "gpu.temp", "value": v, "at": at} for at, v in points]
        async with httpx.AsyncClient() as client:
            pushed = await client.post(
                url(controller) + "/api/v1/samples",
                headers=AUTH,
                json={"node": "n2", "samples": samples},
            )
        assert pushed.json()["accepted"] == len(points)

    async def means(controller: Controller, step: int) -> dict[float, float]:
        params = {"name": "gpu.temp", "labels": "node=n2", "step": step, "from": 0}
        async with httpx.AsyncClient() as client:
            got = await client.get(url(controller) + "/api/v1/series", headers=AUTH, params=params)
        return {at: value for at, value in got.json()["points"]}

    first = await start_controller(NODES)
    await push(first, before)
    await start_controller.stop(first)
    second = await start_controller(NODES)
    await push(second, after)
    hour = minute // 3600 * 3600
    assert (await means(second, 60))[minute] == pytest.approx(30.0)  # (10 + 20 + 60) / 3
    await push(second, later)
    assert (await means(second, 60))[minute] == pytest.approx(30.0)
    await second.flusher.flush()  # the split minute is whole in the store now: read from there
    assert await means(second, 60) == pytest.approx({minute: 30.0, minute + 60: 100.0})
    assert await means(second, 3600) == pytest.approx({hour: 47.5})  # (10 + 20 + 60 + 100) / 4
    await start_controller.stop(second)
    third = await start_controller(NODES)  # nothing in memory: the store alone, same answers
    assert await means(third, 60) == pytest.approx({minute: 30.0, minute + 60: 100.0})
    assert await means(third, 3600) == pytest.approx({hour: 47.5})


async def test_a_prometheus_answer_of_the_wrong_shape_does_not_stop_the_controller(
    start_controller: StartController,
) -> None:
    # a result whose "metric" was not an object raised AttributeError in the query loop, which
    # ended the controller's task group: the whole controller exited
    bad = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": ["x"], "value": [1, "2"]}]},
    }
    answered = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        await reader.readuntil(b"\r\n\r\n")
        answered += 1  # before the answer is written: the loop may count its round before drain
        body = json.dumps(bad).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    query = {"name": "q", "server": f"http://127.0.0.1:{port}", "query": "up", "interval": 0.05}
    async with server:
        controller = await start_controller({**NODES, "metrics": {"promql": [query]}})
        [loop] = controller.sources
        await eventually(lambda: loop.rounds >= 3, 20, "three rounds of the query")
    _, task = start_controller.running[id(controller)]
    assert not task.done(), task
    assert loop.failing is not None and "metric is list, not an object" in loop.failing
    assert answered >= 3


async def test_a_real_exporter_is_scraped_and_a_dead_one_does_not_stop_it(
    start_controller: StartController,
) -> None:
    registry = CollectorRegistry()
    Gauge("gpu_temp_celsius", "GPU temperature", ["gpu"], registry=registry).labels("0").set(71)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        controller = await start_controller(
            {
                **NODES,
                "metrics": {
                    "scrape": [
                        {"name": "dead", "url": f"http://127.0.0.1:{free_port()}/metrics"},
                        {
                            "name": "dcgm",
                            "url": f"http://127.0.0.1:{port}/metrics",
                            "interval": 0.2,
                            "node": "n1",
                            "labels": {"zone": "a"},
                        },
                    ]
                },
                "rules": [{"name": "hot", "expr": "gpu_temp_celsius > 70"}],
            }
        )
        await eventually(
            lambda: controller.series.match("gpu_temp_celsius"), 20, "the exporter scraped"
        )
        (key,) = controller.series.match("gpu_temp_celsius")
        assert dict(key.labels) == {"gpu": "0", "job": "dcgm", "node": "n1", "zone": "a"}
        dead, _ = controller.sources
        assert dead.failing is not None
        assert "ConnectError" in dead.failing
        await eventually(
            lambda: controller.store.list_incidents(subject=None).total, 20, "the rule fired"
        )
        incident = controller.store.list_incidents().items[0]
        assert incident.subject.startswith("rule:hot{")
    finally:
        server.shutdown()
        thread.join()


async def test_each_node_gets_a_failure_risk_from_its_stored_history(
    start_controller: StartController, tmp_path: Path
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    try:  # an earlier run's history: n1 flapped up -> down -> up, every 10 minutes
        for i in range(12):
            status = "down" if i % 2 else "up"
            store.append_event(600.0 * i, "node.status", "node:n1", {"node": "n1", "new": status})
    finally:
        store.close()
    controller = await start_controller(NODES)
    async with httpx.AsyncClient() as client:
        risk = (await client.get(url(controller) + "/api/v1/nodes/n1/risk", headers=AUTH)).json()
        listing = (await client.get(url(controller) + "/api/v1/risk", headers=AUTH)).json()
    assert risk["transitions"] > 100
    assert 0.5 < risk["matrix"]["up"]["up"] < 1.0
    assert risk["matrix"]["up"]["down"] > 0.0
    assert {r["node"] for r in listing} == {"local", "n1", "n2"}


async def test_the_fleet_risk_reads_the_node_list_once_not_once_per_node(
    start_controller: StartController, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each node's risk scanned every node for its status: GET /api/v1/risk was quadratic,
    # ~115 ms of the event loop per call at 1,000 nodes where the answer itself costs ~20 ms
    many = {"nodes": [{"name": f"n{i}"} for i in range(60)]}
    controller = await start_controller(many)
    listed = 0
    nodes = controller.monitor.nodes

    def counted() -> tuple:
        nonlocal listed
        listed += 1
        return nodes()

    monkeypatch.setattr(controller.monitor, "nodes", counted)
    async with httpx.AsyncClient() as client:
        listing = (await client.get(url(controller) + "/api/v1/risk", headers=AUTH)).json()
    assert len(listing) == 60
    assert listed == 1


async def test_a_series_past_the_cardinality_limit_is_refused_naming_the_setting(
    start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    controller = await start_controller({**NODES, "metrics": {"max_series_per_metric": 2}})
    caplog.set_level(logging.ERROR, "vigil.daemon")
    answers = []
    async with httpx.AsyncClient() as client:
        for node in ("local", "n1", "n2", "n2"):
            body = {"node": node, "samples": [{"name": "req.count", "value": 1.0, "at": 1e9}]}
            pushed = await client.post(url(controller) + "/api/v1/samples", headers=AUTH, json=body)
            answers.append(pushed.json())
    assert [a["accepted"] for a in answers] == [1, 1, 0, 0]
    assert answers[2]["errors"] == [
        'req.count{node="n2"}: limit of 2 series named req.count reached; new ones are refused '
        "(drop a high-cardinality label such as a request id, or raise "
        "metrics.max_series_per_metric)"
    ]
    refused = [r.getMessage() for r in caplog.records if "limit of 2" in r.getMessage()]
    assert len(refused) == 1  # logged once per metric name, not once per sample


async def test_a_name_per_sample_past_the_series_limit_is_not_remembered_without_bound(
    start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    # each refused metric name was kept to log it once: a sender making up a name per sample
    # (a request id in the name, past metrics.max_series) grew that set for ever
    controller = await start_controller({**NODES, "metrics": {"max_series": 1}})
    caplog.set_level(logging.ERROR, "vigil.daemon")
    names = REFUSED_NAMES_LOGGED + 500
    samples = [{"name": f"req_{i}.ms", "value": 1.0, "at": 1e9} for i in range(names)]
    async with httpx.AsyncClient() as client:
        for start in range(0, names, 5000):
            body = {"node": "n1", "samples": samples[start : start + 5000]}
            pushed = await client.post(url(controller) + "/api/v1/samples", headers=AUTH, json=body)
            assert pushed.status_code == 202
    assert controller.intake.refused == names - 1  # the first one made the only series
    assert len(controller.intake._refused) == REFUSED_NAMES_LOGGED + 1
    logged = [r.getMessage() for r in caplog.records if "series limit of 1" in r.getMessage()]
    assert len(logged) == REFUSED_NAMES_LOGGED + 1
    assert "not logged name by name any more" in logged[-1]


class Broken:
    """A metric source with a bug: it raises on its first two reads."""

    def __init__(self) -> None:
        self.reads = 0

    def collect(self) -> list[Sample]:
        self.reads += 1
        if self.reads <= 2:
            raise ZeroDivisionError("division by zero")
        return [Sample.of("test.broken", 1.0, time.time(), {})]


async def test_a_metric_source_that_raises_does_not_stop_the_heartbeats(
    start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    # the exception left Agent.beat before the heartbeat was sent, and ended `vigil agent`:
    # the node was declared down for a bug in one collector
    controller = await start_controller(NODES)
    broken = Broken()
    agent = Agent(url(controller), "n1", ADMIN, metrics=[broken, Counter()], metrics_every=0)
    caplog.set_level(logging.INFO, logger="vigil.agent")
    async with httpx.AsyncClient() as client:
        for seq in range(4):
            await agent.beat(client, seq)
    assert agent.sent == 4
    assert len(controller.series.query("test.counter", {"node": "n1"})) == 4
    assert len(controller.series.query("test.broken", {"node": "n1"})) == 2
    said = [r.getMessage() for r in caplog.records if r.name == "vigil.agent"]
    assert len(said) == 2, said  # when it fails, when it works again
    assert "failed, skipped until it works: division by zero" in said[0]
    assert "works again" in said[1]
