"""Row <-> dataclass conversion for the store, with strict checks on what is read back.

Used by :class:`vigil.store.SqlStore`. Reading a value this version cannot parse (an enum
string written by a newer Vigil, a JSON column that is not an object, a NULL where one is not
allowed) raises :class:`vigil.errors.StoreError` naming the table, the row and the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.engine import RowMapping

from vigil.errors import StoreError
from vigil.model import (
    ActionRecord,
    FindingKind,
    Health,
    Incident,
    IncidentId,
    IncidentState,
    Node,
    NodeStatus,
    Replica,
    ReplicaId,
    ReplicaState,
    Severity,
)
from vigil.store._json import to_jsonable
from vigil.store._protocol import AuditEntry, StoredEvent

E = TypeVar("E", bound=StrEnum)


class _Reader:
    """Typed access to one row's columns; every failure becomes a StoreError."""

    def __init__(self, table: str, row: RowMapping, key: str) -> None:
        self._row = row
        self._where = f"{table} row {row.get(key)!r}"

    def _fail(self, column: str, problem: str) -> StoreError:
        return StoreError(
            f"{self._where}: column {column} {problem} (written by a newer Vigil, or edited?)"
        )

    def _get(self, column: str) -> Any:
        try:
            return self._row[column]
        except KeyError:
            raise self._fail(column, "is missing") from None

    def enum(self, column: str, cls: type[E]) -> E:
        value = self._get(column)
        try:
            return cls(value)
        except ValueError:
            raise self._fail(column, f"holds unknown {cls.__name__} {value!r}") from None

    def text(self, column: str) -> str:
        value = self._get(column)
        if not isinstance(value, str):
            raise self._fail(column, f"holds {value!r}, not text")
        return value

    def opt_text(self, column: str) -> str | None:
        return None if self._get(column) is None else self.text(column)

    def integer(self, column: str) -> int:
        value = self._get(column)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(column, f"holds {value!r}, not an integer")
        return value

    def opt_integer(self, column: str) -> int | None:
        return None if self._get(column) is None else self.integer(column)

    def number(self, column: str) -> float:
        value = self._get(column)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(column, f"holds {value!r}, not a number")
        return float(value)

    def opt_number(self, column: str) -> float | None:
        return None if self._get(column) is None else self.number(column)

    def opt_bool(self, column: str) -> bool | None:
        value = self._get(column)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self._fail(column, f"holds {value!r}, not a boolean")

    def mapping(self, column: str) -> dict[str, Any]:
        value = self._get(column)
        if not isinstance(value, dict):
            raise self._fail(column, f"holds {type(value).__name__}, not a JSON object")
        return value


