"""The seed endpoints at the root path: ``/balance_load``, ``/detect_fault``, ``/auto_maintain``.

These keep the original prototype's contract (same paths and JSON keys) on top of the control
plane, for the scripts that already call them; new clients use ``/api/v1``. ``auto_maintain``
changes state, so it is POST only (operator) and audited; a GET gets 405 with a hint.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from vigil.api._auth import Operator, Viewer
from vigil.api._context import Ctx
from vigil.api._schemas import (
    BODY_RESPONSES,
    ERROR_RESPONSES,
    STORE_RESPONSES,
    BalanceOut,
    ErrorOut,
    FaultOut,
    MaintainOut,
    PodOut,
)
from vigil.errors import InputError
from vigil.model import Replica

router = APIRouter(tags=["seed"], responses=ERROR_RESPONSES)


@router.get(
    "/balance_load",
    summary="Healthy replicas of a service with their traffic shares",
    responses={404: {"model": ErrorOut}},
)
async def balance_load(
    ctx: Ctx,
    _: Viewer,
    service: Annotated[
        str | None, Query(description="Service name; optional when exactly one is configured")
    ] = None,
) -> BalanceOut:
    if service is None:
        services = list(ctx.control.services())
        if len(services) != 1:
            have = ", ".join(services) if services else "none configured"
            raise InputError(
                f"query.service: required when there is not exactly one service (have: {have})"
            )
        service = services[0]
    status = ctx.control.balancer_status(service)
    if status is not None:  # the balancer's live ranking: eligible replicas, highest share first
        where: dict[str, Replica] = {r.id: r for r in ctx.control.replicas(service)}
        pods = [
            PodOut(
                replica=row.id, port=where[row.id].port, node=where[row.id].node, share=row.share
            )
            for row in status.upstreams
            if row.eligible and row.id in where
        ]
        return BalanceOut(load_balanced_pods=pods)
    healthy = ctx.control.healthy_replicas(service)
    share = 1.0 / len(healthy) if healthy else 0.0
    pods = [PodOut(replica=r.id, port=r.port, node=r.node, share=share) for r in healthy]
    return BalanceOut(load_balanced_pods=pods)


@router.get("/detect_fault", summary="Whether any incident is open or being remediated")
async def detect_fault(ctx: Ctx, _: Viewer) -> FaultOut:
    return FaultOut(fault_detected=ctx.control.fault_detected())


@router.post(
    "/auto_maintain",
    summary="Run one maintenance pass now (operator)",
    responses={**BODY_RESPONSES, 409: {"model": ErrorOut}, **STORE_RESPONSES},
)
async def auto_maintain(ctx: Ctx, who: Operator) -> MaintainOut:
    reason = "maintenance requested via API"
    try:
        completed = await ctx.control.auto_maintain(actor=who.name)
    except Exception as exc:
        ctx.audit(
            actor=who.name,
            action="auto_maintain",
            target="fleet",
            reason=reason,
            result=f"error: {exc}",
        )
        raise
    ctx.audit(
        actor=who.name,
        action="auto_maintain",
        target="fleet",
        reason=reason,
        result="accepted",
        detail={"maintenance_completed": completed},
    )
    return MaintainOut(maintenance_completed=completed)


@router.get("/auto_maintain", include_in_schema=False)
async def auto_maintain_get() -> JSONResponse:
    return JSONResponse(
        {"detail": "auto_maintain changes state: use POST"},
        status_code=405,
        headers={"Allow": "POST"},
    )
