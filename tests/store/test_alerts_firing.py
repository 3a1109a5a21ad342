"""The Alertmanager alerts firing (``alerts_firing``), on every store in ``conftest.STORES``:
noted, repeated, counted per subject, dropped, capped, rolled back with their batch and kept
across a reopening of the store (a controller's restart, a standby's takeover)."""

from __future__ import annotations

import pytest

from vigil.store import FiringAlert, SqlStore


def test_a_firing_alert_is_noted_read_counted_and_dropped(store: SqlStore) -> None:
    assert store.get_firing_alert("f1") is None
    store.note_firing_alert(FiringAlert("f1", "node:a", 100.0), seen_at=101.0)
    store.note_firing_alert(FiringAlert("f2", "node:a", 100.0), seen_at=101.0)
    store.note_firing_alert(FiringAlert("f3", "node:b", 100.0), seen_at=101.0)
    assert store.get_firing_alert("f1") == FiringAlert("f1", "node:a", 100.0)
    assert (store.count_firing_alerts("node:a"), store.count_firing_alerts("node:c")) == (2, 0)
    # fired again (a new start, or another subject once the fleet changed): one row, updated
    store.note_firing_alert(FiringAlert("f1", "node:b", 200.0), seen_at=201.0)
    assert store.get_firing_alert("f1") == FiringAlert("f1", "node:b", 200.0)
    assert (store.count_firing_alerts("node:a"), store.count_firing_alerts("node:b")) == (1, 2)
    assert store.drop_firing_alert("f1") is True
    assert store.drop_firing_alert("f1") is False
    assert store.get_firing_alert("f1") is None
    assert store.count_firing_alerts("node:b") == 1


def test_past_the_cap_the_least_recently_seen_are_dropped(store: SqlStore) -> None:
    for i in range(5):
        store.note_firing_alert(FiringAlert(f"f{i}", "node:a", 0.0), seen_at=float(i))
    store.note_firing_alert(FiringAlert("f0", "node:a", 0.0), seen_at=10.0)  # seen again
    assert store.prune_firing_alerts(keep=3) == 2
    kept = {f"f{i}" for i in range(5) if store.get_firing_alert(f"f{i}") is not None}
    assert kept == {"f0", "f3", "f4"}
    assert store.prune_firing_alerts(keep=3) == 0


def test_a_rolled_back_batch_notes_nothing(store: SqlStore) -> None:
    store.note_firing_alert(FiringAlert("kept", "node:a", 0.0), seen_at=0.0)
    with pytest.raises(RuntimeError), store.batch("test"):
        store.note_firing_alert(FiringAlert("new", "node:a", 0.0), seen_at=1.0)
        assert store.drop_firing_alert("kept")
        assert store.count_firing_alerts("node:a") == 1  # the batch reads its own writes
        raise RuntimeError("the chunk failed")
    assert store.get_firing_alert("new") is None
    assert store.get_firing_alert("kept") is not None


def test_firing_alerts_outlive_the_store(durable_url: str) -> None:
    first = SqlStore(durable_url)
    first.note_firing_alert(FiringAlert("f1", "service:web", 5.0), seen_at=6.0)
    first.close()
    again = SqlStore(durable_url)
    try:
        assert again.get_firing_alert("f1") == FiringAlert("f1", "service:web", 5.0)
    finally:
        again.close()
