"""The log pipeline's per-source counts stay bounded whatever source names agents send.

:mod:`vigil.daemon._logs_counts` promises at most ``MAX_LABELLED`` node/source pairs with series
of their own in ``/metrics``, the rest under ``(other)``. Counts of repaired input arrive in an
agent batch's ``stats`` for sources that may have sent no line (no template) in it; those pairs
were never registered with the cap, so every new source name was a new series, and a new entry
in the per-source stats the pipeline saves in its state file. A real pipeline on a SQLite store.
"""

from __future__ import annotations

from pathlib import Path

from _log_pipeline import Clock, pipeline
from vigil.daemon._logs_counts import MAX_LABELLED, OTHER
from vigil.store import SqlStore

BATCHES = 3


def stats_batch(seq: int) -> dict[str, object]:
    """A batch of no templates, with one repaired line in each of MAX_LABELLED new sources."""
    stats = {f"s{seq}-{i}": {"invalid_utf8": 1} for i in range(MAX_LABELLED)}
    return {
        "agent_id": "a1",
        "seq": seq,
        "sent_at": 1_700_000_000.0,
        "templates": [],
        "stats": stats,
    }


def test_source_stats_of_many_names_share_other_past_the_cap(
    tmp_path: Path, store: SqlStore
) -> None:
    logs = pipeline(tmp_path, store, Clock(1_700_000_000.0), {})
    for seq in range(1, BATCHES + 1):
        logs.ingest_batch("node-a", stats_batch(seq))

    problems = logs.counts.problems
    pairs = {(node, source) for node, source, _ in problems}
    assert len(pairs) <= MAX_LABELLED + 1, len(pairs)  # was BATCHES * MAX_LABELLED
    assert problems[(OTHER, OTHER, "invalid_utf8")] == (BATCHES - 1) * MAX_LABELLED
    assert sum(problems.values()) == BATCHES * MAX_LABELLED  # nothing lost, only folded
    assert len(logs.stats) <= MAX_LABELLED + 1, len(logs.stats)


def test_source_stats_stay_bounded_across_restarts_of_the_controller(
    tmp_path: Path, store: SqlStore
) -> None:
    # the stats are saved in the state file, the pairs given their own entry were not: each
    # restart gave MAX_LABELLED new names an entry of their own, the file grew by as many
    for seq in range(1, BATCHES + 1):  # one controller run per batch
        logs = pipeline(tmp_path, store, Clock(1_700_000_000.0), {})
        logs.ingest_batch("node-a", stats_batch(seq))
        logs.save_now()
    assert len(logs.stats) <= MAX_LABELLED + 1, len(logs.stats)  # was BATCHES * MAX_LABELLED
    assert sum(sum(v.values()) for v in logs.stats.values()) == BATCHES * MAX_LABELLED
