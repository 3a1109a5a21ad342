"""The FastAPI app factory: :func:`create_app` wires the routers to one store and control plane.

Called by :mod:`vigil.daemon`, which serves the app with uvicorn on ``api.host:api.port``, and by
tests with a fake control plane. The CLI talks to the app over HTTP only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

import vigil
from vigil.api import (
    _agents,
    _alerts,
    _balancer,
    _fleet,
    _guards,
    _gzip,
    _history,
    _logs,
    _metrics,
    _overview,
    _risk,
    _seed,
    _series,
)
from vigil.api._context import ApiContext, TokenTable
from vigil.api._control import ControlPlane
from vigil.api._errors import install_error_handlers
from vigil.api._surrogates import SurrogateGuard
from vigil.settings import Settings
from vigil.store import Store

_DESCRIPTION = """\
Vigil watches services and nodes, detects faults and heals them. This API shows the fleet and its
history and lets operators act on replicas.

**Authentication**: send `Authorization: Bearer <token>` with a token from `api.tokens` in
`vigil.yaml`. Roles: *viewer* reads, *operator* also starts/stops/restarts replicas and runs
maintenance, *admin* also reads the audit trail. With no tokens configured the API is open
read-only. Agents post heartbeats with their node's token from `agents`.

**Dashboard**: a browser pointed at `/` (or `/ui/`) gets the web dashboard, which reads these
routes with a token pasted into it (a viewer token is enough).

**Errors** are JSON `{"detail": "<one line>"}`; validation errors name the field
(`query.limit: ...`).
"""

_TAGS = [
    {"name": "fleet", "description": "Nodes, services and replicas as the controller sees them."},
    {"name": "commands", "description": "Actions on replicas (operator role; audited)."},
    {"name": "history", "description": "Incidents, events and actions from the store."},
    {"name": "audit", "description": "The hash-chained audit trail (admin role)."},
    {"name": "agents", "description": "Heartbeats from node agents."},
    {"name": "seed", "description": "The prototype's endpoints, kept for existing callers."},
    {"name": "logs", "description": "Log pushes and agent batches; templates and findings."},
    {"name": "alerts", "description": "Alertmanager's webhook: alerts become incidents."},
    {"name": "operations", "description": "Health and Prometheus metrics (no auth)."},
]


NO_DOCS = (
    "no interactive API docs here (Swagger UI and ReDoc load from a CDN, which this server's "
    "Content-Security-Policy refuses): the API is described at /openapi.json; open it in any "
    "OpenAPI viewer, or read it with curl"
)


async def _no_docs() -> JSONResponse:
    return JSONResponse({"detail": NO_DOCS, "openapi": "/openapi.json"}, status_code=404)


def create_app(
    *,
    settings: Settings,
    store: Store,
    control: ControlPlane,
    registry: CollectorRegistry,
    clock: Callable[[], float] = time.time,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Build the API for one controller.

    ``registry`` receives the API's request metrics and is what ``/metrics`` serves; pass a fresh
    registry per app (registering the same metric twice in one registry fails). ``clock`` stamps
    audit entries. ``extra_routers`` are mounted after the API's own (the daemon passes the
    dashboard's, :data:`vigil.web.router`, which sits beside ``api`` in the layers). The daemon
    serves it wrapped in :func:`vigil.api.with_lean_heartbeats`.
    """
    app = FastAPI(
        title="Vigil API",
        version=vigil.__version__,
        description=_DESCRIPTION,
        openapi_tags=_TAGS,
        # FastAPI's /docs and /redoc load Swagger UI / ReDoc from a CDN, which the
        # Content-Security-Policy (script-src 'self') refuses: a blank page. They answer 404
        # pointing at /openapi.json instead (see _no_docs)
        docs_url=None,
        redoc_url=None,
    )
    for path in ("/docs", "/redoc"):
        app.add_api_route(path, _no_docs, methods=["GET"], include_in_schema=False)
    app.state.vigil = ApiContext(
        settings=settings,
        store=store,
        control=control,
        registry=registry,
        tokens=TokenTable(settings.api.tokens, settings.agents),
        clock=clock,
    )
    install_error_handlers(app)
    app.state.api_metrics = _metrics.ApiMetrics(registry)  # also counts the lean heartbeats
    app.add_middleware(SurrogateGuard)  # inside gzip: it reads inflated bodies
    app.add_middleware(_metrics.MetricsMiddleware, metrics=app.state.api_metrics)
    app.add_middleware(_gzip.GzipRequestMiddleware)
    # _balancer before _fleet: its fixed path .../balancer must win over .../{command}
    for module in (_metrics, _balancer, _fleet, _history, _agents, _series, _seed):
        app.include_router(module.router)
    app.include_router(_logs.router)
    app.include_router(_risk.router)
    app.include_router(_guards.router)
    app.include_router(_alerts.router)
    app.include_router(_overview.router)
    for extra in extra_routers:
        app.include_router(extra)
    return app
