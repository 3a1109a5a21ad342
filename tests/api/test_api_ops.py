"""Operations endpoints: /metrics, /openapi.json, error handling of the app as a whole."""

from __future__ import annotations

import httpx
from apifakes import FakeControl, bearer, build_app
from prometheus_client import REGISTRY, CollectorRegistry

from vigil.store import Store


async def test_metrics_serve_prometheus_text_with_the_apis_request_counts(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/api/v1/replicas/web/0", headers=bearer("viewer"))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "vigil_api_requests_total{" in text
    assert 'route="/api/v1/replicas/{service}/{index}"' in text
    assert "vigil_api_request_duration_seconds_bucket" in text


async def test_metrics_go_to_the_registry_passed_in_not_the_global_one(
    control: FakeControl, store: Store
) -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    build_app(control, store, first)
    app = build_app(control, store, second)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        await http.get("/healthz")
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    assert second.get_sample_value("vigil_api_requests_total", labels) == 1.0
    assert first.get_sample_value("vigil_api_requests_total", labels) is None
    assert REGISTRY.get_sample_value("vigil_api_requests_total", labels) is None


async def test_unmatched_paths_are_counted_under_one_label(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    response = await client.get("/no/such/path/123")
    assert response.status_code == 404
    labels = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert registry.get_sample_value("vigil_api_requests_total", labels) == 1.0


async def test_openapi_lists_the_paths_and_declares_bearer_auth(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/healthz",
        "/metrics",
        "/api/v1/nodes",
        "/api/v1/services/{name}",
        "/api/v1/replicas/{service}/{index}/{command}",
        "/api/v1/incidents",
        "/api/v1/audit/verify",
        "/api/v1/heartbeats",
        "/balance_load",
        "/auto_maintain",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from api.tokens (or, for /api/v1/heartbeats, an agent token).",
    }
    assert list(spec["paths"]["/auto_maintain"]) == ["post"]
    assert {t["name"] for t in spec["tags"]} >= {"fleet", "history", "agents", "seed"}


async def test_an_unexpected_crash_is_a_json_500_without_internals(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> None:
    def broken() -> bool:
        raise RuntimeError("secret internals")

    control.fault_detected = broken  # type: ignore[method-assign]
    app = build_app(control, store, registry)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        response = await http.get("/detect_fault", headers=bearer("viewer"))
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["detail"].startswith("internal error")
