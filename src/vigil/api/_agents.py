"""Agent endpoint: ``POST /api/v1/heartbeats``, called by ``vigil agent`` on every node.

The agent authenticates with its node's token (``agents`` in ``vigil.yaml``), which only lets it
report for that node; admin API tokens may report for any node. The controller's answer tells the
agent how often to send heartbeats and how the controller currently judges the node.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from vigil.api._auth import Agent
from vigil.api._context import Ctx
from vigil.api._schemas import BODY_RESPONSES, ERROR_RESPONSES, ErrorOut, HeartbeatIn, HeartbeatOut
from vigil.api._series import ERRORS_SHOWN, node_samples

router = APIRouter(
    prefix="/api/v1",
    tags=["agents"],
    responses={**ERROR_RESPONSES, 404: {"model": ErrorOut, "description": "Unknown node"}},
)


@router.post(
    "/heartbeats",
    summary="Record a node agent's heartbeat",
    response_model_exclude_none=True,  # sample_errors only when some were rejected
    responses=BODY_RESPONSES,
)
async def post_heartbeat(
    body: HeartbeatIn, ctx: Ctx, agent: Agent, request: Request
) -> HeartbeatOut:
    agent.check(body.node)
    peer = request.client.host if request.client else None
    ack = ctx.control.heartbeat(body.node, body.seq, body.info, peer=peer, address=body.address)
    errors: list[str] = []
    if body.samples:
        samples = node_samples(body.node, body.samples)
        errors = ctx.control.ingest_samples(body.node, samples)
    return HeartbeatOut(
        interval=ack.interval,
        node_status=str(ack.node_status),
        samples_rejected=len(errors),
        sample_errors=errors[:ERRORS_SHOWN] if errors else None,
    )
