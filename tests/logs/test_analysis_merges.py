"""Template merges reach the analyses: on the real pipeline (pushed lines mined on the
controller, a SQLite store for the incident book), two known templates that the miner merges
after the warm-up become one template whose counts, burst baseline, association and Bayes
counts are the sum of theirs, and ``GET /api/v1/logs/templates`` lists it alone.

Issue 4: the daemon mined with ``cluster_of`` and heard of no merge: the survivor's text was a
new template with a fresh baseline (a burst right after the merge went unseen), while the two
dead texts stayed listed as live templates with stale counts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from _log_pipeline import Clock, pipeline
from vigil.api._logs import BatchIn
from vigil.collectors import EdgeSourceSpec, LogEdge, _logedge
from vigil.daemon import LogPipeline
from vigil.store import SqlStore

A = "resolver answered type A for zone corp"
MX = "resolver answered type MX for zone corp"
AAAA = "resolver answered type AAAA for zone corp"
MERGED = "resolver answered type <*> for zone corp"
PAGE: dict[str, Any] = {"sort": "id", "descending": False, "offset": 0, "limit": 50}


async def _warm(logs: LogPipeline, clock: Clock, buckets: int = 12) -> None:
    """Ten lines of A and ten of MX in each 10 s bucket: two known templates, two baselines."""
    for _ in range(buckets):
        await logs.ingest_lines("n1", "dns", [A] * 10 + [MX] * 10)
        clock.now += 10


def _make(tmp_path: Path, store: SqlStore, clock: Clock) -> LogPipeline:
    settings = {"analysis": {"warmup_lines": 30, "warmup_seconds": 0, "window": 60}}
    return pipeline(tmp_path, store, clock, settings)


async def _warmed(tmp_path: Path, store: SqlStore, buckets: int = 12) -> tuple[LogPipeline, Clock]:
    """A pipeline on a new clock, past its warm-up with A and MX (see :func:`_warm`)."""
    clock = Clock()
    logs = _make(tmp_path, store, clock)
    await _warm(logs, clock, buckets)
    return logs, clock


async def test_a_merge_lists_one_template_with_every_line_counted(
    tmp_path: Path, store: SqlStore
) -> None:
    logs, _ = await _warmed(tmp_path, store)
    await logs.ingest_lines("n1", "dns", [AAAA])  # a third word there: the miner merges A, MX
    rows = logs.templates(**PAGE).items
    assert [(r["template"], r["count"]) for r in rows] == [(MERGED, 12 * 20 + 1)]
    assert [f for f in logs.found if f["kind"] == "log_novelty"] == []


async def test_the_merged_template_keeps_the_baselines_of_both(
    tmp_path: Path, store: SqlStore
) -> None:
    logs, clock = await _warmed(tmp_path, store)
    before = [logs.bursts.baseline(e.id) for e in logs.registry.entries()]
    assert len(before) == 2 and all(b is not None and 9 < b <= 10 for b in before)
    await logs.ingest_lines("n1", "dns", [AAAA])
    merged = logs.registry.id_of(MERGED)
    assert merged is not None
    baseline = logs.bursts.baseline(merged)
    assert baseline is not None and 18 < baseline <= 20  # the rate of both, not a fresh start
    clock.now += 10
    await logs.ingest_lines("n1", "dns", [A] * 150)  # a burst, the bucket after the merge
    bursts = [f for f in logs.found if f["kind"] == "log_burst"]
    assert [f["template_id"] for f in bursts] == [merged]


async def test_association_and_bayes_counts_follow_the_merge(
    tmp_path: Path, store: SqlStore
) -> None:
    logs, clock = await _warmed(tmp_path, store)
    await logs.ingest_lines("n1", "dns", [AAAA])
    merged = logs.registry.id_of(MERGED)
    assert merged is not None
    assert len(logs.association) == 1
    assert logs.association._stats[merged].lines == 12 * 20 + 1
    clock.now += 600  # every slot closed: the Bayes counts are per slot holding the template
    logs.bayes.prior(clock.now)
    assert len(logs.bayes) == 1
    assert logs.bayes.top(5, clock.now)[0].slots == 11  # 12 s slots over 120 s: each holds both


async def test_an_agents_merge_reaches_the_controller(tmp_path: Path, store: SqlStore) -> None:
    # the agent mines at the edge and sends texts: its miner merged A and MX after they had
    # been sent, and the controller listed them as live templates for ever, with the merged
    # text a new template (fresh baseline, counts split); now the batch says which text became
    # which (``remaps``), as the API takes it
    clock = Clock()
    logs = _make(tmp_path, store, clock)
    path = tmp_path / "dns.log"
    edge = LogEdge([EdgeSourceSpec(str(path), "dns")], tmp_path / "edge.json", clock=clock)

    def ship(lines: list[str]) -> dict[str, Any]:
        with path.open("a") as f:
            f.writelines(line + "\n" for line in lines)
        edge.poll()
        batch = edge.batch()
        assert batch is not None
        wire = BatchIn.model_validate({"node": "n1", "sent_at": clock.now, **batch})
        logs.ingest_batch("n1", wire.model_dump())
        edge.acked()
        return batch

    for _ in range(12):
        assert "remaps" not in ship([A] * 10 + [MX] * 10)
        clock.now += 10
    sent = ship([AAAA])
    assert sent["remaps"] == [{"old": A, "new": MERGED}, {"old": MX, "new": MERGED}]
    rows = logs.templates(**PAGE).items
    assert [(r["template"], r["count"]) for r in rows] == [(MERGED, 12 * 20 + 1)]
    merged = logs.registry.id_of(MERGED)
    assert merged is not None
    baseline = logs.bursts.baseline(merged)
    assert baseline is not None and 18 < baseline <= 20
    assert [f for f in logs.found if f["kind"] == "log_novelty"] == []
    edge.close()


async def test_the_texts_sent_survive_an_agent_restart(tmp_path: Path, store: SqlStore) -> None:
    clock = Clock()
    path = tmp_path / "dns.log"
    path.write_text(f"{A}\n{MX}\n")
    state = tmp_path / "edge.json"
    edge = LogEdge([EdgeSourceSpec(str(path), "dns")], state, clock=clock)
    edge.poll()
    assert edge.batch() is not None
    edge.acked()
    edge.close()
    with path.open("a") as f:
        f.write(f"{AAAA}\n")
    again = LogEdge([EdgeSourceSpec(str(path), "dns")], state, clock=clock)
    again.poll()
    batch = again.batch()
    assert batch is not None
    assert batch["remaps"] == [{"old": A, "new": MERGED}, {"old": MX, "new": MERGED}]
    again.close()


async def test_a_finding_of_a_merged_away_template_names_the_survivor(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = _make(tmp_path, store, clock)
    for _ in range(6):
        await logs.ingest_lines("n1", "dns", [A] * 10)
        clock.now += 10
    await logs.ingest_lines("n1", "dns", [MX])  # new after the warm-up: a finding
    novel = logs.findings(kind="log_novelty", since=None, offset=0, limit=10).items
    assert [f["template"] for f in novel] == [MX]
    clock.now += 10
    await logs.ingest_lines("n1", "dns", [AAAA])  # MX merged into A's template
    live = {r["id"]: r["template"] for r in logs.templates(**PAGE).items}
    assert list(live.values()) == [MERGED]
    novel = logs.findings(kind="log_novelty", since=None, offset=0, limit=10).items
    assert [(live.get(f["template_id"]), f["template"]) for f in novel] == [(MERGED, MX)]


async def test_a_merge_after_a_controller_restart_is_followed(
    tmp_path: Path, store: SqlStore
) -> None:
    logs, clock = await _warmed(tmp_path, store)
    logs.save_now()
    again = _make(tmp_path, store, clock)  # the texts counted per cluster come from its miner
    await again.ingest_lines("n1", "dns", [AAAA])
    rows = again.templates(**PAGE).items
    assert [(r["template"], r["count"]) for r in rows] == [(MERGED, 12 * 20 + 1)]
    again.save_now()
    third = _make(tmp_path, store, clock)  # the old texts stay aliases of the survivor
    third.ingest_batch(
        "n2",
        {
            "agent_id": "a2",
            "seq": 1,
            "sent_at": clock.now,
            "templates": [
                {"source": "dns", "template": MX, "count": 5, "first_at": clock.now}
                | {"last_at": clock.now}
            ],
        },
    )
    rows = third.templates(**PAGE).items
    assert [(r["template"], r["count"]) for r in rows] == [(MERGED, 12 * 20 + 6)]


async def test_a_remap_that_is_no_widening_is_refused_and_named(
    tmp_path: Path, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    logs, clock = await _warmed(tmp_path, store, buckets=2)
    batch: dict[str, Any] = {
        "agent_id": "a1",
        "seq": 1,
        "sent_at": clock.now,
        "templates": [],
        "remaps": [{"old": A, "new": MX}, {"old": MX, "new": "<*> corp"}],
    }
    with caplog.at_level(logging.WARNING, logger="vigil.daemon.logs"):
        logs.ingest_batch("n2", batch)
    rows = logs.templates(**PAGE).items
    assert sorted((r["template"], r["count"]) for r in rows) == [("<*> corp", 20), (A, 20)]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("node n2: 1 template remap(s) refused")


def test_remaps_past_the_apis_cap_wait_for_the_next_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_logedge, "MAX_REMAPS", 1)
    path = tmp_path / "dns.log"
    path.write_text(f"{A}\n{MX}\n")
    edge = LogEdge([EdgeSourceSpec(str(path), "dns")], tmp_path / "edge.json")
    edge.poll()
    assert edge.batch() is not None
    edge.acked()
    with path.open("a") as f:
        f.write(f"{AAAA}\n")
    edge.poll()
    first = edge.batch()
    assert first is not None and first["remaps"] == [{"old": A, "new": MERGED}]
    edge.acked()
    second = edge.batch()
    assert second is not None and second["remaps"] == [{"old": MX, "new": MERGED}]
    edge.acked()
    assert edge.batch() is None
    edge.close()