def json_object(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Normalise a mapping for a JSON column; StoreError when it holds what JSON cannot."""
    try:
        return dict(to_jsonable(value or {}))
    except TypeError as err:
        raise StoreError(f"cannot store {what}: {err}") from err


def node_values(node: Node) -> dict[str, Any]:
    return {
        "name": node.name,
        "address": node.address,
        "labels": json_object(node.labels, f"labels of node {node.name!r}"),
        "status": node.status.value,
        "last_heartbeat": node.last_heartbeat,
        "phi": node.phi,
        "info": json_object(node.info, f"info of node {node.name!r}"),
        "address_source": node.address_source,
    }


def to_node(row: RowMapping) -> Node:
    r = _Reader("nodes", row, "name")
    return Node(
        name=r.text("name"),
        address=r.text("address"),
        labels={str(k): str(v) for k, v in r.mapping("labels").items()},
        status=r.enum("status", NodeStatus),
        last_heartbeat=r.opt_number("last_heartbeat"),
        phi=r.number("phi"),
        info=r.mapping("info"),
        address_source=r.text("address_source"),
    )


def to_service(row: RowMapping) -> tuple[str, dict[str, Any]]:
    r = _Reader("services", row, "name")
    return r.text("name"), r.mapping("spec")


def replica_values(replica: Replica) -> dict[str, Any]:
    return {
        "id": str(replica.id),
        "service": replica.service,
        "idx": replica.index,
        "node": replica.node,
        "port": replica.port,
        "state": replica.state.value,
        "pid": replica.pid,
        "started_at": replica.started_at,
        "create_time": replica.create_time,
        "restarts": replica.restarts,
        "exit_code": replica.exit_code,
        "live": replica.live.value,
        "ready": replica.ready.value,
        "log_path": replica.log_path,
        "held": replica.held,
    }


def to_replica(row: RowMapping) -> Replica:
    r = _Reader("replicas", row, "id")
    return Replica(
        id=ReplicaId(r.text("id")),
        service=r.text("service"),
        index=r.integer("idx"),
        node=r.text("node"),
        port=r.integer("port"),
        state=r.enum("state", ReplicaState),
        pid=r.opt_integer("pid"),
        started_at=r.opt_number("started_at"),
        create_time=r.opt_number("create_time"),
        restarts=r.integer("restarts"),
        exit_code=r.opt_integer("exit_code"),
        live=r.enum("live", Health),
        ready=r.enum("ready", Health),
        log_path=r.opt_text("log_path"),
        held=bool(r.opt_bool("held")),
    )


def to_event(row: RowMapping) -> StoredEvent:
    r = _Reader("events", row, "id")
    return StoredEvent(
        id=r.integer("id"),
        at=r.number("at"),
        kind=r.text("kind"),
        subject=r.text("subject"),
        data=r.mapping("data"),
    )


def incident_values(incident: Incident) -> dict[str, Any]:
    return {
        "subject": incident.subject,
        "kind": incident.kind.value,
        "state": incident.state.value,
        "summary": incident.summary,
        "severity": incident.severity.value,
        "opened_at": incident.opened_at,
        "detected_at": incident.detected_at,
        "updated_at": incident.updated_at,
        "first_action_at": incident.first_action_at,
        "resolved_at": incident.resolved_at,
        "findings": incident.findings,
        "evidence": json_object(incident.evidence, f"evidence of incident {incident.id}"),
    }


def to_incident(row: RowMapping) -> Incident:
    r = _Reader("incidents", row, "id")
    return Incident(
        id=IncidentId(r.integer("id")),
        subject=r.text("subject"),
        kind=r.enum("kind", FindingKind),
        state=r.enum("state", IncidentState),
        summary=r.text("summary"),
        severity=r.enum("severity", Severity),
        opened_at=r.number("opened_at"),
        detected_at=r.number("detected_at"),
        updated_at=r.number("updated_at"),
        first_action_at=r.opt_number("first_action_at"),
        resolved_at=r.opt_number("resolved_at"),
        findings=r.integer("findings"),
        evidence=r.mapping("evidence"),
    )


def to_action(row: RowMapping) -> ActionRecord:
    r = _Reader("actions", row, "id")
    incident_id = r.opt_integer("incident_id")
    return ActionRecord(
        id=r.integer("id"),
        kind=r.text("kind"),
        subject=r.text("subject"),
        actor=r.text("actor"),
        reason=r.text("reason"),
        started_at=r.number("started_at"),
        incident_id=None if incident_id is None else IncidentId(incident_id),
        finished_at=r.opt_number("finished_at"),
        ok=r.opt_bool("ok"),
        detail=r.text("detail"),
    )


def to_audit(row: RowMapping) -> AuditEntry:
    r = _Reader("audit", row, "id")
    return AuditEntry(
        id=r.integer("id"),
        at=r.number("at"),
        actor=r.text("actor"),
        action=r.text("action"),
        target=r.text("target"),
        reason=r.text("reason"),
        result=r.text("result"),
        detail=r.mapping("detail"),
        prev_hash=r.text("prev_hash"),
        hash=r.text("hash"),
    )
