"""Agents push samples; viewers query series and the latest values."""

from __future__ import annotations

import httpx
from apifakes import AGENT_A, FakeControl, bearer

from vigil.collectors import Sample, SeriesStore
from vigil.collectors._series import MAX_RAW_POINTS

VIEW = bearer("viewer")
AGENT = {"Authorization": f"Bearer {AGENT_A}"}


def batch(node: str = "node-a", *values: tuple[str, float, float]) -> dict:
    return {
        "node": node,
        "samples": [
            {"name": n, "labels": {"mount": "/"}, "value": v, "at": at} for n, v, at in values
        ],
    }


async def test_an_agent_pushes_samples_labelled_with_its_node(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    body = batch("node-a", ("host.disk.used_pct", 40.0, 100.0), ("host.disk.used_pct", 42.0, 101.0))
    response = await client.post("/api/v1/samples", headers=AGENT, json=body)
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "rejected": 0, "errors": []}
    [key] = control.series.series()
    assert dict(key.labels) == {"mount": "/", "node": "node-a"}


async def test_an_agent_may_not_push_for_another_node(client: httpx.AsyncClient) -> None:
    body = batch("node-b", ("host.cpu.used_pct", 1.0, 100.0))
    response = await client.post("/api/v1/samples", headers=AGENT, json=body)
    assert response.status_code == 403


async def test_out_of_order_samples_and_new_series_past_the_limit_are_refused_with_reasons(
    client: httpx.AsyncClient,
) -> None:
    body = batch(
        "node-a",
        *((f"m{i}", 1.0, 100.0) for i in range(6)),  # the fake keeps at most 5 series
        ("m0", 2.0, 99.0),  # older than the last m0 sample
    )
    out = (await client.post("/api/v1/samples", headers=AGENT, json=body)).json()
    assert (out["accepted"], out["rejected"]) == (5, 2)
    assert "series limit of 5" in out["errors"][0]
    assert "not newer than the last one" in out["errors"][1]


async def test_a_bad_metric_name_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    body = batch("node-a", ("not a name", 1.0, 100.0))
    response = await client.post("/api/v1/samples", headers=AGENT, json=body)
    assert response.status_code == 422
    assert "samples" in response.json()["detail"]


async def test_series_queries_return_points_and_the_latest_value(
    client: httpx.AsyncClient,
) -> None:
    values = [("host.disk.used_pct", float(v), 100.0 + v) for v in range(5)]
    await client.post("/api/v1/samples", headers=AGENT, json=batch("node-a", *values))
    params = {"name": "host.disk.used_pct", "labels": "node=node-a", "from": 102}
    body = (await client.get("/api/v1/series", headers=VIEW, params=params)).json()
    assert body["points"] == [[102.0, 2.0], [103.0, 3.0], [104.0, 4.0]]
    latest = (
        await client.get(
            "/api/v1/series/latest", headers=VIEW, params={"name": "host.disk.used_pct"}
        )
    ).json()
    assert [(p["labels"]["node"], p["value"]) for p in latest] == [("node-a", 4.0)]


async def test_a_malformed_label_filter_is_422(client: httpx.AsyncClient) -> None:
    params = {"name": "host.cpu.used_pct", "labels": "node"}
    response = await client.get("/api/v1/series", headers=VIEW, params=params)
    assert response.status_code == 422
    assert "query.labels" in response.json()["detail"]


async def test_a_reversed_or_non_numeric_time_range_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    cases = [({"from": 200, "to": 100}, "query.from"), ({"from": "nan"}, "query.from")]
    cases.append(({"to": "inf"}, "query.to"))
    for extra, field in cases:
        params = {"name": "host.cpu.used_pct", **extra}
        response = await client.get("/api/v1/series", headers=VIEW, params=params)
        assert response.status_code == 422, extra
        assert field in response.json()["detail"]


async def test_a_raw_query_of_too_many_points_is_refused_saying_how_to_ask_for_less(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    # one metric of a fleet, unlabelled and without a step: every node's ring, merged, on the
    # event loop (1,000 nodes x 900 points: ~2 s without a heartbeat read, 13 MB of answer)
    control.series = SeriesStore(max_series=1000, ring=1000)
    nodes = MAX_RAW_POINTS // 1000 + 1
    for n in range(nodes):
        for i in range(1000):
            control.series.add(Sample.of("host.cpu.used_pct", 1.0, 1.0 + i, {"node": f"n{n}"}))
    for extra in ({}, {"step": 30}):
        params = {"name": "host.cpu.used_pct", **extra}
        response = await client.get("/api/v1/series", headers=VIEW, params=params)
        assert response.status_code == 422, extra
        detail = response.json()["detail"]
        assert f"{nodes * 1000:,} raw points of {nodes} series" in detail
        assert "query.labels" in detail and "query.step of 60 or more" in detail
    fewer = [
        {"name": "host.cpu.used_pct", "labels": "node=n1"},  # one series
        {"name": "host.cpu.used_pct", "from": 501},  # half the range
        {"name": "host.cpu.used_pct", "step": 60},  # rollups
    ]
    for params in fewer:
        response = await client.get("/api/v1/series", headers=VIEW, params=params)
        assert response.status_code == 200, params
    half = {"name": "host.cpu.used_pct", "from": 501, "to": 1000}
    points = (await client.get("/api/v1/series", headers=VIEW, params=half)).json()["points"]
    assert len(points) == nodes * 500
