"""A heartbeat's ``info`` nested too deep for the JSON writers is refused (422 naming
``body.info``) on both heartbeat paths, on a real controller over HTTP: it was taken (200),
then every ``GET /api/v1/nodes`` answered 500 for every reader, and the node's status changes
could not be stored (RecursionError in the store's writer) until its next heartbeat."""

from __future__ import annotations

import gzip
import json
import secrets

import httpx
import pytest

from .conftest import OPERATOR, StartController

TOKEN = "agent-n1-" + secrets.token_urlsafe(16)


@pytest.mark.parametrize("encoding", ["identity", "gzip"])  # gzip: the lean path inflates it
async def test_a_heartbeat_info_nested_too_deep_is_refused_and_the_listing_keeps_working(
    start_controller: StartController, encoding: str
) -> None:
    controller = await start_controller(
        {"agents": [{"node": "n1", "token": TOKEN}], "nodes": [{"name": "n1"}]}
    )
    deep: object = 1
    for _ in range(900):  # under json.loads' recursion limit, far over pydantic's writers'
        deep = [deep]
    body = json.dumps({"node": "n1", "seq": 0, "info": {"x": deep}}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    if encoding == "gzip":
        body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        resp = await http.post("/api/v1/heartbeats", content=body, headers=headers)
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"].startswith("body.info: nested more than 16 levels deep")
        listing = await http.get("/api/v1/nodes", headers={"Authorization": f"Bearer {OPERATOR}"})
        assert listing.status_code == 200, listing.text
        ok = json.dumps({"node": "n1", "seq": 1, "info": {"gpu": {"0": {"temp": 50}}}})
        resp = await http.post(
            "/api/v1/heartbeats", content=ok, headers={**headers, "Content-Encoding": "identity"}
        )
        assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
async def test_a_heartbeat_info_too_big_is_refused_and_the_node_keeps_its_last_info(
    start_controller: StartController, encoding: str
) -> None:
    # Only the 64 MB body cap bounded it: the controller kept megabytes of "facts" per node in
    # memory, in every GET /api/v1/nodes and in each heartbeat's event.
    controller = await start_controller(
        {"agents": [{"node": "n1", "token": TOKEN}], "nodes": [{"name": "n1"}]}
    )
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    url = f"http://127.0.0.1:{controller.api_port}"
    many = {f"k{i}": i for i in range(10_000)}  # ~100 KB, small keys and numbers
    big = {"blob": "x" * 2_000_000}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        ok = json.dumps({"node": "n1", "seq": 0, "info": {"cpu_pct": 12.5}})
        assert (await http.post("/api/v1/heartbeats", content=ok, headers=headers)).is_success
        for seq, info in enumerate((many, big), start=1):
            body = json.dumps({"node": "n1", "seq": seq, "info": info}).encode()
            sent = headers
            if encoding == "gzip":
                body, sent = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
            resp = await http.post("/api/v1/heartbeats", content=body, headers=sent)
            assert resp.status_code == 422, resp.text
            assert resp.json()["detail"].startswith("body.info: more than 64 KiB"), resp.text
        listing = await http.get("/api/v1/nodes", headers={"Authorization": f"Bearer {OPERATOR}"})
        [node] = listing.json()["items"] if "items" in listing.json() else listing.json()
        assert node["info"] == {"cpu_pct": 12.5}
