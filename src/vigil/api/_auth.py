"""Bearer-token authentication and role checks, as FastAPI dependencies for the routers.

Clients (the ``vigil`` CLI, scripts, dashboards) send ``Authorization: Bearer <token>``. The SHA-256
of the presented token is compared in constant time with the hashes configured in ``api.tokens``
(:meth:`vigil.settings.ApiToken.token_hash`). Roles are ordered ``viewer < operator < admin``:
viewers read, operators also start/stop/restart replicas and run maintenance, admins also read and
verify the audit trail.

* No or unknown token: 401 with ``WWW-Authenticate: Bearer`` and a ``detail`` saying how to
  pass one.
* Known token, role too low: 403 naming the role needed.
* **Open mode** - when ``api.tokens`` is empty the API is open *read-only*: requests without a token
  act as the viewer ``anonymous``; every command answers 403 until tokens are configured. (The
  daemon binds the API to loopback in that case.)

Agents post heartbeats with their own token from ``agents`` in ``vigil.yaml``; a token for node X
may only report for node X. Admin API tokens may also post heartbeats (for tests and tooling).
The identity's name is what the control plane and the audit trail record as ``actor``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vigil.api._context import ANONYMOUS, Ctx, Identity, TokenTable
from vigil.errors import AuthError, ForbiddenError
from vigil.settings import Role

HOW_TO_AUTHENTICATE = (
    "send 'Authorization: Bearer <token>' with a token listed in api.tokens of vigil.yaml "
    "('vigil token' prints a new token and its sha256)"
)
_AGENT_HOW = (
    "agents send 'Authorization: Bearer <token>' with the token configured for their node "
    "under agents in vigil.yaml"
)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token from api.tokens (or, for /api/v1/heartbeats, an agent token).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def identify(ctx: Ctx, credentials: HTTPAuthorizationCredentials | None) -> Identity:
    """The caller's identity; raises AuthError (401) for a missing or unknown token."""
    if credentials is None:
        if ctx.tokens.open:
            return Identity(ANONYMOUS, "viewer")
        raise AuthError(f"missing bearer token: {HOW_TO_AUTHENTICATE}")
    identity = ctx.tokens.api_identity(credentials.credentials)
    if identity is None:
        raise AuthError(f"invalid bearer token: {HOW_TO_AUTHENTICATE}")
    return identity


def _forbidden(identity: Identity, role: Role, open_mode: bool) -> str:
    if open_mode:
        return (
            f"this needs the {role} role, but no API tokens are configured so the API is "
            "read-only: add api.tokens to vigil.yaml and send 'Authorization: Bearer <token>'"
        )
    return f"this needs the {role} role; token {identity.name!r} has the {identity.role} role"


def _require(role: Role) -> Callable[[Ctx, Credentials], Awaitable[Identity]]:
    async def dependency(ctx: Ctx, credentials: Credentials) -> Identity:
        identity = identify(ctx, credentials)
        if not identity.allows(role):
            raise ForbiddenError(_forbidden(identity, role, ctx.tokens.open))
        return identity

    dependency.__name__ = f"require_{role}"
    return dependency


require_viewer = _require("viewer")
require_operator = _require("operator")
require_admin = _require("admin")

Viewer = Annotated[Identity, Depends(require_viewer)]
Operator = Annotated[Identity, Depends(require_operator)]
Admin = Annotated[Identity, Depends(require_admin)]


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who posts a heartbeat: an agent (limited to its nodes) or an admin (any node)."""

    name: str
    nodes: frozenset[str] | None  # None: any node

    def check(self, node: str, what: str = "heartbeats") -> None:
        """Raise ForbiddenError (403) unless this reporter may report for ``node``; ``what``
        names what was refused (heartbeats, samples, log lines, log batches)."""
        if self.nodes is not None and node not in self.nodes:
            allowed = ", ".join(repr(n) for n in sorted(self.nodes))
            raise ForbiddenError(
                f"this agent token may only send {what} for node {allowed}, not {node!r}"
            )


def reporter_for(
    tokens: TokenTable,
    token: str | None,
    *,
    role: Role = "admin",
    how: str = _AGENT_HOW,
    what: str = "heartbeats",
) -> Reporter:
    """Who may report for nodes with this bearer token: an agent token (its nodes only), or an
    API token with ``role`` (any node).

    Raises AuthError (401) for a missing or unknown token (``how`` says how to get one) and
    ForbiddenError (403) for an API token below ``role``. Shared by the heartbeat dependency
    below, the lean heartbeat path (:mod:`vigil.api._beat`), so both answer alike, and the log
    push endpoints (operator role).
    """
    if token is None:
        raise AuthError(f"missing bearer token: {how}")
    nodes = tokens.agent_nodes(token)
    if nodes:
        return Reporter(name="agent:" + ",".join(sorted(nodes)), nodes=nodes)
    identity = tokens.api_identity(token)
    if identity is None:
        raise AuthError(f"invalid bearer token: {how}")
    if not identity.allows(role):
        raise ForbiddenError(
            f"{what} need the node's agent token or the {role} role; token "
            f"{identity.name!r} has the {identity.role} role"
        )
    return Reporter(name=identity.name, nodes=None)


async def require_reporter(ctx: Ctx, credentials: Credentials) -> Reporter:
    """Dependency for heartbeats: an agent token, or an admin API token."""
    return reporter_for(ctx.tokens, None if credentials is None else credentials.credentials)


Agent = Annotated[Reporter, Depends(require_reporter)]
