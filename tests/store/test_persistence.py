"""What outlives one SqlStore: restarts, several stores on one database (SQLite file and
PostgreSQL), and SQLite's own setup."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from vigil.errors import StoreError
from vigil.model import Finding, FindingKind, Node, Replica, ReplicaState, replica_id
from vigil.store import SqlStore, _engine, open_store


def test_reopening_the_same_database_keeps_everything(durable_url: str) -> None:
    store = SqlStore(durable_url)
    store.upsert_node(Node(name="gpu-01", labels={"zone": "a"}))
    store.upsert_service("llm", {"replicas": 1})
    replica = Replica(
        id=replica_id("llm", 0),
        service="llm",
        index=0,
        node="gpu-01",
        port=8000,
        state=ReplicaState.RUNNING,
        pid=1234,
        create_time=1700000000.5,
    )
    store.upsert_replica(replica)
    event_id = store.append_event(1.0, "replica.started", "replica:llm/0", {"pid": 1234})
    finding = Finding(kind=FindingKind.HUNG, subject="replica:llm/0", at=2.0, summary="hung")
    incident = store.open_incident(finding, opened_at=3.0)
    action = store.start_action(
        kind="restart",
        subject="replica:llm/0",
        actor="vigil",
        reason="hung",
        at=4.0,
        incident_id=incident.id,
    )
    entry = store.append_audit(
        at=5.0, actor="vigil", action="restart", target="llm/0", reason="hung", result="ok"
    )
    store.set_meta("instance", "ctl-1")
    store.close()

    reopened = SqlStore(durable_url)
    try:
        assert reopened.get_node("gpu-01").labels == {"zone": "a"}
        assert reopened.list_services() == {"llm": {"replicas": 1}}
        assert reopened.get_replica(replica.id) == replica
        assert [e.id for e in reopened.list_events().items] == [event_id]
        assert reopened.find_active_incident("replica:llm/0") == incident
        assert reopened.list_actions().items == [action]
        assert reopened.list_audit().items == [entry]
        assert reopened.get_meta("instance") == "ctl-1"
        nxt = reopened.append_audit(
            at=6.0, actor="vigil", action="resolve", target="llm/0", reason="ok", result="ok"
        )
        assert nxt.prev_hash == entry.hash
        assert reopened.verify_audit() is None
        assert reopened.append_event(7.0, "x", "y", {}) > event_id
    finally:
        reopened.close()


def test_two_stores_on_one_database_append_audit_without_forking_the_chain(
    durable_url: str,
) -> None:
    stores = [SqlStore(durable_url), SqlStore(durable_url)]
    per_thread = 40
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(store: SqlStore, name: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                store.append_audit(
                    at=float(i), actor=name, action="restart", target="t", reason="r", result="ok"
                )
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(stores[i % 2], f"writer-{i}")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        page = stores[0].list_audit(limit=1000)
        assert page.total == 4 * per_thread
        entries = list(reversed(page.items))
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert stores[1].verify_audit() is None
    finally:
        for store in stores:
            store.close()


async def test_the_store_can_be_used_from_the_loop_and_from_worker_threads(
    durable_url: str,
) -> None:
    store = SqlStore(durable_url)
    try:
        store.append_event(0.0, "loop", "s", {})
        ids = await asyncio.gather(
            *(
                asyncio.to_thread(store.append_event, float(i), "k", "s", {"i": i})
                for i in range(20)
            )
        )
        assert len(set(ids)) == 20
        page = await asyncio.to_thread(store.list_events, limit=5)
        assert page.total == 21
    finally:
        store.close()


def test_a_file_database_uses_wal_and_its_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "vigil.db"
    store = open_store(f"sqlite:///{path}")
    store.close()
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_in_memory_store_keeps_its_data_for_its_lifetime() -> None:
    store = SqlStore("sqlite://")
    try:
        store.set_meta("k", "v")
        assert store.get_meta("k") == "v"
    finally:
        store.close()


@pytest.mark.parametrize("url", ["mysql://db/vigil", "not a url", "redis://localhost"])
def test_an_unsupported_url_is_refused_with_the_supported_forms(url: str) -> None:
    with pytest.raises(StoreError, match=r"unsupported database URL.*sqlite:///path"):
        SqlStore(url)


def test_a_database_path_that_cannot_be_created_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        SqlStore(f"sqlite:///{blocker / 'sub' / 'vigil.db'}")


def test_a_locked_database_raises_store_error_saying_so(
    file_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqlStore(file_url).close()
    monkeypatch.setattr(_engine, "_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(
        _engine, "_PRAGMAS", tuple(p.replace("5000", "50") for p in _engine._PRAGMAS)
    )
    store = SqlStore(file_url)
    holder = sqlite3.connect(tmp_path / "vigil.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="database is locked") as caught:
            store.set_meta("k", "v")
        assert "vigil.db" in str(caught.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.close()


def test_a_password_in_the_url_is_never_shown_in_errors() -> None:
    with pytest.raises(StoreError) as caught:
        SqlStore("mysql://vigil:hunter2@db/vigil")
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_file_that_is_not_a_database_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "vigil.db"
    path.write_bytes(b"this is not a sqlite database, just some text" * 100)
    with pytest.raises(StoreError, match="not a database"):
        SqlStore(f"sqlite:///{path}")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql:/vigil:s3cret@db/vigil", "postgresql:/vigil:***@db/vigil"),
        ("postgresql//vigil:s3cret@db/vigil", "postgresql//vigil:***@db/vigil"),
        ("postgres ql://vigil:s3cret@db/vigil", "postgres ql://vigil:***@db/vigil"),
        ("vigil:s3cret@db/vigil", "vigil:***@db/vigil"),
        # a password opening with '/': its colon was taken for a scheme's, the URL shown whole
        ("postgresql:/vigil:/s3cret@db/vigil", "postgresql:/vigil:***@db/vigil"),
        ("postgresql://vigil:/s3cret@db:54x32/vigil", "postgresql://vigil:***@db:54x32/vigil"),
    ],
    ids=["one-slash", "no-colon", "space", "no-scheme", "slash-password", "slash-password-port"],
)
def test_a_mistyped_url_is_refused_without_showing_its_password(url: str, shown: str) -> None:
    # 'vigil up: unsupported database URL 'postgresql:/vigil:s3cret@db/vigil'' went to the
    # terminal and the service's log: a URL the parser could not read was quoted whole
    with pytest.raises(StoreError) as caught:
        SqlStore(url)
    assert "s3cret" not in str(caught.value)
    assert f"unsupported database URL {shown!r}" in str(caught.value)


def test_a_url_whose_port_is_no_number_is_refused_naming_it() -> None:
    # make_url raised a bare ValueError ("invalid literal for int() with base 10: '54x32'"),
    # which no caller expects: 'vigil up' ended with a 95-line traceback
    with pytest.raises(StoreError) as caught:
        SqlStore("postgresql://vigil:s3cret@db:54x32/vigil")
    assert str(caught.value).startswith(
        "unsupported database URL 'postgresql://vigil:***@db:54x32/vigil' (the port is no "
        "number), use sqlite:///path or postgresql://user:password@host/db"
    ), caught.value
