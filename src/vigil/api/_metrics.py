"""The API's own Prometheus metrics, the ``/metrics`` and ``/healthz`` endpoints.

:func:`vigil.api.create_app` wraps the app in :class:`MetricsMiddleware`, which counts requests
and times them per route template (``/api/v1/replicas/{service}/{index}``, never the raw path,
so label cardinality stays bounded) into the registry the daemon passes in; a log push or an
agent batch answered with an error (413 too big, 422 malformed, 401/403 not allowed...) is also
counted in ``vigil_log_requests_rejected{endpoint, status}`` (the log pipeline never sees those).
``/metrics`` serves that whole registry, so the controller's metrics registered there appear
alongside.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.api._context import Ctx
from vigil.api._schemas import HealthOut

router = APIRouter(tags=["operations"])

LOG_ENDPOINTS = {"/api/v1/logs": "push", "/api/v1/logs/batches": "batches"}
"""Routes whose refusals count as rejected log input, and their ``endpoint`` label."""


@router.get("/healthz", summary="Liveness of the API process (no auth)")
async def healthz() -> HealthOut:
    return HealthOut()


@router.get(
    "/metrics",
    summary="Prometheus metrics (no auth)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(ctx: Ctx) -> Response:
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)


class ApiMetrics:
    """Request counter and latency histogram, registered in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "vigil_api_requests",
            "HTTP requests served by the Vigil API",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "vigil_api_request_duration_seconds",
            "Time to answer an HTTP request to the Vigil API",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
        )
        self.log_rejected = Counter(
            "vigil_log_requests_rejected",
            "Log pushes and agent batches refused (413 too big, 422 malformed, 401/403...)",
            ["endpoint", "status"],
            registry=registry,
        )


def _route_label(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"


class MetricsMiddleware:
    """Pure ASGI middleware: one count and one latency observation per HTTP request."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method = str(scope.get("method", ""))
            route = _route_label(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
            endpoint = LOG_ENDPOINTS.get(route)
            if endpoint is not None and status >= 400 and method == "POST":
                self.metrics.log_rejected.labels(endpoint, str(status)).inc()
