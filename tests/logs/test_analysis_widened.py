"""A template the miner widened is no news: on the real pipeline (pushed lines mined on the
controller, a SQLite store for the incident book), a line whose keyed values widen a known
template gives no "new log template" finding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.bus import EventBus
from vigil.daemon import LogPipeline
from vigil.remediation import IncidentBook
from vigil.settings import LogsSettings
from vigil.store import SqlStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    sql = SqlStore(f"sqlite:///{tmp_path}/v.db")
    yield sql
    sql.close()


async def test_keyed_values_widened_by_the_miner_are_no_new_template(
    tmp_path: Path, store: SqlStore
) -> None:
    clock, bus = Clock(), EventBus()
    logs = LogPipeline(
        LogsSettings.model_validate({"analysis": {"warmup_lines": 5, "warmup_seconds": 0}}),
        state_path=tmp_path / "log-analysis.json",
        bus=bus,
        incidents=IncidentBook(store, bus, clock),
        clock=clock,
    )
    await logs.ingest_lines("n1", "app", [f"worker {i} heartbeat ok" for i in range(20)])
    clock.now += 1
    await logs.ingest_lines("n1", "app", ["request handled method=GET route=users status=ok"])
    clock.now += 1
    await logs.ingest_lines("n1", "app", ["request handled method=POST route=orders status=ok"])
    texts = [e.template for e in logs.registry.entries()]
    assert texts[-1] == "request handled method=<*> route=<*> status=ok"  # the miner widened it
    novel = [f["template"] for f in logs.found if f["kind"] == "log_novelty"]
    assert novel == ["request handled method=GET route=users status=ok"]
