"""The lean heartbeat path answers exactly as the FastAPI route does, and only well-formed beats."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from apifakes import AGENT_A, NOW, TOKENS, FakeControl, make_settings
from prometheus_client import CollectorRegistry, generate_latest
from starlette.types import Message, Receive, Scope, Send

from vigil.api import create_app, with_lean_heartbeats
from vigil.api._beat import BEAT, HeartbeatFastPath
from vigil.api._context import ApiContext, TokenTable
from vigil.api._metrics import ApiMetrics
from vigil.api._schemas import HeartbeatIn
from vigil.store import Store

PATH = "/api/v1/heartbeats"
SAMPLES = [{"name": "gpu.temp", "value": 61.5, "at": 1000.0, "labels": {"gpu": "0"}}]
GOOD = {"node": "node-a", "seq": 3, "info": {"load1": 0.5}, "samples": SAMPLES}
JSON = {"Content-Type": "application/json"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


AGENT = auth(AGENT_A)
GZIP = {**AGENT, "Content-Encoding": "gzip"}
CASES: dict[str, tuple[dict[str, str], bytes]] = {
    "agent with samples": (AGENT, body(GOOD)),
    "gzip": (GZIP, gzip.compress(body(GOOD))),
    "json with a charset": (
        {**AGENT, "Content-Type": "application/json; charset=utf-8"},
        body(GOOD),
    ),
    "no content type": ({"Authorization": f"Bearer {AGENT_A}"}, body(GOOD)),
    "admin for another node": (auth(TOKENS["admin"]), body({**GOOD, "node": "node-b"})),
    "operator token": (auth(TOKENS["operator"]), body(GOOD)),
    "no token": (JSON, body(GOOD)),
    "unknown token": (auth("not-a-token"), body(GOOD)),
    "basic auth": ({"Authorization": "Basic dTpw", **JSON}, body(GOOD)),
    "empty bearer": ({"Authorization": "Bearer ", **JSON}, body(GOOD)),
    "agent for another node": (AGENT, body({**GOOD, "node": "node-b"})),
    "unknown node": (auth(TOKENS["admin"]), body({**GOOD, "node": "ghost"})),
    "negative seq": (AGENT, body({**GOOD, "seq": -1})),
    "bad sample name": (AGENT, body({**GOOD, "samples": [{**SAMPLES[0], "name": "1bad"}]})),
    "sample value not a number": (
        AGENT,
        body({**GOOD, "samples": [{**SAMPLES[0], "value": "hot"}]}),
    ),
    "malformed json": (AGENT, b'{"node": "node-a", "seq": '),
    "malformed json and no token": (JSON, b"{nope"),
    "bad json and a bad token": (auth("not-a-token"), b"[1,"),
    "not an object": (AGENT, b"[1, 2]"),
    "empty body": (AGENT, b""),
    "gzip header on a plain body": (GZIP, body(GOOD)),
    "gzip of malformed json": (GZIP, gzip.compress(b"{nope")),
    "seq as a numeric string": (AGENT, body({**GOOD, "seq": "7"})),
    "a float seq": (AGENT, body({**GOOD, "seq": 1.5})),
    "an unknown field": (AGENT, body({**GOOD, "extra": 1})),
    "no samples": (AGENT, body({"node": "node-a", "seq": 0})),
    "labels not strings": (AGENT, body({**GOOD, "samples": [{**SAMPLES[0], "labels": {"a": 1}}]})),
    "21 labels": (
        AGENT,
        body({**GOOD, "samples": [{**SAMPLES[0], "labels": {f"l{i}": "x" for i in range(21)}}]}),
    ),
    "a sample at zero": (AGENT, body({**GOOD, "samples": [{**SAMPLES[0], "at": 0}]})),
    "a sample without a value": (AGENT, body({**GOOD, "samples": [{"name": "a", "at": 1.0}]})),
    "an empty node name": (AGENT, body({**GOOD, "node": ""})),
    "info not an object": (AGENT, body({**GOOD, "info": [1]})),
    "a sample refused, and why": (
        AGENT,
        body({**GOOD, "samples": [*SAMPLES, {**SAMPLES[0], "value": 62.0}]}),
    ),
    "a sample sent twice": (AGENT, body({**GOOD, "samples": SAMPLES + SAMPLES})),
    "brotli": ({**AGENT, "Content-Encoding": "br"}, body(GOOD)),
    "text body": ({**AGENT, "Content-Type": "text/plain"}, body(GOOD)),
}


async def answer(lean: bool, store: Store, headers: dict[str, str], content: bytes) -> Any:
    control = FakeControl()
    app = create_app(
        settings=make_settings(),
        store=store,
        control=control,
        registry=CollectorRegistry(),
        clock=lambda: NOW,
    )
    transport = httpx.ASGITransport(app=with_lean_heartbeats(app) if lean else app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        response = await http.post(PATH, headers=headers, content=content)
    return (
        response.status_code,
        response.json(),
        response.headers.get("www-authenticate"),
        control.heartbeats,
        control.series.query("gpu.temp", {}),
    )


@pytest.mark.parametrize("case", sorted(CASES))
async def test_the_lean_path_answers_as_the_fastapi_route_does(store: Store, case: str) -> None:
    headers, content = CASES[case]
    lean = await answer(True, store, headers, content)
    assert lean == await answer(False, store, headers, content)
    status = lean[0]
    if case == "a sample refused, and why":
        assert lean[1]["samples_rejected"] == 1
        assert "not newer than the last one" in lean[1]["sample_errors"][0]
    if case == "a sample sent twice":
        assert lean[1]["samples_rejected"] == 0
    assert status in (200, 400, 401, 403, 404, 415, 422)  # never a crash


async def test_well_formed_beats_are_answered_without_the_app_and_the_rest_reach_it(
    store: Store,
) -> None:
    control = FakeControl()
    settings = make_settings()
    registry = CollectorRegistry()
    context = ApiContext(
        settings=settings,
        store=store,
        control=control,
        registry=registry,
        tokens=TokenTable(settings.api.tokens, settings.agents),
        clock=lambda: NOW,
    )
    reached: list[tuple[str, bytes]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message: Message = await receive()
        reached.append((scope["path"], message["body"]))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    lean = HeartbeatFastPath(
        app, context=context, metrics=ApiMetrics(registry), max_inflated=10_000
    )
    bomb = gzip.compress(body({**GOOD, "info": {"pad": "x" * 20_000}}))
    transport = httpx.ASGITransport(app=lean)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        ok = await http.post(PATH, headers=GZIP, content=gzip.compress(body(GOOD)))
        bad = await http.post(PATH, headers=GZIP, content=b"not gzip")
        other = await http.post("/api/v1/samples", headers=AGENT, content=b"{}")
        big = await http.post(PATH, headers=GZIP, content=bomb)
    assert ok.status_code == 200
    assert ok.json() == {"interval": 1.0, "node_status": "up", "samples_rejected": 0}
    assert control.heartbeats == [("node-a", 3, {"load1": 0.5})]
    assert control.series.query("gpu.temp", {"node": "node-a", "gpu": "0"}) == [(1000.0, 61.5)]
    # the app gets the bytes exactly as sent (still compressed: its gzip middleware inflates)
    assert (bad.status_code, other.status_code, big.status_code) == (299, 299, 299)
    assert reached == [(PATH, b"not gzip"), ("/api/v1/samples", b"{}"), (PATH, bomb)]
    exposition = generate_latest(registry).decode()
    assert (
        'vigil_api_requests_total{method="POST",route="/api/v1/heartbeats",status="200"} 1.0'
        in exposition
    )


def without_prose(schema: Any) -> Any:
    """A JSON schema with titles and descriptions dropped and the sample type named alike."""
    if isinstance(schema, dict):
        return {
            k.replace("SampleDict", "SampleIn"): without_prose(v)
            for k, v in schema.items()
            if k not in ("title", "description")
        }
    if isinstance(schema, str):
        return schema.replace("SampleDict", "SampleIn")
    return schema


def test_the_lean_validator_has_exactly_the_constraints_of_the_model() -> None:
    lean = without_prose(BEAT.json_schema())
    assert lean == without_prose(HeartbeatIn.model_json_schema())
    assert lean["$defs"]["SampleIn"]["properties"]["name"]["pattern"]  # prose only was dropped
