"""Healing guards endpoint: ``GET /api/v1/remediation/guards``.

Each service's guards in force (the global ``remediation:`` section with the service's
overrides) and what they hold now: the blast-radius slots taken (which replica Vigil is
restarting, until when), the automatic actions within the rate window, the replicas' never-live
counts and escalations, and which maintenance windows are open. ``vigil guards`` prints it as a
table. Served by the app from :func:`vigil.api.create_app`; viewer role, like every read.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vigil.api._auth import Viewer
from vigil.api._context import Ctx
from vigil.api._control import GuardsView
from vigil.api._schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["fleet"], responses=ERROR_RESPONSES)


class SlotOut(BaseModel):
    replica: str
    until: float = Field(description="When the slot expires (epoch s) unless ready sooner")


class NeverLiveOut(BaseModel):
    replica: str
    restarts: int = Field(description="Restarts since it was last live, none of which helped")
    escalated: bool = Field(description="Refused at escalate_after: held until a person acts")


class WindowOut(BaseModel):
    window: str
    open_until: float | None = Field(description="When it ends if open now (epoch s), else null")


class GuardsOut(BaseModel):
    service: str
    dry_run: bool
    max_unavailable: str = Field(description="As configured: a count or a percentage")
    unavailable_limit: int = Field(description="max_unavailable as a count of its replicas")
    slots: list[SlotOut] = Field(description="Replicas Vigil is restarting now")
    rate_actions: int = Field(description="Automatic actions allowed per rate_window")
    rate_window: float = Field(description="Seconds")
    recent_actions: int = Field(description="Automatic actions within the last rate_window")
    escalate_after: int
    never_live: list[NeverLiveOut] = Field(description="Replicas with a never-live count")
    windows: list[WindowOut]


def _out(view: GuardsView) -> GuardsOut:
    return GuardsOut(
        service=view.service,
        dry_run=view.dry_run,
        max_unavailable=view.max_unavailable,
        unavailable_limit=view.unavailable_limit,
        slots=[SlotOut(replica=s.replica, until=s.until) for s in view.slots],
        rate_actions=view.rate_actions,
        rate_window=view.rate_window,
        recent_actions=view.recent_actions,
        escalate_after=view.escalate_after,
        never_live=[
            NeverLiveOut(replica=n.replica, restarts=n.restarts, escalated=n.escalated)
            for n in view.never_live
        ],
        windows=[WindowOut(window=w.window, open_until=w.open_until) for w in view.windows],
    )


@router.get(
    "/remediation/guards",
    summary="Each service's healing guards and what they hold now",
)
async def get_guards(ctx: Ctx, _: Viewer) -> list[GuardsOut]:
    return [_out(view) for view in ctx.control.healing_guards()]
