"""The Store contract, run against every store in ``conftest.STORES``."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from vigil.errors import InputError, NotFoundError, StoreError
from vigil.model import (
    Finding,
    FindingKind,
    Health,
    IncidentId,
    IncidentState,
    Node,
    NodeStatus,
    Replica,
    ReplicaState,
    Severity,
    replica_id,
)
from vigil.store import SqlStore

from .conftest import RawSql


def typed(store: SqlStore) -> bool:
    """Whether the database checks column types itself (PostgreSQL; SQLite stores anything)."""
    return store.url.startswith("postgresql")


def make_replica(service: str = "llm", index: int = 0, **changes: object) -> Replica:
    fields: dict[str, object] = {
        "id": replica_id(service, index),
        "service": service,
        "index": index,
        "node": "gpu-01",
        "port": 8000 + index,
    }
    fields.update(changes)
    return Replica(**fields)  # type: ignore[arg-type]


def make_finding(subject: str = "replica:llm/0", kind: FindingKind = FindingKind.HUNG) -> Finding:
    return Finding(
        kind=kind,
        subject=subject,
        at=100.0,
        summary=f"{subject} is {kind}",
        severity=Severity.CRITICAL,
        evidence={"latency": 12.5, "probes": [1, 2]},
    )


# nodes


def test_a_node_round_trips_with_every_field(store: SqlStore) -> None:
    node = Node(
        name="gpu-01",
        address="10.0.0.1",
        labels={"gpu": "a100"},
        status=NodeStatus.SUSPECT,
        last_heartbeat=1700000000.25,
        phi=3.5,
        info={"cpus": 64, "gpus": ["a", "b"]},
        address_source="agent",  # on main the store dropped it: read back as ""
    )
    store.upsert_node(node)
    assert store.get_node("gpu-01") == node


def test_upserting_a_node_again_replaces_it(store: SqlStore) -> None:
    store.upsert_node(Node(name="gpu-01"))
    store.upsert_node(Node(name="gpu-01", status=NodeStatus.DOWN, phi=math.inf))
    got = store.get_node("gpu-01")
    assert got.status is NodeStatus.DOWN
    assert got.phi == math.inf
    assert len(store.list_nodes()) == 1


def test_nodes_are_listed_by_name(store: SqlStore) -> None:
    for name in ("c", "a", "b"):
        store.upsert_node(Node(name=name))
    assert [n.name for n in store.list_nodes()] == ["a", "b", "c"]


def test_an_unknown_node_raises_not_found_which_is_a_lookup_error(store: SqlStore) -> None:
    with pytest.raises(LookupError) as caught:
        store.get_node("nope")
    assert isinstance(caught.value, NotFoundError)
    assert isinstance(caught.value, StoreError)
    assert (caught.value.kind, caught.value.name) == ("node", "nope")


# services


def test_services_round_trip_update_and_delete(store: SqlStore) -> None:
    store.upsert_service("llm", {"replicas": 2, "cmd": ["python", "-m", "llm"]})
    store.upsert_service("api", {"replicas": 1})
    store.upsert_service("llm", {"replicas": 3})
    assert store.list_services() == {"api": {"replicas": 1}, "llm": {"replicas": 3}}
    store.delete_service("api")
    assert list(store.list_services()) == ["llm"]


def test_deleting_an_unknown_service_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="service"):
        store.delete_service("ghost")


def test_a_service_spec_that_is_not_json_is_refused(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="spec of service"):
        store.upsert_service("llm", {"when": object()})


# replicas


def test_a_replica_round_trips_with_every_field(store: SqlStore) -> None:
    replica = make_replica(
        state=ReplicaState.RUNNING,
        pid=4242,
        started_at=1700000000.5,
        create_time=1700000000.125,
        restarts=3,
        exit_code=-9,
        live=Health.HEALTHY,
        ready=Health.UNHEALTHY,
        log_path="/var/log/vigil/llm-0.log",
    )
    store.upsert_replica(replica)
    assert store.get_replica(replica.id) == replica


def test_replicas_are_listed_by_service_and_index_and_can_be_filtered(store: SqlStore) -> None:
    for service, index in (("llm", 1), ("api", 0), ("llm", 0)):
        store.upsert_replica(make_replica(service, index))
    assert [r.id for r in store.list_replicas()] == ["api/0", "llm/0", "llm/1"]
    assert [r.id for r in store.list_replicas("llm")] == ["llm/0", "llm/1"]
    assert store.list_replicas("none") == []


def test_upserting_a_replica_again_replaces_it(store: SqlStore) -> None:
    store.upsert_replica(make_replica())
    store.upsert_replica(make_replica(state=ReplicaState.FAILED, pid=None, restarts=5))
    got = store.get_replica(replica_id("llm", 0))
    assert (got.state, got.restarts) == (ReplicaState.FAILED, 5)


def test_a_deleted_replica_is_gone_and_deleting_it_again_raises(store: SqlStore) -> None:
    replica = make_replica()
    store.upsert_replica(replica)
    store.delete_replica(replica.id)
    with pytest.raises(NotFoundError, match="replica"):
        store.get_replica(replica.id)
    with pytest.raises(NotFoundError):
        store.delete_replica(replica.id)


# events


def test_events_get_increasing_ids_and_round_trip(store: SqlStore) -> None:
    first = store.append_event(1.0, "replica.started", "replica:llm/0", {"pid": 1})
    second = store.append_event(2.0, "replica.exited", "replica:llm/0", {"returncode": -9})
    assert second > first
    newest = store.list_events(limit=1).items[0]
    assert (newest.id, newest.at, newest.kind, newest.data) == (
        second,
        2.0,
        "replica.exited",
        {"returncode": -9},
    )


def test_event_data_with_enums_and_infinity_is_stored_as_plain_json(store: SqlStore) -> None:
    data = {"old": NodeStatus.UP, "new": NodeStatus.DOWN, "phi": math.inf, "seen": (1, 2)}
    store.append_event(1.0, "node.status", "node:gpu-01", data)
    stored = store.list_events().items[0].data
    assert stored == {"old": "up", "new": "down", "phi": "Infinity", "seen": [1, 2]}


def test_events_are_paged_newest_first_with_a_total(store: SqlStore) -> None:
    ids = [
        store.append_event(float(i), "probe.result", "replica:llm/0", {"i": i}) for i in range(7)
    ]
    page = store.list_events(offset=2, limit=3)
    assert page.total == 7
    assert (page.offset, page.limit) == (2, 3)
    assert [e.id for e in page.items] == ids[::-1][2:5]
    assert store.list_events(offset=7).items == []
    assert store.list_events(offset=7).total == 7


def test_events_can_be_filtered_by_subject_and_kind(store: SqlStore) -> None:
    store.append_event(1.0, "probe.result", "replica:llm/0", {})
    store.append_event(2.0, "probe.result", "replica:llm/1", {})
    store.append_event(3.0, "replica.exited", "replica:llm/0", {})
    by_subject = store.list_events(subject="replica:llm/0")
    assert [e.at for e in by_subject.items] == [3.0, 1.0]
    assert by_subject.total == 2
    assert store.list_events(kind="probe.result").total == 2
    both = store.list_events(subject="replica:llm/0", kind="probe.result")
    assert [e.at for e in both.items] == [1.0]


def test_a_negative_offset_or_limit_is_refused(store: SqlStore) -> None:
    with pytest.raises(InputError):
        store.list_events(offset=-1)
    with pytest.raises(InputError):
        store.list_audit(limit=-5)


def test_an_offset_beyond_a_64_bit_integer_is_refused_as_input(store: SqlStore) -> None:
    # the driver cannot bind it: an OverflowError (a 500 in the API) before the check
    with pytest.raises(InputError, match="64-bit"):
        store.list_incidents(offset=2**63)
    assert store.list_actions(offset=2**63 - 1).items == []


# incidents


def test_open_incident_returns_the_incident_with_its_id(store: SqlStore) -> None:
    incident = store.open_incident(make_finding(), opened_at=101.0)
    assert incident.id > 0
    assert incident.state is IncidentState.OPEN
    assert (incident.subject, incident.kind) == ("replica:llm/0", FindingKind.HUNG)
    assert (incident.detected_at, incident.opened_at, incident.updated_at) == (100.0, 101.0, 101.0)
    assert incident.severity is Severity.CRITICAL
    assert incident.evidence == {"latency": 12.5, "probes": [1, 2]}
    assert incident.findings == 1
    assert store.get_incident(incident.id) == incident


def test_an_updated_incident_round_trips(store: SqlStore) -> None:
    from dataclasses import replace

    incident = store.open_incident(make_finding(), opened_at=101.0)
    resolved = replace(
        incident,
        state=IncidentState.RESOLVED,
        updated_at=130.0,
        first_action_at=102.0,
        resolved_at=130.0,
        findings=4,
        evidence={"restarts": 1},
    )
    store.update_incident(resolved)
    got = store.get_incident(incident.id)
    assert got == resolved
    assert got.time_to_recover == 30.0


def test_updating_or_getting_an_unknown_incident_raises_not_found(store: SqlStore) -> None:
    from dataclasses import replace

    incident = store.open_incident(make_finding(), opened_at=101.0)
    with pytest.raises(NotFoundError, match="incident"):
        store.get_incident(IncidentId(incident.id + 100))
    with pytest.raises(NotFoundError, match="incident"):
        store.get_incident(IncidentId(2**63))  # no row can have it (it cannot even be bound)
    with pytest.raises(NotFoundError):
        store.update_incident(replace(incident, id=IncidentId(incident.id + 100)))
    beyond = IncidentId(2**40)  # past PostgreSQL's 32-bit INTEGER: not found, not out of range
    with pytest.raises(NotFoundError, match="incident"):
        store.get_incident(beyond)
    with pytest.raises(NotFoundError, match="incident"):
        store.update_incident(replace(incident, id=beyond))


def test_find_active_incident_returns_the_newest_open_or_remediating_one(store: SqlStore) -> None:
    from dataclasses import replace

    older = store.open_incident(make_finding(), opened_at=101.0)
    newer = store.open_incident(make_finding(kind=FindingKind.CRASH_LOOP), opened_at=102.0)
    store.update_incident(replace(newer, state=IncidentState.REMEDIATING))
    found = store.find_active_incident("replica:llm/0")
    assert found is not None
    assert (found.id, found.state) == (newer.id, IncidentState.REMEDIATING)
    by_kind = store.find_active_incident("replica:llm/0", FindingKind.HUNG)
    assert by_kind is not None
    assert by_kind.id == older.id
    assert store.find_active_incident("replica:llm/0", FindingKind.NODE_DOWN) is None
    assert store.find_active_incident("replica:other/0") is None


def test_find_active_incident_ignores_resolved_ones(store: SqlStore) -> None:
    from dataclasses import replace

    first = store.open_incident(make_finding(), opened_at=101.0)
    store.update_incident(replace(first, state=IncidentState.RESOLVED))
    assert store.find_active_incident("replica:llm/0") is None


def test_an_escalated_incident_stays_active_until_resolved(store: SqlStore) -> None:
    from dataclasses import replace

    first = store.open_incident(make_finding(), opened_at=101.0)
    store.update_incident(replace(first, state=IncidentState.ESCALATED))
    active = store.find_active_incident("replica:llm/0")
    assert active is not None and active.state == IncidentState.ESCALATED
    store.update_incident(replace(active, state=IncidentState.RESOLVED))
    assert store.find_active_incident("replica:llm/0") is None


def test_incidents_are_paged_newest_first_and_filtered_by_state_and_subject(
    store: SqlStore,
) -> None:
    from dataclasses import replace

    opened = [
        store.open_incident(make_finding(f"replica:llm/{i % 2}"), opened_at=float(i))
        for i in range(6)
    ]
    store.update_incident(replace(opened[0], state=IncidentState.RESOLVED))
    everything = store.list_incidents()
    assert [i.id for i in everything.items] == [i.id for i in reversed(opened)]
    assert everything.total == 6
    active = store.list_incidents(states=[IncidentState.OPEN, IncidentState.REMEDIATING])
    assert active.total == 5
    resolved = store.list_incidents(states=[IncidentState.RESOLVED])
    assert [i.id for i in resolved.items] == [opened[0].id]
    assert store.list_incidents(states=[]).total == 0
    page = store.list_incidents(subject="replica:llm/1", offset=1, limit=1)
    assert page.total == 3
    assert [i.id for i in page.items] == [opened[3].id]


# actions


def test_an_action_is_started_then_finished(store: SqlStore) -> None:
    incident = store.open_incident(make_finding(), opened_at=101.0)
    started = store.start_action(
        kind="restart",
        subject="replica:llm/0",
        actor="vigil",
        reason="hung",
        at=102.0,
        incident_id=incident.id,
    )
    assert started.id > 0
    assert (started.ok, started.finished_at, started.incident_id) == (None, None, incident.id)
    finished = store.finish_action(started.id, ok=True, detail="pid 43", at=103.5)
    assert (finished.ok, finished.detail, finished.finished_at) == (True, "pid 43", 103.5)
    assert finished.started_at == 102.0
    assert store.list_actions().items == [finished]


def test_a_failed_action_keeps_ok_false(store: SqlStore) -> None:
    action = store.start_action(kind="stop", subject="s", actor="alice", reason="r", at=1.0)
    store.finish_action(action.id, ok=False, detail="timeout", at=2.0)
    assert store.list_actions().items[0].ok is False


def test_finishing_an_unknown_action_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="action"):
        store.finish_action(999, ok=True, detail="", at=1.0)
    with pytest.raises(NotFoundError, match="action"):
        store.finish_action(2**40, ok=True, detail="", at=1.0)  # past a 32-bit id column


def test_an_action_for_an_unknown_incident_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="incident"):
        store.start_action(
            kind="restart",
            subject="s",
            actor="vigil",
            reason="r",
            at=1.0,
            incident_id=IncidentId(999),
        )
    with pytest.raises(NotFoundError, match="incident"):
        store.start_action(
            kind="restart", subject="s", actor="vigil", reason="r", at=1.0,
            incident_id=IncidentId(2**40),
        )  # fmt: skip
    assert store.list_actions().total == 0


def test_actions_are_paged_newest_first_and_filtered(store: SqlStore) -> None:
    incident = store.open_incident(make_finding(), opened_at=1.0)
    made = [
        store.start_action(
            kind="restart",
            subject=f"replica:llm/{i % 2}",
            actor="vigil",
            reason="r",
            at=float(i),
            incident_id=incident.id if i < 2 else None,
        )
        for i in range(5)
    ]
    assert [a.id for a in store.list_actions(limit=2).items] == [made[4].id, made[3].id]
    assert store.list_actions(limit=2).total == 5
    assert store.list_actions(subject="replica:llm/1").total == 2
    by_incident = store.list_actions(incident_id=incident.id)
    assert [a.id for a in by_incident.items] == [made[1].id, made[0].id]
    assert store.list_actions(incident_id=IncidentId(2**40)).items == []


# audit


def append(store: SqlStore, n: int, actor: str = "alice") -> None:
    for i in range(n):
        store.append_audit(
            at=1000.0 + i,
            actor=actor,
            action="restart",
            target=f"replica:llm/{i}",
            reason="operator asked",
            result="ok",
            detail={"i": i, "nested": {"b": 2, "a": 1}},
        )


def test_audit_entries_are_chained_by_hash(store: SqlStore) -> None:
    append(store, 3)
    entries = list(reversed(store.list_audit().items))
    assert entries[0].prev_hash == "0" * 64
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert len({e.hash for e in entries}) == 3
    assert store.verify_audit() is None


def test_append_audit_returns_the_stored_entry(store: SqlStore) -> None:
    entry = store.append_audit(
        at=5, actor="bob", action="stop", target="llm", reason="why", result="ok"
    )
    assert entry.at == 5.0
    assert entry.detail == {}
    assert store.list_audit().items == [entry]


def test_an_empty_audit_trail_verifies(store: SqlStore) -> None:
    assert store.verify_audit() is None


def test_audit_is_paged_newest_first(store: SqlStore) -> None:
    append(store, 5)
    page = store.list_audit(offset=1, limit=2)
    assert page.total == 5
    assert [e.target for e in page.items] == ["replica:llm/3", "replica:llm/2"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "nobody asked"),
        ("actor", "mallory"),
        ("at", 999.0),
        ("detail", '{"i": 2, "nested": {"a": 1, "b": 3}}'),
        ("hash", "f" * 64),
    ],
)
def test_tampering_with_an_audit_row_is_detected_at_that_row(
    store: SqlStore, raw_sql: RawSql, column: str, value: object
) -> None:
    append(store, 5)
    target = sorted(e.id for e in store.list_audit().items)[2]
    raw_sql(f"UPDATE audit SET {column} = :value WHERE id = :id", value=value, id=target)
    assert store.verify_audit() == target


def test_deleting_an_audit_row_is_detected_at_the_next_one(
    store: SqlStore, raw_sql: RawSql
) -> None:
    append(store, 4)
    ids = sorted(e.id for e in store.list_audit().items)
    raw_sql("DELETE FROM audit WHERE id = :id", id=ids[1])
    assert store.verify_audit() == ids[2]


def test_an_audit_row_edited_into_garbage_is_reported_as_broken(
    store: SqlStore, raw_sql: RawSql
) -> None:
    append(store, 2)
    first = min(e.id for e in store.list_audit().items)
    raw_sql("UPDATE audit SET detail = :v WHERE id = :id", v='"a string"', id=first)
    assert store.verify_audit() == first


def test_audit_detail_that_is_not_json_is_refused(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="audit detail"):
        store.append_audit(
            at=1,
            actor="a",
            action="x",
            target="t",
            reason="r",
            result="ok",
            detail={"f": print},
        )
    assert store.list_audit().total == 0


# meta


def test_meta_values_are_set_read_and_overwritten(store: SqlStore) -> None:
    assert store.get_meta("instance") is None
    store.set_meta("instance", "abc")
    store.set_meta("instance", "def")
    assert store.get_meta("instance") == "def"


def test_a_meta_row_is_deleted_once(store: SqlStore) -> None:
    store.set_meta("logs.batch:n1/a1", "3 b")
    assert store.delete_meta("logs.batch:n1/a1")
    assert store.get_meta("logs.batch:n1/a1") is None
    assert not store.delete_meta("logs.batch:n1/a1")


# values this version cannot read


@pytest.mark.parametrize(
    ("column", "value"),
    [("state", "hibernating"), ("live", "sort-of"), ("restarts", "many")],
)
def test_a_replica_row_this_version_cannot_read_raises_store_error(
    store: SqlStore, raw_sql: RawSql, column: str, value: str
) -> None:
    store.upsert_replica(make_replica())
    if column == "restarts" and typed(store):  # PostgreSQL refuses text in an integer column
        with pytest.raises(sa.exc.DataError, match="invalid input syntax for type integer"):
            raw_sql(f"UPDATE replicas SET {column} = :v", v=value)
        return
    raw_sql(f"UPDATE replicas SET {column} = :v", v=value)
    with pytest.raises(StoreError, match=column) as caught:
        store.get_replica(replica_id("llm", 0))
    assert not isinstance(caught.value, NotFoundError)
    with pytest.raises(StoreError):
        store.list_replicas()


def test_an_incident_with_an_unknown_kind_raises_store_error(
    store: SqlStore, raw_sql: RawSql
) -> None:
    incident = store.open_incident(make_finding(), opened_at=1.0)
    raw_sql("UPDATE incidents SET kind = 'gremlins'")
    with pytest.raises(StoreError, match="gremlins"):
        store.get_incident(incident.id)
    with pytest.raises(StoreError, match="gremlins"):
        store.find_active_incident(incident.subject)


def test_a_json_column_holding_invalid_json_raises_store_error(
    store: SqlStore, raw_sql: RawSql
) -> None:
    store.upsert_node(Node(name="gpu-01"))
    if typed(store):  # PostgreSQL's jsonb refuses text that is not JSON
        with pytest.raises(sa.exc.DataError, match="invalid input syntax for type json"):
            raw_sql("UPDATE nodes SET labels = '{not json'")
        return
    raw_sql("UPDATE nodes SET labels = '{not json'")
    with pytest.raises(StoreError):
        store.get_node("gpu-01")


def test_a_node_with_an_unknown_status_raises_store_error(store: SqlStore, raw_sql: RawSql) -> None:
    store.upsert_node(Node(name="gpu-01"))
    raw_sql("UPDATE nodes SET status = 'levitating'")
    with pytest.raises(StoreError, match="levitating"):
        store.list_nodes()
