"""Pydantic request and response models of the REST API (they make the OpenAPI schema).

Used by the routers in :mod:`vigil.api`; response models are built from the frozen dataclasses
of :mod:`vigil.model` and :mod:`vigil.store` with ``Model.model_validate(obj)``. The CLI reads
the same JSON shapes over HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from vigil.model import (
    MAX_ADDRESS,
    FindingKind,
    Health,
    IncidentState,
    NodeStatus,
    ReplicaState,
    Severity,
    check_address,
)
from vigil.store import Page

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StateFilter(StrEnum):
    """``?state=`` of the incident listing: an :class:`IncidentState`, or ``active``."""

    OPEN = IncidentState.OPEN.value
    REMEDIATING = IncidentState.REMEDIATING.value
    RESOLVED = IncidentState.RESOLVED.value
    ESCALATED = IncidentState.ESCALATED.value
    ACTIVE = "active"  # open, remediating or escalated: not resolved


class ErrorOut(BaseModel):
    """Every error body: one line saying what is wrong and, where possible, how to fix it."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or unknown bearer token"},
    403: {"model": ErrorOut, "description": "The token's role is too low"},
    422: {"model": ErrorOut, "description": "Invalid input: the detail names the field"},
}
"""The error responses every authenticated router documents."""

BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Content-Encoding is gzip but the body is not"},
    413: {"model": ErrorOut, "description": "Body too large, or inflating past the route's limit"},
    415: {"model": ErrorOut, "description": "A Content-Encoding other than gzip"},
}
"""What every POST may answer before its route runs (:mod:`vigil.api._gzip`); each POST route
lists them."""
STORE_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorOut,
        "description": "The database is busy (nothing was changed) or the action must wait: "
        "retry after Retry-After seconds",
    },
}
"""What a route that reads or writes the store may answer when the database is busy."""


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class NodeOut(_Out):
    name: str
    address: Annotated[str | None, BeforeValidator(lambda v: v or None)] = Field(
        description="Where the node is: from the config (nodes[].address) or, for a node "
        "declared without one, learned from the address its agent's heartbeats come from; "
        "null until then"
    )
    address_source: Annotated[
        Literal["config", "agent", "heartbeat"] | None, BeforeValidator(lambda v: v or None)
    ] = Field(
        description="Where address came from: the config, the address the agent sent "
        "(agent), or the heartbeat's peer address (heartbeat); null while it is not known"
    )
    labels: dict[str, str]
    status: NodeStatus
    last_heartbeat: float | None
    phi: float
    info: dict[str, Any]


class ReplicaOut(_Out):
    id: str
    service: str
    index: int
    node: str
    port: int
    state: ReplicaState
    pid: int | None
    started_at: float | None
    restarts: int
    exit_code: int | None
    live: Health
    ready: Health
    log_path: str | None


class ServiceOut(BaseModel):
    name: str
    desired: int | None = Field(description="Configured replica count (null if not configured)")
    ready: int = Field(description="Replicas that are running and ready")
    replicas: list[ReplicaOut]


class ActionOut(_Out):
    id: int
    kind: str
    subject: str
    actor: str
    reason: str
    started_at: float
    incident_id: int | None
    finished_at: float | None
    ok: bool | None
    detail: str


class IncidentOut(_Out):
    id: int
    subject: str
    kind: FindingKind
    state: IncidentState
    summary: str
    severity: Severity
    opened_at: float
    detected_at: float
    updated_at: float
    first_action_at: float | None
    resolved_at: float | None
    findings: int
    evidence: dict[str, Any]
    time_to_recover: float | None


class EventOut(_Out):
    id: int
    at: float
    kind: str
    subject: str
    data: dict[str, Any]


class AuditOut(_Out):
    id: int
    at: float
    actor: str
    action: str
    target: str
    reason: str
    result: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class Paged(BaseModel, Generic[T]):
    """One page of a newest-first listing: ``items`` from ``offset``, out of ``total``."""

    items: list[T]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, page: Page[Any]) -> Self:
        return cls.model_validate(
            {
                "items": list(page.items),
                "total": page.total,
                "offset": page.offset,
                "limit": page.limit,
            },
            from_attributes=True,
        )


class IncidentPage(Paged[IncidentOut]):
    pass


class EventPage(Paged[EventOut]):
    pass


class ActionPage(Paged[ActionOut]):
    pass


class AuditPage(Paged[AuditOut]):
    pass


class AuditVerifyOut(BaseModel):
    intact: bool
    first_broken: int | None = Field(description="Id of the first entry whose hash does not match")


def _printable(text: str) -> str:
    """Refuse control characters other than tab and newline: PostgreSQL text cannot hold a NUL
    (the action was taken, then its audit entry failed: a 500 and no trail), and an escape
    sequence in the trail would redraw the terminal of whoever reads it."""
    for i, char in enumerate(text):
        if (char < " " and char not in "\t\n") or "\x7f" <= char <= "\x9f":
            raise ValueError(
                f"must not hold control characters ({char!r} as character {i + 1}): "
                "write the reason as plain text"
            )
    return text


