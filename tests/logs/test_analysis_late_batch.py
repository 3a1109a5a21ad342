"""An agent cut off from the controller for a while sends what it buffered when it is back: its
lines are counted, and a backlog of an ordinary rate is no burst (as the controller's own files
read after its restart are none: tests/logs/test_analysis_local_backlog.py). Run on the real
pipeline: a SQLite store, agent batches as :class:`vigil.collectors.LogEdge` builds them (per
template: count, first and last time), a hand-moved clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _log_pipeline import Clock, pipeline
from vigil.daemon import LogPipeline
from vigil.logs.analysis import BurstDetector
from vigil.store import SqlStore

SERVED = "served request <*> in <*> ms"
RATE = 10  # lines a second
SHIP = 5.0  # the agent's ship_every


def agent(tmp_path: Path, store: SqlStore, clock: Clock) -> LogPipeline:
    settings = {"ship_every": SHIP, "analysis": {"warmup_lines": 5, "warmup_seconds": 0}}
    return pipeline(tmp_path, store, clock, settings)


class Agent:
    """Agent a1 of node n1: lines of :data:`SERVED` at :data:`RATE` a second, batched as the
    edge miner does (one entry per template: its count, first and last time)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.seq = 0
        self.held: list[dict[str, Any]] = []  # templates read since the last batch

    def log(self, seconds: float, rate: int = RATE, template: str = SERVED) -> None:
        """``seconds`` of logging at ``rate`` lines a second, read every second."""
        for _ in range(int(seconds)):
            self.clock.now += 1
            entry = next((e for e in self.held if e["template"] == template), None)
            if entry is None:
                entry = {"source": "app", "template": template, "count": 0, "level": ""}
                entry |= {"first_at": self.clock.now, "samples": []}
                self.held.append(entry)
            entry["count"] += rate
            entry["last_at"] = self.clock.now

    def batch(self) -> dict[str, Any]:
        self.seq += 1
        templates, self.held = self.held, []
        return {"agent_id": "a1", "seq": self.seq, "templates": templates, "stats": {}}

    def send(self, logs: LogPipeline, batch: dict[str, Any]) -> int:
        """Send ``batch`` now; the findings it raised."""
        return logs.ingest_batch("n1", {**batch, "sent_at": self.clock.now}).findings


def bursts(logs: LogPipeline) -> list[str]:
    return [f["summary"] for f in logs.found if f["kind"] == "log_burst"]


@pytest.mark.parametrize("outage", [60, 600])
def test_what_an_agent_buffered_through_an_outage_is_counted_and_no_burst(
    tmp_path: Path, store: SqlStore, outage: int
) -> None:
    """Cut off a minute at 10 lines a second: the batch of the minute's 600 lines, read since
    the outage and sent on reconnection, was counted in the bucket of its arrival and called a
    burst ("log burst: 600 lines in 10s (6x the baseline 100)")."""
    clock = Clock()
    logs, edge = agent(tmp_path, store, clock), Agent(clock)
    for _ in range(60):  # five minutes of ordinary batches, one every 5 s
        edge.log(SHIP)
        edge.send(logs, edge.batch())
    assert bursts(logs) == []
    edge.log(SHIP)
    frozen = edge.batch()  # frozen, then its POST fails: the controller is out of reach
    edge.log(outage)  # cut off; the service logs on
    assert edge.send(logs, frozen) == 0  # sent again on reconnection (held back a minute)
    assert edge.send(logs, edge.batch()) == 0  # what was read meanwhile
    assert bursts(logs) == []
    assert logs.registry.entries()[-1].count == 61 * int(SHIP) * RATE + outage * RATE  # all
    for _ in range(6):  # ordinary again
        edge.log(SHIP)
        edge.send(logs, edge.batch())
    edge.log(SHIP - 1)
    edge.log(1, rate=1000)  # a real burst after the outage is still one
    assert edge.send(logs, edge.batch()) == 1
    assert len(bursts(logs)) == 1


def test_a_backlog_counts_in_the_buckets_it_spans_so_the_baseline_does_not_decay() -> None:
    d = BurstDetector()
    for b in range(60):  # 100 lines per 10 s bucket
        d.observe(1, b * 10.0 + 5.0, count=100)
    before = d.baseline(1)
    assert before == pytest.approx(100.0)
    # ten minutes' lines at the same rate, received at once: counted where they were logged
    assert d.backlog(1, 1205.0, 600.0, 1205.0, 6050) is None
    assert d.baseline(1) == pytest.approx(before, rel=0.02)
    # the bucket of now holds its share (50 of its first 5 s): a real burst on top is one
    assert d.observe(1, 1206.0, count=40) is None
    assert d.observe(1, 1207.0, count=400) is not None
    # taken as one bucket's lines, the same backlog was a burst; the baseline, decayed by the
    # ten empty minutes (e^-2), made even the share of now look like one
    plain, decayed = BurstDetector(), BurstDetector()
    for b in range(60):
        plain.observe(1, b * 10.0 + 5.0, count=100)
        decayed.observe(1, b * 10.0 + 5.0, count=100)
    assert plain.observe(1, 1205.0, count=6050) is not None
    assert decayed.observe(1, 1205.0, count=50) is not None
    assert decayed.baseline(1) < 0.2 * before
