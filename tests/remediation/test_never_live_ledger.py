"""NeverLiveLedger: a replica's never-live count in the store (SQLite file), read back by a
new store on the same file as a restarted controller would; a value it cannot read is 0."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vigil.remediation import HealingGate, NeverLive, NeverLiveLedger
from vigil.settings import RemediationSettings, Service
from vigil.store import SqlStore


def test_a_count_written_is_read_back_after_the_store_is_opened_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    store = SqlStore(url)
    NeverLiveLedger(store).put("llm/0", NeverLive(2, escalated=True))
    store.close()
    again = SqlStore(url)
    assert NeverLiveLedger(again).get("llm/0") == NeverLive(2, escalated=True)
    assert NeverLiveLedger(again).get("llm/1") == NeverLive()
    again.close()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"restarts": "x", "escalated": 1}',
        "[]",
        "{}",
        '{"restarts": 1e999, "escalated": false}',  # json reads inf: int() overflows
        '{"restarts": Infinity, "escalated": false}',
        '{"restarts": 1, "escalated": "false"}',  # bool("false") is True: held escalated
        '{"restarts": 2.5, "escalated": false}',
        '{"restarts": true, "escalated": false}',
    ],
)
def test_an_unreadable_count_is_zero_and_logged(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    store.set_meta("never_live:llm/0", text)
    with caplog.at_level(logging.ERROR):
        assert NeverLiveLedger(store).get("llm/0") == NeverLive()
    assert "llm/0: never-live count" in caplog.text
    store.close()


def test_the_gate_writes_only_changes_and_reads_the_store_once(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    store.set_meta("never_live:web/0", '{"restarts": 1, "escalated": false}')
    svc = Service(name="web", command="serve {port}", replicas=1)
    gate = HealingGate(
        RemediationSettings(), [svc], clock=lambda: 0.0, ledger=NeverLiveLedger(store)
    )
    assert gate.never_live("web/0") == NeverLive(1)
    gate.set_never_live("web/0", NeverLive(2))
    assert store.get_meta("never_live:web/0") == '{"restarts": 2, "escalated": false}'
    store.set_meta("never_live:web/0", "changed behind its back")
    gate.set_never_live("web/0", NeverLive(2))  # no change: not written
    assert store.get_meta("never_live:web/0") == "changed behind its back"
    store.close()
