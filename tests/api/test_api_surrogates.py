"""A request body holding a lone UTF-16 surrogate (``"\\ud800"``: a valid JSON escape that no
UTF-8 text can hold) is a 422 naming the field, on the app and on the lean heartbeat path.

Taken, it broke reads for everyone: a heartbeat's ``info`` made every ``GET /api/v1/nodes`` a 500
(the dashboard, ``vigil status``), a sample's label every read of its series (kept in the
rollups, even after a restart), since no JSON answer can encode it. A pair (an emoji) is text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from apifakes import AGENT_A, NOW, FakeControl, bearer, build_app
from prometheus_client import CollectorRegistry

from vigil.api import with_lean_heartbeats
from vigil.store import Store

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def http(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind the lean heartbeat path, as the daemon serves it; a 500 is an answer."""
    app = with_lean_heartbeats(build_app(control, store, registry))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
        yield client


def sample(labels: str) -> str:
    return f'{{"name": "gpu.util", "labels": {labels}, "value": 1.0, "at": {NOW}}}'


LONE_VALUE = sample('{"gpu": "0\\ud800"}')
LONE_KEY = sample('{"\\udc00": "0"}')
PAIR = sample('{"model": "\\ud83d\\ude00"}')


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/samples",
            f'{{"node": "node-a", "samples": [{LONE_VALUE}]}}',
            "body.samples.0.labels.gpu",
        ),
        (
            "/api/v1/heartbeats",
            f'{{"node": "node-a", "seq": 1, "samples": [{LONE_KEY}]}}',
            "body.samples.0.labels",
        ),
        (
            "/api/v1/heartbeats",
            '{"node": "node-a", "seq": 1, "info": {"model": {"name": "x\\uDBFF"}}}',
            "body.info.model.name",
        ),
    ],
    ids=["samples-label", "heartbeat-label-key", "heartbeat-info"],
)
async def test_a_lone_surrogate_in_a_body_is_a_422_naming_the_field(
    http: httpx.AsyncClient, control: FakeControl, path: str, body: str, field: str
) -> None:
    resp = await http.post(path, content=body, headers={**bearer(AGENT_A), **JSON})
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(f"{field}: holds a lone UTF-16 surrogate"), resp.json()
    assert control.heartbeats == []
    latest = await http.get("/api/v1/series/latest?name=gpu.util", headers=bearer("viewer"))
    assert latest.status_code == 200, latest.text
    assert latest.json() == []


async def test_a_surrogate_pair_is_text_and_is_taken(
    http: httpx.AsyncClient, control: FakeControl
) -> None:
    body = f'{{"node": "node-a", "seq": 1, "samples": [{PAIR}]}}'
    resp = await http.post("/api/v1/heartbeats", content=body, headers={**bearer(AGENT_A), **JSON})
    assert resp.status_code == 200, resp.text
    latest = await http.get("/api/v1/series/latest?name=gpu.util", headers=bearer("viewer"))
    assert latest.status_code == 200, latest.text
    assert latest.json()[0]["labels"]["model"] == "\U0001f600"


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Type", "application/merge-patch+json")],
        [("Content-Type", "Application/vnd.vigil+JSON; charset=utf-8")],
        # the routes read the first Content-Type (starlette's Headers.get), not the last
        [("Content-Type", "application/json"), ("Content-Type", "text/plain")],
    ],
    ids=["plus-json", "vendor-plus-json-params", "json-then-text"],
)
async def test_a_lone_surrogate_is_refused_under_every_content_type_the_routes_read_as_json(
    http: httpx.AsyncClient, headers: list[tuple[str, str]]
) -> None:
    body = f'{{"node": "node-a", "samples": [{LONE_VALUE}]}}'
    auth = list(bearer(AGENT_A).items())
    resp = await http.post("/api/v1/samples", content=body, headers=[*auth, *headers])
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith("body.samples.0.labels.gpu: holds a lone"), resp.text
    latest = await http.get("/api/v1/series/latest?name=gpu.util", headers=bearer("viewer"))
    assert latest.status_code == 200, latest.text
    assert latest.json() == []
