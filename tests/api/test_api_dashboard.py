"""The dashboard mounted on the API app (as the daemon mounts it): the page needs no token, the
API behind it still does, and /openapi.json documents the API only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from apifakes import NOW, FakeControl, bearer, make_settings
from prometheus_client import CollectorRegistry

from vigil import web
from vigil.api import ControlPlane, create_app
from vigil.store import Store


@pytest.fixture
async def http(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    plane: ControlPlane = control
    app = create_app(
        settings=make_settings(tokens=True),
        store=store,
        control=plane,
        registry=registry,
        clock=lambda: NOW,
        extra_routers=(web.router,),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
        yield client


async def test_the_page_needs_no_token_but_its_data_does(http: httpx.AsyncClient) -> None:
    page = await http.get("/ui/")
    assert page.status_code == 200
    assert "<title>Vigil</title>" in page.text
    assert (await http.get("/api/v1/services")).status_code == 401
    assert (await http.get("/api/v1/services", headers=bearer("viewer"))).status_code == 200


async def test_a_viewer_token_reads_every_route_the_page_reads(http: httpx.AsyncClient) -> None:
    script = (await http.get("/ui/app.js")).text
    routes = set(re.findall(r"/api/v1/[a-z_/]+", script))
    assert routes == {"/api/v1/overview"}, routes  # one request a refresh, whatever the fleet
    for path in ("/api/v1/overview?nodes=problems", "/api/v1/overview?nodes=all&node_limit=100"):
        response = await http.get(path, headers=bearer("viewer"))
        assert response.status_code == 200, (path, response.text)


async def test_the_root_redirects_to_the_dashboard(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


async def test_openapi_documents_the_api_and_not_the_page(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    paths = set(spec["paths"])
    assert "/api/v1/services" in paths
    assert not [p for p in paths if p == "/" or p.startswith("/ui")]
    assert "/ui/" in spec["info"]["description"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_point_at_the_openapi_document(
    http: httpx.AsyncClient, path: str
) -> None:
    # FastAPI's pages load Swagger UI / ReDoc from cdn.jsdelivr.net, which the server's own
    # Content-Security-Policy (script-src 'self') refuses: /docs was a blank white page
    page = await http.get(path)
    assert page.status_code == 404
    assert page.json()["openapi"] == "/openapi.json"
    assert "described at /openapi.json" in page.json()["detail"]
    assert (await http.get("/openapi.json")).status_code == 200
