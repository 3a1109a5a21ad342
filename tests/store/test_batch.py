"""Store.batch: one transaction for every read and write of the thread, on every backend."""

from __future__ import annotations

import threading

import pytest

from vigil.errors import StoreBusy
from vigil.store import SqlStore

from .test_contract import make_finding


def test_a_batch_reads_its_own_writes_and_commits_them_together(store: SqlStore) -> None:
    with store.batch("test"):
        opened = store.open_incident(make_finding("replica:a/0"), opened_at=1.0)
        assert store.find_active_incident("replica:a/0") == opened
        store.append_audit(at=1.0, actor="t", action="a", target="x", reason="", result="")
        store.append_audit(at=2.0, actor="t", action="b", target="x", reason="", result="")
        with store.batch("nested joins the outer"):
            store.set_meta("k", "v")
    assert store.get_incident(opened.id) == opened
    assert [e.action for e in store.list_audit().items] == ["b", "a"]
    assert store.verify_audit() is None
    assert store.get_meta("k") == "v"


def test_a_failed_batch_is_rolled_back_whole(store: SqlStore) -> None:
    kept = store.open_incident(make_finding("replica:k/0"), opened_at=1.0)
    with pytest.raises(StoreBusy), store.batch("test"):
        store.open_incident(make_finding("replica:a/0"), opened_at=2.0)
        store.append_audit(at=1.0, actor="t", action="a", target="x", reason="", result="")
        store.set_meta("k", "v")
        raise StoreBusy("database is locked")
    assert [i.id for i in store.list_incidents().items] == [kept.id]
    assert store.list_audit().items == []
    assert store.get_meta("k") is None
    # the store works as before after it
    assert store.open_incident(make_finding("replica:a/0"), opened_at=3.0).id > kept.id


def test_another_thread_does_not_join_a_batch(durable_url: str) -> None:
    store = SqlStore(durable_url)
    try:
        seen: list[object] = []
        with store.batch("test"):
            store.set_meta("k", "inside")
            reader = threading.Thread(target=lambda: seen.append(store.get_meta("k")))
            reader.start()
            reader.join()
        assert seen == [None]  # not committed yet when the other thread read
        assert store.get_meta("k") == "inside"
    finally:
        store.close()
