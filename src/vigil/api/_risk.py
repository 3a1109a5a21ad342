"""Failure risk endpoints: ``GET /api/v1/nodes/{name}/risk`` and ``GET /api/v1/risk``.

The controller's Markov model of node states (:mod:`vigil.daemon._risk`) gives each node the
probability of being ``down`` within N steps; ``vigil status`` and ``vigil top`` read the list.
Served by the app from :func:`vigil.api.create_app`; viewer role.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vigil.api._auth import Viewer
from vigil.api._context import Ctx
from vigil.api._control import RiskView
from vigil.api._schemas import ERROR_RESPONSES, ErrorOut

router = APIRouter(prefix="/api/v1", tags=["fleet"], responses=ERROR_RESPONSES)


class RiskOut(BaseModel):
    node: str
    state: str = Field(description="The node's status now")
    probability: float = Field(description="P(down at least once within steps x step seconds)")
    steps: int
    step: float = Field(description="Seconds per step of the Markov chain")
    horizon: float = Field(description="steps x step, in seconds")
    transitions: int = Field(description="Transitions the model learned from, all nodes")
    matrix: dict[str, dict[str, float]] = Field(description="P(next state | state)")
    left: int = Field(
        description="Transitions counted out of this state to another, all nodes; 0: the model "
        "never saw the state left, and probability (0, or 1 when down) has no ground"
    )


def _out(view: RiskView) -> RiskOut:
    return RiskOut(
        node=view.node,
        state=view.state,
        probability=view.probability,
        steps=view.steps,
        step=view.step,
        horizon=view.steps * view.step,
        transitions=view.transitions,
        matrix={a: dict(row) for a, row in view.matrix.items()},
        left=view.left,
    )


@router.get(
    "/nodes/{name}/risk",
    summary="A node's probability of going down within N steps",
    responses={404: {"model": ErrorOut, "description": "Unknown node"}},
)
async def get_node_risk(name: str, ctx: Ctx, _: Viewer) -> RiskOut:
    return _out(ctx.control.node_risk(name))


@router.get("/risk", summary="Every node's failure risk, riskiest first")
async def get_risk(ctx: Ctx, _: Viewer) -> list[RiskOut]:
    views = [_out(ctx.control.node_risk(n.name)) for n in ctx.control.nodes()]
    return sorted(views, key=lambda v: (-v.probability, v.node))
