"""The burst detector's per-node counts across a controller restart: the log pipeline (real
SQLite store, its state file) saved in the middle of a bucket and started again must blame the
same nodes for a burst as the run that went on.

On main the per-source counts of the open bucket and of the bucket before were not saved (only
each template's baseline and marks were): after a restart the bucket before was empty, so a node
logging at its usual rate "rose" and one node's burst was reported fleet-wide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _log_pipeline import Clock, pipeline
from vigil.daemon import LogPipeline
from vigil.logs.analysis import BurstDetector
from vigil.store import SqlStore

SETTINGS = {"analysis": {"warmup_lines": 5, "warmup_seconds": 0}}
NODES = ["n0", "n1", "n2", "n3"]
USUAL = 6  # lines a node logs per 10 s bucket


async def _steady(logs: LogPipeline, clock: Clock) -> None:
    """Twenty buckets of every node at its usual rate."""
    for _ in range(20):
        for node in NODES:
            await logs.ingest_lines(node, "app", ["upstream connection refused"] * USUAL)
        clock.now += 10.0


def _bursts(logs: LogPipeline) -> list[dict[str, Any]]:
    return [f for f in logs.found if f["kind"] == "log_burst"]


@pytest.mark.parametrize("restart", [False, True], ids=["went-on", "restarted"])
async def test_a_restart_mid_bucket_blames_a_burst_on_the_same_node(
    tmp_path: Path, store: SqlStore, restart: bool
) -> None:
    clock = Clock()
    logs = pipeline(tmp_path, store, clock, SETTINGS)
    await _steady(logs, clock)
    # the burst bucket: n1 at its usual rate, n0 far above it, under the threshold so far
    await logs.ingest_lines("n1", "app", ["upstream connection refused"] * USUAL)
    await logs.ingest_lines("n0", "app", ["upstream connection refused"] * 20)
    assert _bursts(logs) == []
    if restart:
        logs.save_now()
        clock.now += 1.0  # down for a second, in the same bucket
        logs = pipeline(tmp_path, store, clock, SETTINGS)
    await logs.ingest_lines("n2", "app", ["upstream connection refused"] * USUAL)
    await logs.ingest_lines("n0", "app", ["upstream connection refused"] * 40)
    (burst,) = _bursts(logs)
    # on main, restarted: source 'fleet', subject logs:fleet, "on 2 nodes" (n0 and n2)
    assert burst["source"] == "n0/app", burst["summary"]
    assert burst["evidence"]["nodes"] == 1
    assert [s for s, _ in burst["evidence"]["sources"]] == ["n0/app"]


def test_saved_per_source_counts_are_bounded_and_checked() -> None:
    before = BurstDetector()
    before.observe(1, 0.0, template="x", source="n0/app", count=3)
    saved = before.to_dict()
    (track,) = saved["tracks"]
    assert track[10] == {"n0/app": 3}
    too_many = {f"n{i}/app": 1 for i in range(33)}  # more than a bucket ever holds (32)
    with pytest.raises(ValueError, match="at most 32 per-source counts"):
        BurstDetector().restore({**saved, "tracks": [[*track[:10], too_many, {}, 0]]})
    with pytest.raises(TypeError, match="not a count"):
        BurstDetector().restore({**saved, "tracks": [[*track[:10], {"n0/app": "3"}, {}, 0]]})
    old = BurstDetector()  # a state saved before the counts were kept (ten fields) still loads
    assert old.restore({**saved, "tracks": [track[:10]]})
    assert old.baseline(1) == before.baseline(1)
