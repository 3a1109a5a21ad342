"""History endpoints from the store: incidents, events, actions (viewer), audit trail (admin).

All listings are newest first and paged: ``?offset=0&limit=50`` (limit 1..500) answer
``{"items": [...], "total": N, "offset": o, "limit": l}``. Handlers are plain functions, so FastAPI
runs the synchronous store reads in its thread pool instead of on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from vigil.api._auth import Admin, Viewer
from vigil.api._context import Ctx
from vigil.api._schemas import (
    ERROR_RESPONSES,
    STORE_RESPONSES,
    ActionPage,
    AuditPage,
    AuditVerifyOut,
    ErrorOut,
    EventPage,
    IncidentOut,
    IncidentPage,
    StateFilter,
    plain_filter,
)
from vigil.model import ACTIVE_INCIDENT_STATES, IncidentId, IncidentState

router = APIRouter(
    prefix="/api/v1",
    tags=["history"],
    responses={**ERROR_RESPONSES, **STORE_RESPONSES},
)

MAX_OFFSET = 2**63 - 1
"""The largest offset the store can bind (SQLite's 64-bit integer); beyond it, a 422 naming
``query.offset`` rather than the driver's OverflowError as a 500."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many newest entries to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1..500)")]
ACTIVE = ACTIVE_INCIDENT_STATES
"""What ``?state=active`` stands for: every incident that is not resolved."""

Subject = Annotated[
    str | None,
    Query(description="Only this subject, e.g. 'replica:llm/0' or 'node:gpu-1'"),
    AfterValidator(plain_filter),
]


@router.get("/incidents", summary="Incidents, newest first")
def list_incidents(
    ctx: Ctx,
    _: Viewer,
    state: Annotated[
        list[StateFilter] | None,
        Query(
            description="Only these states (repeatable); 'active' = open, remediating, escalated"
        ),
    ] = None,
    subject: Subject = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> IncidentPage:
    states = _states(state) if state else None
    page = ctx.store.list_incidents(offset=offset, limit=limit, states=states, subject=subject)
    return IncidentPage.of(page)


def _states(wanted: Sequence[StateFilter]) -> list[IncidentState]:
    states: list[IncidentState] = []
    for state in wanted:
        for one in ACTIVE if state is StateFilter.ACTIVE else (IncidentState(state.value),):
            if one not in states:
                states.append(one)
    return states


@router.get(
    "/incidents/{incident_id}", summary="One incident", responses={404: {"model": ErrorOut}}
)
def get_incident(incident_id: int, ctx: Ctx, _: Viewer) -> IncidentOut:
    return IncidentOut.model_validate(ctx.store.get_incident(IncidentId(incident_id)))


@router.get("/events", summary="Every recorded bus event, newest first")
def list_events(
    ctx: Ctx,
    _: Viewer,
    subject: Subject = None,
    kind: Annotated[
        str | None,
        Query(description="Only this kind, e.g. 'replica.exited'"),
        AfterValidator(plain_filter),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EventPage:
    page = ctx.store.list_events(offset=offset, limit=limit, subject=subject, kind=kind)
    return EventPage.of(page)


@router.get("/actions", summary="Remediation and operator actions, newest first")
def list_actions(
    ctx: Ctx,
    _: Viewer,
    subject: Subject = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ActionPage:
    return ActionPage.of(ctx.store.list_actions(offset=offset, limit=limit, subject=subject))


@router.get("/audit", summary="The audit trail, newest first (admin)", tags=["audit"])
def list_audit(ctx: Ctx, _: Admin, offset: Offset = 0, limit: Limit = 50) -> AuditPage:
    return AuditPage.of(ctx.store.list_audit(offset=offset, limit=limit))


@router.get("/audit/verify", summary="Check the audit trail's hash chain (admin)", tags=["audit"])
def verify_audit(ctx: Ctx, _: Admin) -> AuditVerifyOut:
    first_broken = ctx.store.verify_audit()
    return AuditVerifyOut(intact=first_broken is None, first_broken=first_broken)
