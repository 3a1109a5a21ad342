"""What every API request handler can reach: settings, store, control plane, tokens, clock.

:func:`vigil.api.create_app` builds one :class:`ApiContext` and keeps it on ``app.state``; the
routers (``_fleet``, ``_history``, ``_agents``, ``_seed``) receive it through the ``Ctx``
dependency, and :mod:`vigil.api._auth` resolves bearer tokens against its :class:`TokenTable`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from vigil.api._control import ControlPlane
from vigil.settings import AgentToken, ApiToken, Role, Settings
from vigil.store import Store

_log = logging.getLogger(__name__)

ROLE_RANK: Mapping[Role, int] = {"viewer": 0, "operator": 1, "admin": 2}
"""Roles are ordered: a role may do everything the roles below it may."""

ANONYMOUS = "anonymous"
"""The identity of unauthenticated readers when no API tokens are configured."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: the token's name (the audit actor) and its role."""

    name: str
    role: Role

    def allows(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenTable:
    """The configured bearer tokens, by SHA-256, compared in constant time.

    ``open`` is True when ``api.tokens`` is empty: the API then serves reads anonymously.
    """

    def __init__(self, api: Sequence[ApiToken], agents: Sequence[AgentToken]) -> None:
        self.open = not api
        self._api: list[tuple[str, Identity]] = []
        agents_by_digest: dict[str, set[str]] = {}
        for token in api:
            digest = token.token_hash()
            if digest is None:
                _log.warning(
                    "API token %r has no value (is its token_env set?): ignored", token.name
                )
            else:
                self._api.append((digest, Identity(token.name, token.role)))
        for agent in agents:
            digest = agent.token_hash()
            if digest is None:
                _log.warning("agent token for node %r has no value: ignored", agent.node)
            else:
                agents_by_digest.setdefault(digest, set()).add(agent.node)
        # by digest: every heartbeat looks its token up, and a fleet has an agent token per node
        # (comparing against each would make a heartbeat O(nodes)); a dict probe on the SHA-256
        # of the presented token leaks nothing usable about any configured token
        self._agents = {d: frozenset(nodes) for d, nodes in agents_by_digest.items()}

    def api_identity(self, token: str) -> Identity | None:
        """The identity whose token this is, or None. Compares against every entry."""
        presented = _digest(token)
        found: Identity | None = None
        for digest, identity in self._api:
            if hmac.compare_digest(presented, digest) and found is None:
                found = identity
        return found

    def agent_nodes(self, token: str) -> frozenset[str]:
        """The nodes this agent token may report for (empty when it is no agent token)."""
        return self._agents.get(_digest(token), frozenset())


@dataclass(frozen=True, slots=True)
class ApiContext:
    """Everything the routers share; one per app."""

    settings: Settings
    store: Store
    control: ControlPlane
    registry: CollectorRegistry
    tokens: TokenTable
    clock: Callable[[], float]

    def audit(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        reason: str,
        result: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one entry to the audit trail, stamped with the app's clock."""
        self.store.append_audit(
            at=self.clock(),
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            result=result,
            detail=detail,
        )


async def get_context(request: Request) -> ApiContext:
    """Dependency: the app's context (async so FastAPI does not send it to a thread)."""
    return cast(ApiContext, request.app.state.vigil)


Ctx = Annotated[ApiContext, Depends(get_context)]
