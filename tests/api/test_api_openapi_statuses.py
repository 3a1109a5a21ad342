"""The OpenAPI document lists the statuses the routes really answer: each request below gets
the status it names from the real app, and the document must list that status for the
operation (a client generated from it otherwise meets an answer it was never told of)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apifakes import FakeControl, bearer, build_app
from prometheus_client import CollectorRegistry

from _log_pipeline import Clock
from vigil.api._gzip import ROUTE_BODY
from vigil.bus import EventBus
from vigil.daemon import LogPipeline
from vigil.errors import StoreBusy
from vigil.remediation import IncidentBook
from vigil.settings import LogsSettings
from vigil.store import SqlStore

JSON = {"Content-Type": "application/json"}


class BusyStore(SqlStore):
    """A store whose listings fail as a locked database does."""

    def list_incidents(self, **kwargs: Any) -> Any:
        raise StoreBusy("database is locked")


@pytest.fixture
async def api(control: FakeControl, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = BusyStore(f"sqlite:///{tmp_path / 'v.db'}")
    bus, clock = EventBus(), Clock(1_700_000_000.0)
    control.logs = LogPipeline(
        LogsSettings(),
        state_path=tmp_path / "log-analysis.json",
        bus=bus,
        incidents=IncidentBook(store, bus, clock),
        clock=clock,
    )
    app = build_app(control, store, CollectorRegistry())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://vigil.test"
    ) as http:
        yield http
    store.close()


ADMIN = bearer("admin")
CASES: list[tuple[str, str, str, dict[str, Any], int]] = [
    # (method, url, route template, request kwargs, status)
    (
        "POST",
        "/api/v1/samples",
        "/api/v1/samples",
        {"json": {"node": "nosuch", "samples": []}, "headers": ADMIN},
        404,
    ),
    ("GET", "/api/v1/nodes/nosuch/risk", "/api/v1/nodes/{name}/risk", {"headers": ADMIN}, 404),
    (
        "POST",
        "/api/v1/logs",
        "/api/v1/logs",
        {"content": b"<x/>", "headers": {**ADMIN, "Content-Type": "application/xml"}},
        415,
    ),
    (
        "POST",
        "/api/v1/samples",
        "/api/v1/samples",
        {"content": b"{}", "headers": {**ADMIN, **JSON, "Content-Encoding": "br"}},
        415,
    ),
    (
        "POST",
        "/api/v1/heartbeats",
        "/api/v1/heartbeats",
        {"content": b"not gzip", "headers": {**ADMIN, **JSON, "Content-Encoding": "gzip"}},
        400,
    ),
    (
        "POST",
        "/api/v1/placements",
        "/api/v1/placements",
        {
            "content": gzip.compress(b" " * (ROUTE_BODY + 1)),
            "headers": {**bearer("operator"), **JSON, "Content-Encoding": "gzip"},
        },
        413,
    ),
    ("GET", "/api/v1/incidents", "/api/v1/incidents", {"headers": ADMIN}, 503),
]


@pytest.mark.parametrize(
    ("method", "url", "route", "kwargs", "status"),
    CASES,
    ids=[f"{c[0]} {c[2]} {c[4]}" for c in CASES],
)
async def test_every_status_a_route_answers_is_in_the_openapi_document(
    api: httpx.AsyncClient,
    method: str,
    url: str,
    route: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    resp = await api.request(method, url, **kwargs)
    assert resp.status_code == status, resp.text
    assert set(resp.json()) == {"detail"}
    document = (await api.get("/openapi.json")).json()
    documented = document["paths"][route][method.lower()]["responses"]
    assert str(status) in documented, f"{method} {route} answers {status}: not documented"
    schema = documented[str(status)]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorOut"}


async def test_every_post_lists_what_the_body_middleware_answers(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    posts = {path: ops["post"] for path, ops in document["paths"].items() if "post" in ops}
    assert len(posts) == 9
    missing = {p: {"400", "413", "415"} - set(op["responses"]) for p, op in posts.items()}
    assert {p: m for p, m in missing.items() if m} == {}
