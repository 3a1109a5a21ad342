"""Series history from the store, gzip-compressed pushes, and the per-node failure risk."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from apifakes import AGENT_A, FakeControl, bearer

from vigil.api import _series as series_api
from vigil.collectors import Sample
from vigil.store import RollupRow, Store

VIEW = bearer("viewer")
AGENT = {"Authorization": f"Bearer {AGENT_A}"}
NODE_A = (("node", "node-a"),)


def stored(start: float, value: float, width: int = 60) -> RollupRow:
    return RollupRow("gpu.temp", NODE_A, width, start, value, value, value * 2, 2, value)


async def test_a_range_older_than_memory_is_read_from_the_stored_rollups(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    # the minute 120 was open when the controller last stopped (its part from before is in the
    # store); the minute 180 is in the store too, stale: memory holds its newest figures
    store.save_rollups([stored(0.0, 40.0), stored(60.0, 41.0), stored(120.0, 99.0)])
    store.save_rollups([stored(180.0, 77.0), stored(0.0, 45.0, width=3600)])
    for at in (120.0, 150.0, 180.0):  # memory holds the minutes 120 and 180
        control.series.add(Sample.of("gpu.temp", 50.0, at, {"node": "node-a"}))
    params = {"name": "gpu.temp", "labels": "node=node-a", "step": 60, "from": 0}
    out = (await client.get("/api/v1/series", headers=VIEW, params=params)).json()
    # minute 120: (2 x 99 from the store + 2 x 50 from memory) / 4
    assert out["points"] == [[0.0, 40.0], [60.0, 41.0], [120.0, 74.5], [180.0, 50.0]]
    assert out["series"] == [{"name": "gpu.temp", "labels": {"node": "node-a"}}]
    hourly = {**params, "step": 3600}
    out = (await client.get("/api/v1/series", headers=VIEW, params=hourly)).json()
    assert out["points"] == [[0.0, 48.0]]  # hour 0 is split too: (2 x 45 + 3 x 50) / 5
    raw = {"name": "gpu.temp", "from": 0}
    out = (await client.get("/api/v1/series", headers=VIEW, params=raw)).json()
    assert [p[0] for p in out["points"]] == [120.0, 150.0, 180.0]  # raw: the ring only


async def test_a_query_of_too_many_stored_buckets_is_refused_saying_how_to_ask_for_less(
    client: httpx.AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every stored bucket of every matching series was loaded, then merged on the event loop:
    # one metric of 100 nodes over the default week of minutes is ~1M rows, seconds of stall
    monkeypatch.setattr(series_api, "MAX_STORED_BUCKETS", 50)
    rows = [
        RollupRow("gpu.temp", (("node", f"node-{n}"),), 60, 60.0 * m, 1.0, 1.0, 2.0, 2, 1.0)
        for n in range(3)
        for m in range(30)
    ]
    store.save_rollups(rows)
    params = {"name": "gpu.temp", "step": 60, "from": 0}
    refused = await client.get("/api/v1/series", headers=VIEW, params=params)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "more than 50 stored minute buckets match" in detail
    assert "query.labels" in detail and "query.step of 3600" in detail
    one = {**params, "labels": "node=node-1"}
    out = (await client.get("/api/v1/series", headers=VIEW, params=one)).json()
    assert out["points"] == [[60.0 * m, 1.0] for m in range(30)]
    shorter = {**params, "to": 60.0 * 14}  # 3 x 15 buckets
    assert (await client.get("/api/v1/series", headers=VIEW, params=shorter)).status_code == 200


async def test_series_only_in_the_store_are_found_after_a_restart(
    client: httpx.AsyncClient, store: Store
) -> None:
    store.save_rollups([stored(600.0, 70.0)])
    params = {"name": "gpu.temp", "step": 300, "from": 0, "to": 1000}
    out = (await client.get("/api/v1/series", headers=VIEW, params=params)).json()
    assert out == {
        "name": "gpu.temp",
        "series": [{"name": "gpu.temp", "labels": {"node": "node-a"}}],
        "points": [[600.0, 70.0]],
        "approximate": [],
    }


def heartbeat_body(n: int) -> bytes:
    samples = [{"name": "host.cpu.used_pct", "value": i, "at": 100.0 + i} for i in range(n)]
    return json.dumps({"node": "node-a", "seq": 0, "samples": samples}).encode()


async def test_a_gzip_compressed_heartbeat_is_inflated_and_stored(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    body = gzip.compress(heartbeat_body(50))
    headers = {**AGENT, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = await client.post("/api/v1/heartbeats", headers=headers, content=body)
    assert response.status_code == 200, response.text
    assert response.json()["samples_rejected"] == 0
    assert len(control.series.query("host.cpu.used_pct")) == 50


async def test_bad_compressed_bodies_get_one_line_errors(client: httpx.AsyncClient) -> None:
    headers = {**AGENT, "Content-Type": "application/json"}
    not_gzip = await client.post(
        "/api/v1/heartbeats",
        headers={**headers, "Content-Encoding": "gzip"},
        content=heartbeat_body(1),
    )
    assert not_gzip.status_code == 400
    assert not_gzip.json()["detail"].startswith("body: Content-Encoding is gzip but the body")
    brotli = await client.post(
        "/api/v1/heartbeats", headers={**headers, "Content-Encoding": "br"}, content=b"x"
    )
    assert brotli.status_code == 415
    assert "'br' is not supported" in brotli.json()["detail"]
    bomb = gzip.compress(b" " * (65 * 1024 * 1024))  # ~64 KB that inflate to 65 MB
    refused = await client.post(
        "/api/v1/heartbeats", headers={**headers, "Content-Encoding": "gzip"}, content=bomb
    )
    assert refused.status_code == 413
    assert "inflates to more than" in refused.json()["detail"]


async def test_each_node_has_a_failure_risk_and_the_list_is_riskiest_first(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.risk = {"node-a": 0.25, "node-b": 0.5}
    one = (await client.get("/api/v1/nodes/node-a/risk", headers=VIEW)).json()
    assert (one["node"], one["state"], one["probability"], one["horizon"]) == (
        "node-a",
        "up",
        0.25,
        3600.0,
    )
    listing = (await client.get("/api/v1/risk", headers=VIEW)).json()
    assert [(r["node"], r["probability"]) for r in listing] == [("node-b", 0.5), ("node-a", 0.25)]
    missing = await client.get("/api/v1/nodes/nope/risk", headers=VIEW)
    assert missing.status_code == 404


async def test_the_store_is_not_read_for_a_range_it_cannot_cover(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    store.save_rollups([stored(0.0, 40.0)])
    control.series.add(Sample.of("gpu.temp", 50.0, 120.0, {"node": "node-a"}))
    params = {"name": "gpu.temp", "step": 60, "from": 0}
    control.series.persisted_from[60.0] = 120.0  # the flusher says: nothing persisted before 120
    out = (await client.get("/api/v1/series", headers=VIEW, params=params)).json()
    assert out["points"] == [[120.0, 50.0]]
    control.series.mark_persisted(60.0, 0.0)  # now it says: from 0 on
    out = (await client.get("/api/v1/series", headers=VIEW, params=params)).json()
    assert out["points"] == [[0.0, 40.0], [120.0, 50.0]]


async def test_a_step_mean_from_a_saturated_sum_is_listed_as_approximate(
    client: httpx.AsyncClient, control: FakeControl, store: Store
) -> None:
    # a minute of 1e308, 1e308, then three -1e308: its sum went past the largest double and
    # was held there, so its mean came out at +3.6e307 where the true one is -2e307 (wrong
    # sign: "too small", as the flusher's log and the metric's help said, was false too)
    for i, value in enumerate((1e308, 1e308, -1e308, -1e308, -1e308)):
        control.series.add(Sample.of("gpu.flops", value, 60.0 + i, {"node": "node-a"}))
    control.series.add(Sample.of("gpu.flops", 5.0, 125.0, {"node": "node-a"}))
    # and a stored minute whose two halves were merged past the largest double
    big = RollupRow("gpu.flops", NODE_A, 60, 0.0, 1e308, 1e308, 1.5e308, 2, 1e308)
    store.save_rollups([big, big])
    params = {"name": "gpu.flops", "labels": "node=node-a", "step": 60, "from": 0}
    out = (await client.get("/api/v1/series", headers=VIEW, params=params)).json()
    assert [p[0] for p in out["points"]] == [0.0, 60.0, 120.0]
    assert out["points"][2] == [120.0, 5.0]
    assert out["approximate"] == [0.0, 60.0]  # the exact minute 120 is not listed
    hourly = {**params, "step": 3600}
    out = (await client.get("/api/v1/series", headers=VIEW, params=hourly)).json()
    assert out["approximate"] == [0.0]
    raw = {"name": "gpu.flops", "from": 0}
    out = (await client.get("/api/v1/series", headers=VIEW, params=raw)).json()
    assert out["approximate"] == []
