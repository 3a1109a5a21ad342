"""Balancer and placement endpoints.

``GET /api/v1/services/{name}/balancer`` (viewer) shows where clients connect and each replica's
state, weight, load and share; ``POST /api/v1/replicas/{service}/{index}/balancer`` (operator)
drains, takes into maintenance, readies or re-weights a replica (applies to the next request,
audited); ``POST /api/v1/placements`` (operator) chooses a node for a task, or answers 409 with
the reason for every node. Served by the app from :func:`vigil.api.create_app`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vigil.api._auth import Operator, Viewer
from vigil.api._context import Ctx
from vigil.api._schemas import (
    BODY_RESPONSES,
    ERROR_RESPONSES,
    STORE_RESPONSES,
    ErrorOut,
    Index,
    Reason,
    ServiceName,
)
from vigil.balancer import NoFit, TaskNeeds, UpstreamStatus
from vigil.errors import InputError, NotFoundError
from vigil.model import replica_id

router = APIRouter(prefix="/api/v1", tags=["balancer"], responses=ERROR_RESPONSES)


class UpstreamOut(BaseModel):
    id: str
    address: str
    state: str
    eligible: bool
    weight: float
    effective_weight: float
    in_flight: int
    ewma_latency: float
    peak_latency: float
    ejected_until: float | None
    ejections: int
    requests: int
    errors: int
    share: float


class BalancerOut(BaseModel):
    service: str
    address: str = Field(description="host:port clients connect to")
    policy: str
    upstreams: list[UpstreamOut] = Field(description="Highest share first")


class BalancerChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt "state" must not pass as no change
    state: Literal["ready", "draining", "maint"] | None = None
    weight: float | None = Field(default=None, gt=0, le=1_000_000)
    reason: Reason = ""


class PlacementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt need must not place as no need
    gpus: int = Field(default=0, ge=0, le=1024)
    gpu_memory_mb: int = Field(default=0, ge=0, description="Per GPU (with gpus of 1 or more)")
    memory_mb: int = Field(default=0, ge=0)
    labels: dict[str, str] = Field(default_factory=dict)
    policy: Literal["least_loaded", "bin_pack", "weighted", "round_robin"] = "least_loaded"

    @field_validator("gpu_memory_mb")
    @classmethod
    def _per_gpu(cls, value: int, info: ValidationInfo) -> int:
        # placement reads it for GPU tasks only: without gpus it was dropped, and the task
        # placed as one needing no GPU at all
        if value and info.data.get("gpus") == 0:
            raise ValueError(
                "is memory per GPU, and gpus is 0: give gpus too, or leave gpu_memory_mb out"
            )
        return value


class PlacementOut(BaseModel):
    node: str
    policy: str
    candidates: list[str]


class NoFitOut(BaseModel):
    detail: str
    reasons: list[str]


def upstream_out(row: UpstreamStatus) -> UpstreamOut:
    return UpstreamOut.model_validate(row, from_attributes=True)


@router.get(
    "/services/{name}/balancer",
    summary="A service's load balancer and its replicas' shares",
    responses={404: {"model": ErrorOut}},
)
async def get_balancer(ctx: Ctx, _: Viewer, name: str) -> BalancerOut:
    status = ctx.control.balancer_status(name)
    if status is None:
        raise NotFoundError("balancer for service", name)
    return BalancerOut(
        service=status.service,
        address=status.address,
        policy=status.policy,
        upstreams=[upstream_out(row) for row in status.upstreams],
    )


@router.post(
    "/replicas/{service}/{index}/balancer",
    summary="Drain, take into maintenance, ready or re-weight a replica (operator)",
    responses={**BODY_RESPONSES, 404: {"model": ErrorOut}, **STORE_RESPONSES},
)
async def change_balancer(
    ctx: Ctx, who: Operator, service: ServiceName, index: Index, body: BalancerChangeIn
) -> UpstreamOut:
    if body.state is None and body.weight is None:
        raise InputError("body: give state and/or weight")
    target = replica_id(service, index)
    what = ", ".join(
        part
        for part in (
            f"state={body.state}" if body.state else "",
            f"weight={body.weight:g}" if body.weight is not None else "",
        )
        if part
    )
    try:
        row = ctx.control.balancer_admin(target, state=body.state, weight=body.weight)
    except Exception as exc:
        ctx.audit(
            actor=who.name,
            action="balancer",
            target=f"replica:{target}",
            reason=body.reason or what,
            result=f"error: {exc}",
        )
        raise
    ctx.audit(
        actor=who.name,
        action="balancer",
        target=f"replica:{target}",
        reason=body.reason or what,
        result="ok",
        detail={"change": what},
    )
    return upstream_out(row)


@router.post(
    "/placements",
    summary="Choose a node for a task from the nodes' live capacity (operator)",
    responses={
        **BODY_RESPONSES,
        409: {"model": NoFitOut, "description": "No node fits; a reason per node"},
    },
    response_model=PlacementOut,
)
async def create_placement(ctx: Ctx, _: Operator, body: PlacementIn) -> PlacementOut | JSONResponse:
    needs = TaskNeeds(
        gpus=body.gpus,
        gpu_memory_mb=body.gpu_memory_mb,
        memory_mb=body.memory_mb,
        labels=dict(body.labels),
    )
    result = ctx.control.place(needs, body.policy)
    if isinstance(result, NoFit):
        return JSONResponse(
            status_code=409, content={"detail": result.message, "reasons": list(result.reasons)}
        )
    return PlacementOut(node=result.node, policy=result.policy, candidates=list(result.candidates))
