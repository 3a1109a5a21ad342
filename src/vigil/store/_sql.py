"""SqlStore: the SQLAlchemy Core implementation of the :class:`vigil.store.Store` protocol.

Called by the daemon's event persister, the incident manager, the API routers and the CLI,
from the asyncio loop thread or from ``asyncio.to_thread``. SQLite (a file, or ``sqlite://``
in memory) is supported now; PostgreSQL follows by URL alone, as only portable Core constructs
are used outside :mod:`vigil.store._engine`'s SQLite branch and :func:`vigil.store._query.upsert`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import sqlalchemy as sa

from vigil.errors import NotFoundError
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
from vigil.store import _alerts, _audit, _migrate, _query, _rollups, _rows
from vigil.store._engine import Connector, parse_url
from vigil.store._fence import Fence
from vigil.store._protocol import AuditEntry, FiringAlert, Page, RollupRow, StoredEvent
from vigil.store._schema import actions, audit, events, incidents, meta, nodes, replicas, services

_ACTIVE = (
    IncidentState.OPEN.value,
    IncidentState.REMEDIATING.value,
    IncidentState.ESCALATED.value,
)
"""Not resolved yet: an escalated incident stays open with its evidence until the subject heals."""


class SqlStore:
    """Persistent state in a SQL database; see :class:`vigil.store.Store` for the contract.

    ``SqlStore(url)`` opens (creating the file and its directory for SQLite) and upgrades the
    schema to the one this Vigil expects; ``migrate=False`` skips the upgrade. A schema newer
    than this code is refused either way.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self._db = Connector(parse_url(url))
        self._series_ids: dict[tuple[str, str], int] = {}
        try:
            if migrate:
                _migrate.upgrade(self._db)
            else:
                with self._db.read("checking the schema revision") as conn:
                    _migrate.check_known(conn)
        except BaseException:
            self._db.dispose()
            raise

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._db.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    # lifecycle

    def close(self) -> None:
        self._db.dispose()

    def batch(self, what: str) -> AbstractContextManager[None]:
        return self._db.batch(what)

    def lead(
        self,
        holder: str,
        *,
        at: float,
        on_lost: Callable[[str], None] | None = None,
        wait: float = 1.0,
    ) -> int:
        """Take the next leadership epoch of a PostgreSQL store for ``holder`` (the controller
        that holds the database's claim) and fence every later write with it: once another
        controller took a newer epoch, a write fails with :class:`vigil.errors.NotLeaderError`,
        rolled back whole, and ``on_lost(message)`` is called once (:mod:`vigil.store._fence`).
        Waits up to ``wait`` seconds for the old leader's write transactions in flight, then
        raises :class:`vigil.errors.StoreBusy` (call again). A SQLite store returns 0 and is not
        fenced: its claim is a file lock that only the holder's death releases."""
        if self._db.url.get_backend_name() != "postgresql":
            return 0
        fence = Fence(on_lost)
        with self._db.write("taking the lead of the store") as conn:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(wait * 1000))}")
            epoch = fence.take(conn, holder, at)
        fence.taken(epoch)
        self._db.fence = fence
        return epoch

    def holding_lead(self, what: str) -> AbstractContextManager[object]:
        """A block that runs only while this store leads, and that no takeover enters: the
        fence's check (``FENCE_LOCK`` taken shared, the epoch read) opens an empty write
        transaction that stays open to the block's end, so a new leader's :meth:`lead` waits
        for the block as for a write in flight (and retries after ``wait``). Entering raises
        :class:`vigil.errors.NotLeaderError` once another controller leads. For host actions
        (:class:`vigil.remediation.FencedBackend`); a store that never led holds nothing.
        The block holds one pooled connection; keep it short."""
        if self._db.fence is None:
            return nullcontext()
        return self._db.write(what)

    def leads(self) -> bool:
        """Whether the epoch this store took with :meth:`lead` is still the store's (True for a
        store that never led: nothing fences it)."""
        fence = self._db.fence
        if fence is None:
            return True
        with self._db.read("reading the leadership epoch") as conn:
            return fence.current(conn)

    # nodes

    def upsert_node(self, node: Node) -> None:
        with self._db.write(f"saving node {node.name!r}") as conn:
            _query.upsert(conn, nodes, _rows.node_values(node), "name")

    def get_node(self, name: str) -> Node:
        with self._db.read(f"reading node {name!r}") as conn:
            row = conn.execute(sa.select(nodes).where(nodes.c.name == name)).mappings().first()
            if row is None:
                raise NotFoundError("node", name)
            return _rows.to_node(row)

    def list_nodes(self) -> Sequence[Node]:
        with self._db.read("listing nodes") as conn:
            rows = conn.execute(sa.select(nodes).order_by(nodes.c.name)).mappings().all()
            return [_rows.to_node(row) for row in rows]

    # services

    def upsert_service(self, name: str, spec: Mapping[str, Any]) -> None:
        values = {"name": name, "spec": _rows.json_object(spec, f"spec of service {name!r}")}
        with self._db.write(f"saving service {name!r}") as conn:
            _query.upsert(conn, services, values, "name")

    def delete_service(self, name: str) -> None:
        with self._db.write(f"deleting service {name!r}") as conn:
            result = conn.execute(sa.delete(services).where(services.c.name == name))
            if result.rowcount == 0:
                raise NotFoundError("service", name)

    def list_services(self) -> Mapping[str, Mapping[str, Any]]:
        with self._db.read("listing services") as conn:
            rows = conn.execute(sa.select(services).order_by(services.c.name)).mappings().all()
            return dict(_rows.to_service(row) for row in rows)

    # replicas

    def upsert_replica(self, replica: Replica) -> None:
        with self._db.write(f"saving replica {replica.id!r}") as conn:
            _query.upsert(conn, replicas, _rows.replica_values(replica), "id")

    def get_replica(self, replica_id: ReplicaId) -> Replica:
        with self._db.read(f"reading replica {replica_id!r}") as conn:
            stmt = sa.select(replicas).where(replicas.c.id == str(replica_id))
            row = conn.execute(stmt).mappings().first()
            if row is None:
                raise NotFoundError("replica", str(replica_id))
            return _rows.to_replica(row)

    def list_replicas(self, service: str | None = None) -> Sequence[Replica]:
        stmt = sa.select(replicas).order_by(replicas.c.service, replicas.c.idx)
        if service is not None:
            stmt = stmt.where(replicas.c.service == service)
        with self._db.read("listing replicas") as conn:
            return [_rows.to_replica(row) for row in conn.execute(stmt).mappings().all()]

    def delete_replica(self, replica_id: ReplicaId) -> None:
        with self._db.write(f"deleting replica {replica_id!r}") as conn:
            result = conn.execute(sa.delete(replicas).where(replicas.c.id == str(replica_id)))
            if result.rowcount == 0:
                raise NotFoundError("replica", str(replica_id))

    # events

    def append_event(self, at: float, kind: str, subject: str, data: Mapping[str, Any]) -> int:
        values = {
            "at": at,
            "kind": kind,
            "subject": subject,
            "data": _rows.json_object(data, f"data of event {kind}"),
        }
        with self._db.write(f"appending event {kind}") as conn:
            return _query.insert(conn, events, values)

    def list_events(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        subject: str | None = None,
        kind: str | None = None,
    ) -> Page[StoredEvent]:
        where: list[sa.ColumnElement[bool]] = []
        if subject is not None:
            where.append(events.c.subject == subject)
        if kind is not None:
            where.append(events.c.kind == kind)
        with self._db.read("listing events") as conn:
            return _query.page(conn, events, where, offset, limit, _rows.to_event)

    # incidents

    def open_incident(self, finding: Finding, opened_at: float) -> Incident:
        draft = Incident(
            id=IncidentId(0),
            subject=finding.subject,
            kind=finding.kind,
            state=IncidentState.OPEN,
            summary=finding.summary,
            severity=finding.severity,
            opened_at=opened_at,
            detected_at=finding.at,
            updated_at=opened_at,
            evidence=finding.evidence,
        )
        values = _rows.incident_values(draft)
        with self._db.write(f"opening an incident for {finding.subject!r}") as conn:
            new_id = _query.insert(conn, incidents, values)
            row = conn.execute(sa.select(incidents).where(incidents.c.id == new_id)).mappings()
            return _rows.to_incident(row.one())

    def update_incident(self, incident: Incident) -> None:
        values = _rows.incident_values(incident)
        with self._db.write(f"updating incident {incident.id}") as conn:
            key = incidents.c.id == _query.an_id(incident.id)
            stmt = sa.update(incidents).where(key).values(**values)
            if conn.execute(stmt).rowcount == 0:
                raise NotFoundError("incident", str(incident.id))

    def get_incident(self, incident_id: IncidentId) -> Incident:
        if not -_query.SQL_INT_MAX - 1 <= incident_id <= _query.SQL_INT_MAX:
            raise NotFoundError("incident", str(incident_id))  # no row can have that id
        with self._db.read(f"reading incident {incident_id}") as conn:
            stmt = sa.select(incidents).where(incidents.c.id == _query.an_id(incident_id))
            row = conn.execute(stmt).mappings().first()
            if row is None:
                raise NotFoundError("incident", str(incident_id))
            return _rows.to_incident(row)

    def find_active_incident(self, subject: str, kind: str | None = None) -> Incident | None:
        stmt = (
            sa.select(incidents)
            .where(incidents.c.subject == subject, incidents.c.state.in_(_ACTIVE))
            .order_by(incidents.c.id.desc())
            .limit(1)
        )
        if kind is not None:
            stmt = stmt.where(incidents.c.kind == str(kind))
        with self._db.read(f"finding the active incident of {subject!r}") as conn:
            row = conn.execute(stmt).mappings().first()
            return None if row is None else _rows.to_incident(row)

    def list_incidents(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        states: Sequence[IncidentState] | None = None,
        subject: str | None = None,
    ) -> Page[Incident]:
        where: list[sa.ColumnElement[bool]] = []
        if states is not None:
            where.append(incidents.c.state.in_([IncidentState(s).value for s in states]))
        if subject is not None:
            where.append(incidents.c.subject == subject)
        with self._db.read("listing incidents") as conn:
            return _query.page(conn, incidents, where, offset, limit, _rows.to_incident)

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
    ) -> ActionRecord:
        values: dict[str, Any] = {
            "kind": kind,
            "subject": subject,
            "actor": actor,
            "reason": reason,
            "started_at": at,
            "incident_id": incident_id,
            "finished_at": None,
            "ok": None,
            "detail": "",
        }
        with self._db.write(f"starting action {kind} on {subject!r}") as conn:
            if incident_id is not None:
                found = sa.select(incidents.c.id).where(incidents.c.id == _query.an_id(incident_id))
                if conn.execute(found).first() is None:
                    raise NotFoundError("incident", str(incident_id))
            new_id = _query.insert(conn, actions, values)
            return ActionRecord(id=new_id, **values)

    def finish_action(self, action_id: int, *, ok: bool, detail: str, at: float) -> ActionRecord:
        with self._db.write(f"finishing action {action_id}") as conn:
            stmt = (
                sa.update(actions)
                .where(actions.c.id == _query.an_id(action_id))
                .values(ok=ok, detail=detail, finished_at=at)
            )
            if conn.execute(stmt).rowcount == 0:
                raise NotFoundError("action", str(action_id))
            read = sa.select(actions).where(actions.c.id == _query.an_id(action_id))
            row = conn.execute(read).mappings()
            return _rows.to_action(row.one())

    def list_actions(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        subject: str | None = None,
        incident_id: IncidentId | None = None,
    ) -> Page[ActionRecord]:
        where: list[sa.ColumnElement[bool]] = []
        if subject is not None:
            where.append(actions.c.subject == subject)
        if incident_id is not None:
            where.append(actions.c.incident_id == _query.an_id(incident_id))
        with self._db.read("listing actions") as conn:
            return _query.page(conn, actions, where, offset, limit, _rows.to_action)

    # audit

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
        fenced: bool = True,
    ) -> AuditEntry:
        """``fenced=False`` is for one entry only: a host action this controller refused because
        it no longer leads the store (:class:`vigil.remediation.FencedBackend`). It is written
        even so, so the new leader's audit trail shows what the old one held back; the chain
        stays whole with two appenders (the head is read under an advisory lock, and
        ``prev_hash`` is unique)."""
        return _audit.append(
            self._db,
            at=at,
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            result=result,
            detail=detail,
            fenced=fenced,
        )

    def list_audit(self, *, offset: int = 0, limit: int = 100) -> Page[AuditEntry]:
        with self._db.read("listing the audit trail") as conn:
            return _query.page(conn, audit, [], offset, limit, _rows.to_audit)

    def verify_audit(self) -> int | None:
        with self._db.read("verifying the audit trail") as conn:
            return _audit.verify(conn)

    # meta

    def get_meta(self, key: str) -> str | None:
        with self._db.read(f"reading meta {key!r}") as conn:
            value = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
            return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        with self._db.write(f"saving meta {key!r}") as conn:
            _query.upsert(conn, meta, {"key": key, "value": value}, "key")

    def delete_meta(self, key: str) -> bool:
        with self._db.write(f"deleting meta {key!r}") as conn:
            return bool(conn.execute(sa.delete(meta).where(meta.c.key == key)).rowcount)

    # metric rollups

    def save_rollups(self, rows: Sequence[RollupRow]) -> int:
        if not rows:
            return 0
        with self._db.write(f"saving {len(rows)} rollups") as conn:
            ids = _rollups.save(conn, rows, self._series_ids)
        self._series_ids.update(ids)  # only once committed: a rolled-back id is never cached
        return len(rows)

    def load_rollups(
        self,
        name: str,
        labels: Mapping[str, str],
        width: int,
        start: float,
        end: float,
        limit: int | None = None,
    ) -> Sequence[RollupRow]:
        with self._db.read(f"reading rollups of {name!r}") as conn:
            return _rollups.load(conn, name, labels, width, start, end, limit)

    def earliest_rollup(self, width: int) -> float | None:
        with self._db.read(f"reading the oldest {width}s rollup") as conn:
            return _rollups.earliest(conn, width)

    def latest_rollup(self, width: int) -> float | None:
        with self._db.read(f"reading the newest {width}s rollup") as conn:
            return _rollups.latest(conn, width)

    def prune_rollups(self, width: int, before: float) -> int:
        with self._db.write(f"pruning {width}s rollups") as conn:
            return _rollups.prune(conn, width, before)

    # Alertmanager alerts firing

    def get_firing_alert(self, fingerprint: str) -> FiringAlert | None:
        with self._db.read(f"reading firing alert {fingerprint!r}") as conn:
            return _alerts.get(conn, fingerprint)

    def note_firing_alert(self, alert: FiringAlert, seen_at: float) -> None:
        with self._db.write(f"noting firing alert {alert.fingerprint!r}") as conn:
            _alerts.put(conn, alert, seen_at)

    def drop_firing_alert(self, fingerprint: str) -> bool:
        with self._db.write(f"dropping firing alert {fingerprint!r}") as conn:
            return _alerts.drop(conn, fingerprint)

    def count_firing_alerts(self, subject: str) -> int:
        with self._db.read(f"counting the alerts firing on {subject!r}") as conn:
            return _alerts.count(conn, subject)

    def prune_firing_alerts(self, keep: int) -> int:
        with self._db.write(f"keeping the {keep} most recent firing alerts") as conn:
            return _alerts.prune(conn, keep)
