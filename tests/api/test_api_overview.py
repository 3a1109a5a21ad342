"""``GET /api/v1/overview``: the dashboard's one bounded read (roles, shape, bounds, ETag)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apifakes import NOW, FakeControl, bearer

from vigil.api import _overview
from vigil.bus import EventBus
from vigil.collectors import Sample, SeriesStore
from vigil.model import Finding, FindingKind, Node, NodeStatus
from vigil.remediation import IncidentBook
from vigil.store import Store

VIEW = bearer("viewer")


def fleet(control: FakeControl, size: int, down: int, suspect: int) -> None:
    """``size`` nodes, every 10th of the first ones Down or Suspect, the rest Up."""
    nodes = []
    for i in range(size):
        status = NodeStatus.UP
        if i % 10 == 3 and down:
            status, down = NodeStatus.DOWN, down - 1
        elif i % 10 == 7 and suspect:
            status, suspect = NodeStatus.SUSPECT, suspect - 1
        nodes.append(Node(name=f"n{i:04d}", status=status, last_heartbeat=NOW - i))
    control.node_list = nodes


async def test_a_viewer_reads_it_and_no_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/overview")).status_code == 401
    answer = await client.get("/api/v1/overview", headers=VIEW)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {
        "nodes",
        "services",
        "incidents_active",
        "incidents_active_total",
        "incidents_recent",
        "actions",
    }
    assert body["nodes"]["counts"] == {"unknown": 1, "up": 1, "suspect": 0, "down": 0}


async def test_at_1000_nodes_the_problems_come_first_and_the_rest_is_a_count(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    fleet(control, 1000, down=30, suspect=10)

    nodes = (await client.get("/api/v1/overview", headers=VIEW)).json()["nodes"]

    assert nodes["counts"] == {"unknown": 0, "up": 960, "suspect": 10, "down": 30}
    assert nodes["total"] == 40
    statuses = [r["status"] for r in nodes["rows"]]
    assert statuses == ["down"] * 30 + ["suspect"] * 10
    names = [r["name"] for r in nodes["rows"][:3]]
    assert names == ["n0003", "n0013", "n0023"]  # the fleet's order within a status


async def test_every_node_is_paged_worst_first(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    fleet(control, 1000, down=30, suspect=10)
    query = {"nodes": "all", "node_limit": 100}

    first = (await client.get("/api/v1/overview", params=query, headers=VIEW)).json()["nodes"]
    last = (
        await client.get("/api/v1/overview", params={**query, "node_offset": 900}, headers=VIEW)
    ).json()["nodes"]

    assert first["total"] == 1000 and len(first["rows"]) == 100
    assert [r["status"] for r in first["rows"][:41]] == ["down"] * 30 + ["suspect"] * 10 + ["up"]
    assert len(last["rows"]) == 100 and {r["status"] for r in last["rows"]} == {"up"}
    seen = {r["name"] for r in first["rows"]} | {r["name"] for r in last["rows"]}
    assert len(seen) == 200


async def test_replicas_with_a_problem_come_first_and_are_bounded(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.balanced = True
    body = (await client.get("/api/v1/overview", headers=VIEW)).json()
    (web,) = body["services"]
    assert (web["ready"], web["replicas_total"], web["problems"]) == (1, 2, 1)
    assert [r["id"] for r in web["replicas"]] == ["web/1", "web/0"]  # not ready first
    assert web["replicas"][0]["eligible"] is False
    assert web["balancer"] == "127.0.0.1:8080 (p2c_ewma)"

    one = await client.get("/api/v1/overview", params={"replica_limit": 1}, headers=VIEW)
    assert [r["id"] for r in one.json()["services"][0]["replicas"]] == ["web/1"]


async def test_node_rows_carry_the_agents_newest_cpu_memory_and_mean_gpu(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.series = SeriesStore(max_series=50, ring=10)
    samples = [
        Sample.of("host.cpu.used_pct", 10.0, NOW - 2, {"node": "node-a"}),
        Sample.of("host.cpu.used_pct", 42.4, NOW - 1, {"node": "node-a"}),  # the newest
        Sample.of("host.mem.used_pct", 61.6, NOW, {"node": "node-a"}),
        Sample.of("gpu.util_pct", 20.0, NOW, {"node": "node-a", "gpu": "0"}),
        Sample.of("gpu.util_pct", 81.0, NOW, {"node": "node-a", "gpu": "1"}),
        Sample.of("host.cpu.used_pct", 99.0, NOW, {"node": "node-z"}),  # no such row
    ]
    for sample in samples:
        control.series.add(sample)
    query = {"nodes": "all"}

    rows = (await client.get("/api/v1/overview", params=query, headers=VIEW)).json()["nodes"]

    by_name = {r["name"]: r for r in rows["rows"]}
    assert (by_name["node-a"]["cpu"], by_name["node-a"]["mem"], by_name["node-a"]["gpu"]) == (
        42,
        62,
        50,  # the mean of its two GPUs, 50.5, rounded to even
    )
    assert (by_name["node-b"]["cpu"], by_name["node-b"]["gpu"]) == (None, None)


async def test_incidents_and_actions_come_from_the_store(
    client: httpx.AsyncClient, store: Store
) -> None:
    for i in range(60):
        finding = Finding(
            kind=FindingKind.PROCESS_EXITED,
            subject=f"replica:web/{i}",
            at=NOW + i,
            summary=f"web/{i} exited",
        )
        store.open_incident(finding, opened_at=NOW + i)

    body = (await client.get("/api/v1/overview", headers=VIEW)).json()

    assert body["incidents_active_total"] == 60
    assert len(body["incidents_active"]) == 50 and len(body["incidents_recent"]) == 30
    assert body["incidents_recent"][0]["subject"] == "replica:web/59"  # newest first


async def test_an_unchanged_fleet_answers_304_and_a_change_a_new_tag(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    fleet(control, 100, down=2, suspect=0)
    first = await client.get("/api/v1/overview", headers=VIEW)
    tag = first.headers["ETag"]

    again = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == tag

    # an Up node's newer heartbeat is no change the problems view shows: still 304
    control.node_list[0] = Node(name="n0000", status=NodeStatus.UP, last_heartbeat=NOW + 5)
    same = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
    assert same.status_code == 304

    control.node_list[1] = Node(name="n0001", status=NodeStatus.DOWN, last_heartbeat=NOW)
    changed = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["nodes"]["counts"]["down"] == 3


async def test_a_304_builds_and_serialises_no_answer_and_any_change_is_a_new_tag(
    client: httpx.AsyncClient,
    control: FakeControl,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the tag was a hash of the answer: every 304 built the answer's models and its JSON first
    built: list[object] = []

    class Counted(_overview.OverviewOut):
        def model_dump_json(self, **kwargs: Any) -> str:
            built.append(self)
            return super().model_dump_json(**kwargs)

    monkeypatch.setattr(_overview, "OverviewOut", Counted)
    fleet(control, 100, down=2, suspect=0)
    first = await client.get("/api/v1/overview", headers=VIEW)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and len(built) == 1
    for _ in range(3):
        again = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
        assert again.status_code == 304 and again.headers["ETag"] == tag
    assert len(built) == 1

    # another view of the same fleet is another answer: another tag
    every = await client.get("/api/v1/overview?nodes=all", headers={**VIEW, "If-None-Match": tag})
    assert every.status_code == 200 and every.headers["ETag"] != tag
    # an incident opened (the store's part of the answer): another tag
    book = IncidentBook(store, EventBus(), lambda: NOW)
    book.raise_finding(Finding(FindingKind.PROCESS_EXITED, "replica:web/0", NOW, "exited"))
    opened = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
    assert opened.status_code == 200 and opened.headers["ETag"] != tag
    assert opened.json()["incidents_active_total"] == 1
    # ...and it joining again (same time, same count of incidents): another tag again
    book.raise_finding(Finding(FindingKind.PROCESS_EXITED, "replica:web/0", NOW, "exited"))
    tag = opened.headers["ETag"]
    joined = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
    assert joined.status_code == 200 and joined.headers["ETag"] != tag
    # a replica's balancer counters: another tag
    tag = joined.headers["ETag"]
    control.balanced = True
    balanced = await client.get("/api/v1/overview", headers={**VIEW, "If-None-Match": tag})
    assert balanced.status_code == 200 and balanced.headers["ETag"] != tag


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("nodes=broken", "query.nodes"),
        ("node_limit=0", "query.node_limit"),
        ("node_limit=501", "query.node_limit"),
        ("node_offset=-1", "query.node_offset"),
        ("node_offset=lots", "query.node_offset"),
        ("replica_limit=101", "query.replica_limit"),
    ],
)
async def test_a_bad_query_value_is_422_naming_the_field(
    client: httpx.AsyncClient, query: str, field: str
) -> None:
    answer = await client.get(f"/api/v1/overview?{query}", headers=VIEW)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(f"{field}: ")


async def test_it_is_typed_in_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    get = spec["paths"]["/api/v1/overview"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/OverviewOut"}
    assert "304" in get["responses"]
    params = {p["name"] for p in get["parameters"]}
    assert {"nodes", "node_offset", "node_limit", "replica_limit"} <= params
