"""Fleet endpoints: nodes, services, replicas (live, from the control plane) and replica commands.

Reads need the viewer role; ``POST /api/v1/replicas/{service}/{index}/{start|stop|restart}`` needs
the operator role, goes through :meth:`ControlPlane.replica_command` with the token's name as the
actor, and is recorded in the audit trail here (result ``accepted`` or ``error: ...``).

``GET /api/v1/nodes`` is written straight to JSON bytes by :func:`nodes_json` (the same document
as ``list[NodeOut]``, which still documents it): at 1,000 nodes, a model per node, validated
again as the response model, cost ~40 ms of the event loop per call while heartbeats waited.
The dicts are written by pydantic's own serializer (``pydantic_core.to_json``): the very bytes
a ``list[NodeOut]`` dumps to, in ~1 ms at 1,000 nodes where ``json.dumps`` took 3-7 ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter
from pydantic_core import PydanticSerializationError, to_json

from vigil.api._auth import Operator, Viewer
from vigil.api._context import ApiContext, Ctx
from vigil.api._control import ReplicaCommand
from vigil.api._schemas import (
    BODY_RESPONSES,
    ERROR_RESPONSES,
    STORE_RESPONSES,
    ActionOut,
    CommandIn,
    ErrorOut,
    Index,
    NodeOut,
    ReplicaOut,
    ServiceName,
    ServiceOut,
    models,
)
from vigil.errors import NotFoundError
from vigil.model import Health, Node, Replica, ReplicaState, replica_id

router = APIRouter(
    prefix="/api/v1",
    tags=["fleet"],
    responses=ERROR_RESPONSES,
)


def _service(ctx: ApiContext, name: str) -> ServiceOut:
    if name not in ctx.control.services():
        raise NotFoundError("service", name)
    replicas = ctx.control.replicas(name)
    desired = next((s.replicas for s in ctx.settings.services if s.name == name), None)
    ready = sum(
        1 for r in replicas if r.state is ReplicaState.RUNNING and r.ready is Health.HEALTHY
    )
    return ServiceOut(
        name=name, desired=desired, ready=ready, replicas=models(ReplicaOut, replicas)
    )


def _replica(ctx: ApiContext, service: str, index: int) -> Replica:
    for replica in ctx.control.replicas(service):
        if replica.index == index:
            return replica
    raise NotFoundError("replica", replica_id(service, index))


def nodes_json(nodes: Sequence[Node]) -> bytes:
    """``nodes`` as the JSON of ``list[NodeOut]`` (same keys in the same order; a non-finite
    number is ``null``, as pydantic writes it), with plain dicts rather than a model per node."""
    out: list[dict[str, Any]] = [
        {
            "name": n.name,
            "address": n.address or None,
            "address_source": n.address_source or None,
            "labels": dict(n.labels),
            "status": n.status.value,
            "last_heartbeat": n.last_heartbeat,
            "phi": n.phi if math.isfinite(n.phi) else None,
            "info": dict(n.info),
        }
        for n in nodes
    ]
    try:
        return to_json(out, inf_nan_mode="null")
    except PydanticSerializationError:  # something in an agent's info JSON cannot hold
        return _NODES.dump_json(models(NodeOut, nodes))


_NODES: TypeAdapter[list[NodeOut]] = TypeAdapter(list[NodeOut])


_last_json: list[tuple[tuple[Node, ...], bytes]] = []
"""The last node tuple listed and its JSON: a control plane that hands out the same (immutable)
snapshot again gets the same bytes (the tuple is held here, so its id is not reused)."""


def _listing(nodes: Sequence[Node]) -> bytes:
    if not isinstance(nodes, tuple):  # a list may change in place: always encoded afresh
        return nodes_json(nodes)
    if _last_json and _last_json[0][0] is nodes:
        return _last_json[0][1]
    body = nodes_json(nodes)
    _last_json[:] = [(nodes, body)]
    return body


@router.get("/nodes", summary="Nodes and their heartbeat status", response_model=list[NodeOut])
async def list_nodes(ctx: Ctx, _: Viewer) -> Response:
    return Response(_listing(ctx.control.nodes()), media_type="application/json")


@router.get("/services", summary="Every configured service with its replicas")
async def list_services(ctx: Ctx, _: Viewer) -> list[ServiceOut]:
    return [_service(ctx, name) for name in ctx.control.services()]


@router.get("/services/{name}", summary="One service", responses={404: {"model": ErrorOut}})
async def get_service(name: str, ctx: Ctx, _: Viewer) -> ServiceOut:
    return _service(ctx, name)


@router.get("/replicas", summary="Replicas, of every service or of one")
async def list_replicas(
    ctx: Ctx,
    _: Viewer,
    service: Annotated[str | None, Query(description="Only this service's replicas")] = None,
) -> list[ReplicaOut]:
    return models(ReplicaOut, ctx.control.replicas(service))


@router.get(
    "/replicas/{service}/{index}", summary="One replica", responses={404: {"model": ErrorOut}}
)
async def get_replica(service: ServiceName, index: Index, ctx: Ctx, _: Viewer) -> ReplicaOut:
    return ReplicaOut.model_validate(_replica(ctx, service, index))


@router.post(
    "/replicas/{service}/{index}/{command}",
    summary="Start, stop or restart one replica (operator)",
    status_code=202,
    tags=["commands"],
    responses={
        **BODY_RESPONSES,
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
        **STORE_RESPONSES,
    },
)
async def replica_command(
    service: ServiceName,
    index: Index,
    command: ReplicaCommand,
    ctx: Ctx,
    who: Operator,
    body: CommandIn | None = None,
) -> ActionOut:
    rid = replica_id(service, index)
    reason = body.reason if body is not None and body.reason else f"{command} requested via API"
    action, target = f"replica.{command}", f"replica:{rid}"
    try:
        record = await ctx.control.replica_command(rid, command, actor=who.name, reason=reason)
    except Exception as exc:
        ctx.audit(
            actor=who.name, action=action, target=target, reason=reason, result=f"error: {exc}"
        )
        raise
    ctx.audit(
        actor=who.name,
        action=action,
        target=target,
        reason=reason,
        result="accepted",
        detail={"action_id": record.id},
    )
    return ActionOut.model_validate(record)
