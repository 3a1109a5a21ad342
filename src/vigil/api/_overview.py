"""``GET /api/v1/overview`` (viewer): everything the dashboard's page shows, in one bounded answer.

The page (src/vigil/web/static/app.js) used to poll 8 + one-per-service routes every 3 s and
draw every node and replica; at 1,000 nodes that is a megabyte and a thousand table rows a
refresh. This route answers what one screen shows: node counts by status and one page of nodes,
problems first (Down, Suspect; ``?nodes=all`` pages through every node), each service's
replicas problems first (at most ``replica_limit`` each, with their balancer state), the active
and recent incidents and the latest actions. The answer carries a strong ETag; a request whose
``If-None-Match`` names it gets 304 with no body, so a page whose fleet did not change costs a
few hundred bytes and draws nothing; the tag is a hash of the plain values the answer is
made of (not of the answer), so that 304 costs neither building the answer's models nor
serialising it. Mounted by :func:`vigil.api.create_app`; the ordering is
the pure :mod:`vigil.api._overview_core`.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.api._auth import Viewer
from vigil.api._context import ApiContext, Ctx
from vigil.api._overview_core import (
    entity_tag,
    matches,
    node_counts,
    ordered_nodes,
    ordered_replicas,
)
from vigil.api._schemas import ERROR_RESPONSES, STORE_RESPONSES, ActionOut, IncidentOut, models
from vigil.model import ACTIVE_INCIDENT_STATES, ActionRecord, Health, Incident, ReplicaState

router = APIRouter(prefix="/api/v1", tags=["fleet"], responses=ERROR_RESPONSES)

MAX_NODE_OFFSET = 1_000_000
"""Past any fleet Vigil is built for; bounded so a typo is a 422, not a slow empty page."""
ACTIVE_LIMIT = 50
RECENT_LIMIT = 30
ACTIONS_LIMIT = 25
"""The incident and action rows the page shows (what it asked the history routes for)."""
NODE_METRICS = {"cpu": "host.cpu.used_pct", "mem": "host.mem.used_pct", "gpu": "gpu.util_pct"}
"""The agents' series a node row shows (the mean over a node's series, e.g. its GPUs)."""
BODY_VERSION = 2
"""Part of every tag: change it with the answer's shape, so a tag of the old shape never
matches an answer of the new one (the tag hashes the values the answer is made of)."""


class NodeRow(BaseModel):
    name: str
    status: str
    last_heartbeat: float | None
    cpu: int | None = Field(description="CPU used, whole percent (agents' newest sample)")
    mem: int | None = Field(description="Memory used, whole percent")
    gpu: int | None = Field(description="Mean GPU utilisation, whole percent")


class NodesOut(BaseModel):
    counts: dict[str, int] = Field(description="Nodes per status, of the whole fleet")
    total: int = Field(description="Nodes the filter matches (rows are one page of them)")
    offset: int
    limit: int
    rows: list[NodeRow] = Field(description="Worst first: down, suspect, unknown, up")


class ReplicaRow(BaseModel):
    id: str
    node: str
    state: ReplicaState
    pid: int | None
    live: Health
    ready: Health
    restarts: int
    balancer_state: str | None = Field(description="The upstream's admin state, if balanced")
    eligible: bool | None = Field(description="Would take a new request now (not ejected)")
    weight: float | None
    share: float | None
    requests: int | None = Field(description="Requests proxied so far (the page draws a rate)")


class ServiceSummary(BaseModel):
    name: str
    desired: int | None
    ready: int
    replicas_total: int
    problems: int = Field(description="Replicas not running, not live/ready, or not eligible")
    balancer: str | None = Field(description="'host:port (policy)' when balanced")
    replicas: list[ReplicaRow] = Field(description="Problems first, at most replica_limit")


class OverviewOut(BaseModel):
    nodes: NodesOut
    services: list[ServiceSummary]
    incidents_active: list[IncidentOut]
    incidents_active_total: int
    incidents_recent: list[IncidentOut]
    actions: list[ActionOut]


def _metrics(ctx: ApiContext, names: set[str]) -> dict[str, dict[str, int]]:
    """``{metric key: {node: whole percent}}`` for the nodes ``names``: one pass per metric over
    its series (a match per node scanned every node's series: O(rows x fleet))."""
    store = ctx.control.series_store()
    out: dict[str, dict[str, int]] = {}
    for key, metric in NODE_METRICS.items():
        values: dict[str, list[float]] = {}
        for series in store.match(metric):
            node = dict(series.labels).get("node")
            if node in names and (point := store.last(series)) is not None:
                values.setdefault(node, []).append(point[1])
        out[key] = {node: round(sum(v) / len(v)) for node, v in values.items()}
    return out


NodePlain = tuple[str, str, float | None, int | None, int | None, int | None]
"""A node row as plain values: name, status, last heartbeat, cpu, mem, gpu."""
ReplicaPlain = tuple[
    str, str, ReplicaState, int | None, Health, Health, int,
    str | None, bool | None, float | None, float | None, int | None,
]  # fmt: skip
"""A replica row as plain values, in :class:`ReplicaRow`'s field order."""
ServicePlain = tuple[str, int | None, int, int, int, str | None, tuple[ReplicaPlain, ...]]
"""A service as plain values, in :class:`ServiceSummary`'s field order."""


def _nodes(
    ctx: ApiContext, problems_only: bool, offset: int, limit: int
) -> tuple[dict[str, int], int, tuple[NodePlain, ...]]:
    """The fleet's counts, how many nodes match, and the page's rows."""
    every = ctx.control.nodes()
    chosen = ordered_nodes(every, problems_only=problems_only)
    page = chosen[offset : offset + limit]
    metrics = _metrics(ctx, {n.name for n in page}) if page else {k: {} for k in NODE_METRICS}
    rows = tuple(
        (
            n.name,
            n.status.value,
            n.last_heartbeat,
            metrics["cpu"].get(n.name),
            metrics["mem"].get(n.name),
            metrics["gpu"].get(n.name),
        )
        for n in page
    )
    return node_counts(every), len(chosen), rows


def _service(ctx: ApiContext, name: str, limit: int) -> ServicePlain:
    replicas = ctx.control.replicas(name)
    status = ctx.control.balancer_status(name)
    upstreams = {u.id: u for u in status.upstreams} if status is not None else {}
    ordered, problems = ordered_replicas(
        replicas, {rid: u.eligible for rid, u in upstreams.items()}
    )
    rows: list[ReplicaPlain] = []
    for r in ordered[:limit]:
        up = upstreams.get(r.id)
        head = (r.id, r.node, r.state, r.pid, r.live, r.ready, r.restarts)
        if up is None:
            rows.append((*head, None, None, None, None, None))
        else:
            rows.append((*head, up.state, up.eligible, up.weight, round(up.share, 4), up.requests))
    desired = next((s.replicas for s in ctx.settings.services if s.name == name), None)
    ready = sum(
        1 for r in replicas if r.state is ReplicaState.RUNNING and r.ready is Health.HEALTHY
    )
    balancer = f"{status.address} ({status.policy})" if status is not None else None
    return (name, desired, ready, len(replicas), problems, balancer, tuple(rows))


History = tuple[Sequence[Incident], int, Sequence[Incident], Sequence[ActionRecord]]


def _history(ctx: ApiContext) -> History:
    store = ctx.store
    active = store.list_incidents(
        offset=0, limit=ACTIVE_LIMIT, states=list(ACTIVE_INCIDENT_STATES), subject=None
    )
    recent = store.list_incidents(offset=0, limit=RECENT_LIMIT, states=None, subject=None)
    actions = store.list_actions(offset=0, limit=ACTIONS_LIMIT, subject=None)
    return active.items, active.total, recent.items, actions.items


def _node_row(row: NodePlain) -> NodeRow:
    name, status, last_heartbeat, cpu, mem, gpu = row
    return NodeRow(
        name=name, status=status, last_heartbeat=last_heartbeat, cpu=cpu, mem=mem, gpu=gpu
    )


def _replica_row(row: ReplicaPlain) -> ReplicaRow:
    rid, node, state, pid, live, ready, restarts, admin, eligible, weight, share, requests = row
    return ReplicaRow(
        id=rid,
        node=node,
        state=state,
        pid=pid,
        live=live,
        ready=ready,
        restarts=restarts,
        balancer_state=admin,
        eligible=eligible,
        weight=weight,
        share=share,
        requests=requests,
    )


def _body(
    nodes: tuple[dict[str, int], int, tuple[NodePlain, ...]],
    offset: int,
    limit: int,
    services: list[ServicePlain],
    history: History,
) -> bytes:
    """The answer, built and serialised: only when the client does not have it already."""
    counts, total, node_rows = nodes
    active, active_total, recent, actions = history
    answer = OverviewOut(
        nodes=NodesOut(
            counts=counts,
            total=total,
            offset=offset,
            limit=limit,
            rows=[_node_row(row) for row in node_rows],
        ),
        services=[
            ServiceSummary(
                name=name,
                desired=desired,
                ready=ready,
                replicas_total=replicas_total,
                problems=problems,
                balancer=balancer,
                replicas=[_replica_row(row) for row in rows],
            )
            for name, desired, ready, replicas_total, problems, balancer, rows in services
        ],
        incidents_active=models(IncidentOut, active),
        incidents_active_total=active_total,
        incidents_recent=models(IncidentOut, recent),
        actions=models(ActionOut, actions),
    )
    return answer.model_dump_json().encode()


@router.get(
    "/overview",
    summary="What the dashboard shows, in one bounded answer (ETag: 304 when unchanged)",
    response_model=OverviewOut,
    responses={**STORE_RESPONSES, 304: {"description": "Unchanged since the ETag given"}},
)
async def overview(
    ctx: Ctx,
    _: Viewer,
    nodes: Annotated[
        Literal["problems", "all"],
        Query(
            description="'problems': only Down and Suspect nodes; 'all': every node, worst first"
        ),
    ] = "problems",
    node_offset: Annotated[int, Query(ge=0, le=MAX_NODE_OFFSET)] = 0,
    node_limit: Annotated[int, Query(ge=1, le=500, description="Node rows (1..500)")] = 50,
    replica_limit: Annotated[
        int, Query(ge=1, le=100, description="Replica rows per service (1..100)")
    ] = 20,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    # the live state is read here, on the event loop, as the fleet routes read it; the store's
    # (synchronous) reads go to the thread pool, as the history routes' do. The tag is taken
    # over these plain values (the answer is a function of them and of the query): a client
    # that has it gets its 304 without the answer being built and serialised.
    node_page = _nodes(ctx, nodes == "problems", node_offset, node_limit)
    services = [_service(ctx, name, replica_limit) for name in ctx.control.services()]
    history = await run_in_threadpool(_history, ctx)
    query = (nodes, node_offset, node_limit, replica_limit)
    # pickled (C, a few times faster than repr of the dataclasses): equal values may pickle
    # apart (shared references are memoised), which costs a 200, never a wrong 304
    state = pickle.dumps((BODY_VERSION, query, node_page, services, history), protocol=5)
    tag = entity_tag(state)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    body = _body(node_page, node_offset, node_limit, services, history)
    return Response(body, media_type="application/json", headers=headers)
