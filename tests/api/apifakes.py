"""Test doubles for the API tests: a fake control plane and settings with a token per role."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from vigil.api import (
    BalancerStatus,
    ControlPlane,
    GuardsView,
    HeartbeatAck,
    RiskView,
    create_app,
)
from vigil.api._control import ReplicaCommand
from vigil.balancer import (
    AdminState,
    NodeCapacity,
    NoFit,
    Placement,
    Pool,
    TaskNeeds,
    Upstream,
    UpstreamStatus,
    place,
)
from vigil.collectors import Resent, Sample, SeriesStore
from vigil.errors import GuardRefused, NotFoundError
from vigil.model import (
    ActionRecord,
    Health,
    Node,
    NodeStatus,
    Replica,
    ReplicaId,
    ReplicaState,
    replica_id,
)
from vigil.settings import AgentToken, ApiSettings, ApiToken, NodeSettings, Service, Settings
from vigil.store import Store

TOKENS = {
    "viewer": "viewer-token-0123456789",
    "operator": "operator-token-0123456789",
    "admin": "admin-token-0123456789",
}
AGENT_A = "agent-node-a-token-0123456789"
NOW = 1_700_000_000.0


def bearer(role_or_token: str) -> dict[str, str]:
    """Authorization header for a role's token (or for a literal token)."""
    return {"Authorization": f"Bearer {TOKENS.get(role_or_token, role_or_token)}"}


def make_settings(*, tokens: bool = True) -> Settings:
    api_tokens = [
        ApiToken(name="vic", role="viewer", token=TOKENS["viewer"]),
        ApiToken(name="olga", role="operator", token=TOKENS["operator"]),
        ApiToken(name="ada", role="admin", token=TOKENS["admin"]),
    ]
    return Settings(
        api=ApiSettings(tokens=api_tokens if tokens else []),
        agents=[AgentToken(node="node-a", token=AGENT_A)],
        nodes=[NodeSettings(name="node-a"), NodeSettings(name="node-b")],
        services=[Service(name="web", command="serve {port}", replicas=2, node="node-a")],
    )


def _replica(service: str, index: int, *, ready: Health) -> Replica:
    return Replica(
        id=replica_id(service, index),
        service=service,
        index=index,
        node="node-a",
        port=9000 + index,
        state=ReplicaState.RUNNING,
        pid=100 + index,
        live=Health.HEALTHY,
        ready=ready,
    )