def plain_filter(text: str | None) -> str | None:
    """A query filter (``?subject=``, ``?kind=``) with no control character: no stored name
    holds one, and PostgreSQL refused a NUL even in a query (a 500 for a typo)."""
    if text is not None:
        for i, char in enumerate(text):
            if char < " " or "\x7f" <= char <= "\x9f":
                raise ValueError(
                    f"must not hold control characters ({char!r} as character {i + 1})"
                )
    return text


Reason = Annotated[
    str,
    Field(max_length=500, description="Why: kept in the audit trail (plain text)"),
    AfterValidator(_printable),
]
"""An operator's reason for an action, as the audit trail keeps it."""


MAX_SERVICE_NAME = 63
"""Characters of a service name (``services[].name`` in vigil.yaml allows no more)."""
MAX_REPLICA_INDEX = 999
"""The highest replica index (``services[].replicas`` is at most 1000). A path past these
names no replica any config could hold; refused before it reaches the audit trail, whose
target column (255 characters on PostgreSQL) could not hold it: a 500 instead of a 404."""

ServiceName = Annotated[str, Path(max_length=MAX_SERVICE_NAME, description="Service name")]
Index = Annotated[
    int,
    Path(ge=0, le=MAX_REPLICA_INDEX, description="Replica index within its service (0..999)"),
]


class CommandIn(BaseModel):
    """Optional body of a replica command."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason = ""


MAX_BATCH = 10_000
"""Samples per push: a node's full host + GPU set at 1 s is ~100, so this is minutes of backlog."""


class SampleIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_.:]*$")
    labels: dict[str, str] = Field(default_factory=dict, max_length=20)
    value: float
    at: float = Field(gt=0)


MAX_INFO_DEPTH = 16
"""Levels of nesting a heartbeat's ``info`` may have (an agent sends flat facts). 900 levels
passed: then every GET /api/v1/nodes answered 500 (pydantic's JSON writer gives up at a few
hundred) and the node's status could not be stored (the store's writer recursed too deep)."""


MAX_INFO_SIZE = 64 * 1024
"""Rough JSON size (characters of keys and strings, 8 per other value) a heartbeat's ``info``
may have: the agent sends ~200 bytes of host facts. Only the 64 MB body cap bounded it, and
the controller keeps the last ``info`` of every node in memory, in every GET /api/v1/nodes and
in the events of each heartbeat."""


def shallow(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` itself, refused (ValueError) when nested deeper than :data:`MAX_INFO_DEPTH` or
    bigger than :data:`MAX_INFO_SIZE`; walked with a stack, so the check cannot itself recurse
    too deep."""
    stack: list[tuple[Any, int]] = [(info, 1)]
    size = 0
    while stack:
        value, depth = stack.pop()
        size += len(value) if isinstance(value, str) else 8
        if size > MAX_INFO_SIZE:
            raise ValueError(
                f"more than {MAX_INFO_SIZE // 1024} KiB: report a few flat facts, "
                'e.g. {"cpu_pct": 12.5}, and ship logs and metrics on their own paths'
            )
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)  # keys count toward the size
        children = value.values() if isinstance(value, dict) else value
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_INFO_DEPTH:
            raise ValueError(
                f"nested more than {MAX_INFO_DEPTH} levels deep: report flat facts, "
                'e.g. {"cpu_pct": 12.5}'
            )
        stack.extend((child, depth + 1) for child in children)
    return info


Info = Annotated[dict[str, Any], AfterValidator(shallow)]
Address = Annotated[str, Field(min_length=1, max_length=MAX_ADDRESS), AfterValidator(check_address)]
"""The address an agent asks to be reached at (:func:`vigil.model.check_address`)."""
"""A heartbeat's free-form facts, at most :data:`MAX_INFO_DEPTH` levels deep."""


class HeartbeatIn(BaseModel):
    node: str = Field(min_length=1, max_length=63)
    seq: int = Field(ge=0, description="Increases by one per heartbeat; restarts at 0")
    info: Info = Field(
        default_factory=dict,
        description=f"Free-form agent facts (at most {MAX_INFO_DEPTH} levels deep)",
    )
    samples: list[SampleIn] = Field(
        default_factory=list,
        max_length=MAX_BATCH,
        description="Metrics riding on the heartbeat (one request a second instead of two)",
    )
    address: Address | None = Field(
        default=None,
        description="The address the agent asks to be reached at (vigil agent "
        "--advertise-address): taken over the heartbeat's peer address for a node declared "
        "without one (address_source: agent). Older agents send none.",
    )


class HeartbeatOut(BaseModel):
    interval: float = Field(description="Seconds between heartbeats the controller expects")
    node_status: str
    samples_rejected: int = Field(default=0, description="Samples that could not be stored")
    sample_errors: list[str] | None = Field(
        default=None,
        description="Why, for the first few (only when some were rejected): a skewed clock, a "
        "value that is not a number...",
    )


class PodOut(BaseModel):
    replica: str
    port: int
    node: str
    share: float = Field(description="Fraction of traffic to send to this replica")


class BalanceOut(BaseModel):
    load_balanced_pods: list[PodOut]


class FaultOut(BaseModel):
    fault_detected: bool


class MaintainOut(BaseModel):
    maintenance_completed: bool


def models(cls: type[M], objects: Sequence[Any]) -> list[M]:
    """Validate each dataclass in ``objects`` into ``cls``."""
    return [cls.model_validate(obj) for obj in objects]
