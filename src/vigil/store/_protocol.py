"""The Store protocol: every piece of state Vigil keeps, behind one narrow interface.

Callers (the daemon's persister, the engine, the API, the CLI) use only this protocol, so the
PostgreSQL store can follow the SQLite one without changing them. Methods are synchronous
(SQLAlchemy Core); async callers run them directly (SQLite WAL writes take well under a
millisecond) or via ``asyncio.to_thread`` for long reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from vigil.model import (
    ActionRecord,
    Finding,
    Incident,
    IncidentId,
    IncidentState,
    Node,
    Replica,
    ReplicaId,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing: ``items`` from ``offset``, out of ``total``."""

    items: Sequence[T]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    at: float
    kind: str
    subject: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the tamper-evident audit trail.

    ``hash = sha256(prev_hash + canonical(entry))``; the first entry's ``prev_hash`` is 64 zeros.
    """

    id: int
    at: float
    actor: str
    action: str
    target: str
    reason: str
    result: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class FiringAlert:
    """An Alertmanager alert firing (by its fingerprint) on a Vigil subject since ``starts_at``."""

    fingerprint: str
    subject: str
    starts_at: float


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One persisted rollup bucket of a series: ``[start, start + width)`` seconds.

    ``labels`` are the series' sorted ``(key, value)`` pairs; ``total`` is the sum of the values
    (the mean is ``total / count``), so buckets of one series merge exactly.
    """

    name: str
    labels: tuple[tuple[str, str], ...]
    width: int
    start: float
    min: float
    max: float
    total: float
    count: int
    last: float


class Store(Protocol):
    """Persistent state.

    Implementation: :class:`vigil.store.SqlStore` (SQLite now, PostgreSQL later).
    """

    # lifecycle
    def close(self) -> None: ...
    def batch(self, what: str) -> AbstractContextManager[None]: ...

    # ^ every read and write this thread makes inside the block is one transaction, committed
    #   at its end and rolled back whole on an error (``what`` names it in errors); nests

    # nodes
    def upsert_node(self, node: Node) -> None: ...
    def get_node(self, name: str) -> Node: ...  # raises NotFoundError
    def list_nodes(self) -> Sequence[Node]: ...

    # services: the desired state as last applied (a JSON-able mapping per service)
    def upsert_service(self, name: str, spec: Mapping[str, Any]) -> None: ...
    def delete_service(self, name: str) -> None: ...
    def list_services(self) -> Mapping[str, Mapping[str, Any]]: ...

    # replicas: the observed state, including pid/create_time so a restarted controller can adopt
    def upsert_replica(self, replica: Replica) -> None: ...
    def get_replica(self, replica_id: ReplicaId) -> Replica: ...  # raises NotFoundError
    def list_replicas(self, service: str | None = None) -> Sequence[Replica]: ...
    def delete_replica(self, replica_id: ReplicaId) -> None: ...

    # events: append-only history of every bus event
    def append_event(self, at: float, kind: str, subject: str, data: Mapping[str, Any]) -> int: ...
    def list_events(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        subject: str | None = None,
        kind: str | None = None,
    ) -> Page[StoredEvent]: ...  # newest first

    # incidents
    def open_incident(self, finding: Finding, opened_at: float) -> Incident: ...
    def update_incident(self, incident: Incident) -> None: ...
    def get_incident(self, incident_id: IncidentId) -> Incident: ...  # raises NotFoundError
    def find_active_incident(self, subject: str, kind: str | None = None) -> Incident | None: ...

    # ^ newest incident of the subject not resolved yet (open, remediating or escalated)
    def list_incidents(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        states: Sequence[IncidentState] | None = None,
        subject: str | None = None,
    ) -> Page[Incident]: ...  # newest first

    # actions
    def start_action(
        self,
        *,
        kind: str,
        subject: str,
        actor: str,
        reason: str,
        at: float,
        incident_id: IncidentId | None = None,
    ) -> ActionRecord: ...
    def finish_action(
        self, action_id: int, *, ok: bool, detail: str, at: float
    ) -> ActionRecord: ...
    def list_actions(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        subject: str | None = None,
        incident_id: IncidentId | None = None,
    ) -> Page[ActionRecord]: ...  # newest first

    # audit: hash-chained, append-only
    def append_audit(
        self,
        *,
        at: float,
        actor: str,
        action: str,
        target: str,
        reason: str,
        result: str,
        detail: Mapping[str, Any] | None = None,
        fenced: bool = True,  # False: a refused host action's entry (SqlStore.append_audit)
    ) -> AuditEntry: ...
    # newest first
    def list_audit(self, *, offset: int = 0, limit: int = 100) -> Page[AuditEntry]: ...
    def verify_audit(self) -> int | None: ...  # id of the first broken entry, or None when intact

    # metric rollups (1-minute and 1-hour buckets): written in batches by the controller's
    # rollup flusher, read by GET /api/v1/series for ranges older than the in-memory rings
    def save_rollups(self, rows: Sequence[RollupRow]) -> int: ...

    # ^ merges into an existing bucket (min of mins, sum of sums...); returns rows written
    def load_rollups(
        self,
        name: str,
        labels: Mapping[str, str],
        width: int,
        start: float,
        end: float,
        limit: int | None = None,
    ) -> Sequence[RollupRow]: ...

    # ^ buckets of the series named ``name`` whose labels include ``labels``, start in [start, end]
    #   (at most ``limit`` of them: a caller that gets ``limit`` asked for too many)
    def prune_rollups(self, width: int, before: float) -> int: ...  # deletes older buckets
    def earliest_rollup(self, width: int) -> float | None: ...  # oldest bucket start, or None
    def latest_rollup(self, width: int) -> float | None: ...  # newest bucket start, or None

    # small key/value state (controller instance id, schema notes...)
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def delete_meta(self, key: str) -> bool: ...  # False: there was no such row

    # Alertmanager alerts firing, by fingerprint (the receiver, vigil.api._alerts): noted and
    # dropped inside its chunk's batch(), so they outlive the controller and a rolled-back chunk
    def get_firing_alert(self, fingerprint: str) -> FiringAlert | None: ...
    def note_firing_alert(self, alert: FiringAlert, seen_at: float) -> None: ...  # upsert
    def drop_firing_alert(self, fingerprint: str) -> bool: ...  # False: it was not noted
    def count_firing_alerts(self, subject: str) -> int: ...  # those noted on ``subject``
    def prune_firing_alerts(self, keep: int) -> int: ...  # keeps the most recently seen