@dataclass
class FakeControl:
    """A control plane without processes: fixed replicas, records every command."""

    replica_list: list[Replica] = field(
        default_factory=lambda: [
            _replica("web", 0, ready=Health.HEALTHY),
            _replica("web", 1, ready=Health.UNHEALTHY),
        ]
    )
    node_list: list[Node] = field(
        default_factory=lambda: [
            Node(name="node-a", status=NodeStatus.UP, last_heartbeat=NOW, labels={"gpu": "a100"}),
            Node(name="node-b"),
        ]
    )
    fault: bool = False
    refuse: bool = False
    commands: list[tuple[ReplicaId, str, str, str]] = field(default_factory=list)
    heartbeats: list[tuple[str, int, Mapping[str, Any]]] = field(default_factory=list)
    maintained_by: list[str] = field(default_factory=list)

    def services(self) -> Sequence[str]:
        return sorted({r.service for r in self.replica_list})

    def replicas(self, service: str | None = None) -> Sequence[Replica]:
        if service is not None and service not in self.services():
            raise NotFoundError("service", service)
        return [r for r in self.replica_list if service is None or r.service == service]

    def nodes(self) -> Sequence[Node]:
        return self.node_list

    async def replica_command(
        self, replica: ReplicaId, command: ReplicaCommand, *, actor: str, reason: str
    ) -> ActionRecord:
        if not any(r.id == replica for r in self.replica_list):
            raise NotFoundError("replica", replica)
        if self.refuse:
            raise GuardRefused("cooldown", "restarted 2s ago; wait 28s")
        self.commands.append((replica, command, actor, reason))
        return ActionRecord(
            id=len(self.commands),
            kind=command,
            subject=f"replica:{replica}",
            actor=actor,
            reason=reason,
            started_at=NOW,
        )

    def heartbeat(
        self,
        node: str,
        seq: int,
        info: Mapping[str, Any],
        *,
        peer: str | None = None,
        address: str | None = None,
    ) -> HeartbeatAck:
        if node not in {n.name for n in self.node_list}:
            raise NotFoundError("node", node)
        self.heartbeats.append((node, seq, info))
        return HeartbeatAck(interval=1.0, node_status="up")

    def healthy_replicas(self, service: str) -> Sequence[Replica]:
        return [r for r in self.replicas(service) if r.ready is Health.HEALTHY]

    def fault_detected(self) -> bool:
        return self.fault

    async def auto_maintain(self, *, actor: str) -> bool:
        self.maintained_by.append(actor)
        return True

    series: SeriesStore = field(default_factory=lambda: SeriesStore(max_series=5, ring=100))

    def ingest_samples(self, node: str, samples: Sequence[Sample]) -> list[str]:
        if node not in {n.name for n in self.node_list}:
            raise NotFoundError("node", node)
        # as the controller's intake: a sample the store holds already is not an error
        return [str(e) for e in self.series.add_all(samples) if not isinstance(e, Resent)]

    def series_store(self) -> SeriesStore:
        return self.series

    # the log endpoints' service: tests put a real LogPipeline here (tests/api/test_api_logs.py)
    logs: Any = None

    def log_service(self) -> Any:
        return self.logs

    # a real pool for the "web" service when ``balanced`` (the API tests its routes over it)
    balanced: bool = False
    pool: Pool = field(default_factory=Pool)

    def __post_init__(self) -> None:
        for r in self.replica_list:
            self.pool.add(Upstream(id=r.id, host="127.0.0.1", port=r.port), NOW)
            self.pool.set_health(r.id, r.ready is Health.HEALTHY, NOW)

    def balancer_status(self, service: str) -> BalancerStatus | None:
        if service not in self.services():
            raise NotFoundError("service", service)
        if not self.balanced:
            return None
        return BalancerStatus(service, "127.0.0.1:8080", "p2c_ewma", self.pool.snapshot(NOW))

    def balancer_admin(
        self, replica: ReplicaId, *, state: str | None, weight: float | None
    ) -> UpstreamStatus:
        if not self.balanced:
            raise NotFoundError("balanced replica", replica)
        self.pool.get(replica)
        if state is not None:
            self.pool.set_state(replica, AdminState(state), NOW)
        if weight is not None:
            self.pool.set_weight(replica, weight, NOW)
        return next(row for row in self.pool.snapshot(NOW) if row.id == replica)

    def place(self, needs: TaskNeeds, policy: str) -> Placement | NoFit:
        nodes = [
            NodeCapacity(
                n.name,
                gpus_free=2 if n.name == "node-a" else 0,
                memory_free_mb=4096,
                labels=dict(n.labels),
                status=n.status,
            )
            for n in self.node_list
        ]
        return place(needs, nodes, policy, random.Random(0))

    risk: dict[str, float] = field(default_factory=lambda: {"node-a": 0.25})

    def node_risk(self, node: str) -> RiskView:
        match = next((n for n in self.node_list if n.name == node), None)
        if match is None:
            raise NotFoundError("node", node)
        return RiskView(
            node=node,
            state=match.status.value,
            probability=self.risk.get(node, 0.0),
            steps=60,
            step=60.0,
            transitions=10,
            matrix={"up": {"up": 0.9, "down": 0.1}},
        )

    guards: list[GuardsView] = field(default_factory=list)

    def healing_guards(self) -> Sequence[GuardsView]:
        return self.guards


def build_app(
    control: FakeControl, store: Store, registry: CollectorRegistry, *, tokens: bool = True
) -> FastAPI:
    plane: ControlPlane = control
    return create_app(
        settings=make_settings(tokens=tokens),
        store=store,
        control=plane,
        registry=registry,
        clock=lambda: NOW,
    )


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` in this process (no socket), at ``http://vigil.test``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        yield http
