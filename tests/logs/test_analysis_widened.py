"""A template the miner widened is no news: on the real pipeline (pushed lines mined on the
controller, a SQLite store for the incident book), a line whose keyed values widen a known
template gives no "new log template" finding."""

from __future__ import annotations

from pathlib import Path

from _log_pipeline import Clock, pipeline
from vigil.store import SqlStore


async def test_keyed_values_widened_by_the_miner_are_no_new_template(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = pipeline(tmp_path, store, clock, {"analysis": {"warmup_lines": 5, "warmup_seconds": 0}})
    await logs.ingest_lines("n1", "app", [f"worker {i} heartbeat ok" for i in range(20)])
    clock.now += 1
    await logs.ingest_lines("n1", "app", ["request handled method=GET route=users status=ok"])
    clock.now += 1
    await logs.ingest_lines("n1", "app", ["request handled method=POST route=orders status=ok"])
    texts = [e.template for e in logs.registry.entries()]
    assert texts[-1] == "request handled method=<*> route=<*> status=ok"  # the miner widened it
    novel = [f["template"] for f in logs.found if f["kind"] == "log_novelty"]
    assert novel == ["request handled method=GET route=users status=ok"]


async def test_a_widening_is_known_past_the_families_default_size(
    tmp_path: Path, store: SqlStore
) -> None:
    # the families held 10,000 templates, dropping the oldest created, while the registry holds
    # 50,000, dropping the least recently seen: past 10,000 templates a template still in use
    # had lost its family, and the miner's widening of it was reported as a new template
    clock = Clock()
    logs = pipeline(tmp_path, store, clock, {"analysis": {"warmup_lines": 5, "warmup_seconds": 0}})
    known = "request handled method=GET route=users status=ok"
    logs._observe("n1/app", known, clock.now)
    for i in range(10_050):  # one distinct event each: its own constant words
        logs._observe("n1/app", f"job{i} phase{i} finished", clock.now)
    clock.now += 1
    logs._observe("n1/app", known, clock.now)  # still in use
    assert len(logs.registry) == 10_051
    logs._observe("n1/app", "request handled method=<*> route=<*> status=ok", clock.now)
    novel = [f["template"] for f in logs.found if f["kind"] == "log_novelty"]
    assert "request handled method=<*> route=<*> status=ok" not in novel
