"""The template miner on a stream whose new templates merge: CPU per line as its caches fill.

    python bench/miner_merges.py            # N = 1k/5k/20k/40k cached templates, 300 merges
    python bench/miner_merges.py --quick    # N = 1k/5k, 100 merges (CI keeps it from rotting)

A :class:`vigil.logs.TemplateMiner` first mines N lines of N distinct templates (each its own
first word: no bucket is crowded), so its three line caches hold N entries each. Then M
families of four lines arrive (``<head> alpha done`` .. ``delta``): the third distinct word
makes the family one cluster, a merge (``Match.remapped``), M merges in all. Measured: CPU
microseconds per line of those 4M lines (``time.process_time``), and, as a control, of 2M
lines of families of two (no merge). Each case runs ``--repeat`` times, current and baseline
interleaved; the median is shown.

**Baseline**: the code before the merge stopped walking the caches (commit :data:`BASELINE`,
``--baseline REV`` for another), exported with ``git archive`` and run in a worker process with
it on ``PYTHONPATH``, in the same run. Both must give the same merges and clusters.
Prints a table, then ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import ROOT, export, run_worker

BASELINE = "4e393a1"
"""The commit before ``_fold`` re-pointed only the gone cluster's cache entries."""

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "po", "da", "fe", "gu", "hi"]


def _name(i: int, tag: str) -> str:
    """A distinct word for ``i`` (letters only: no digit for the masks to take)."""
    out = ""
    while True:
        i, r = divmod(i, len(SYLLABLES))
        out += SYLLABLES[r]
        if not i:
            return out + tag


def _lines(n: int, families: int, size: int, seed: int) -> tuple[list[str], list[str]]:
    rnd = random.Random(seed)
    warm = [
        f"{_name(i, 'x')} {rnd.choice(SYLLABLES)}{rnd.choice(SYLLABLES)} size {rnd.randint(1, 999)}"
        for i in range(n)
    ]
    words = ("alpha", "beta", "gamma", "delta")[:size]
    stream = [f"{_name(j, 'q')} flush {w} done" for j in range(families) for w in words]
    return warm, stream


def worker(arg: str) -> None:
    """Mine the warm lines, then time the stream; prints one JSON line."""
    from vigil.logs import TemplateMiner

    spec = json.loads(arg)
    warm, stream = _lines(spec["n"], spec["families"], spec["size"], spec["seed"])
    miner = TemplateMiner()
    for line in warm:
        miner.add(line)
    merges = 0
    t0 = time.process_time()
    for line in stream:
        merges += len(miner.add(line).remapped)
    cpu = time.process_time() - t0
    out = {"us_per_line": cpu / len(stream) * 1e6, "merges": merges}
    sys.stdout.write(json.dumps({**out, "clusters": len(miner.clusters)}) + "\n")


def _case(src: Path, base: Path, spec: dict[str, int], repeat: int) -> dict[str, Any]:
    cur: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    for _ in range(repeat):  # interleaved: both see the same load
        cur.append(run_worker(__file__, src, json.dumps(spec), 900))
        old.append(run_worker(__file__, base, json.dumps(spec), 900))
    same = all(
        (c["merges"], c["clusters"]) == (o["merges"], o["clusters"])
        for c, o in zip(cur, old, strict=True)
    )
    return {
        "current": statistics.median(r["us_per_line"] for r in cur),
        "baseline": statistics.median(r["us_per_line"] for r in old),
        "merges": cur[0]["merges"],
        "same": same,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N = 1k/5k, 100 merges")
    ap.add_argument("--merges", type=int, default=300, help="families of four lines (300)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each case (3)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--baseline", default=BASELINE, help=f"git revision ({BASELINE})")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker)
        return
    # (below the miner's 50k clusters: at 50k its evictions drop every cache, both alike)
    sizes = [1_000, 5_000] if a.quick else [1_000, 5_000, 20_000, 40_000]
    families = 100 if a.quick else a.merges
    repeat = 1 if a.quick else a.repeat
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        commit = export(Path(tmp), a.baseline, "miner_merges.py")
        base, src = Path(tmp) / "src", ROOT / "src"
        for n in sizes:
            spec = {"n": n, "families": families, "seed": a.seed}
            merging = _case(src, base, {**spec, "size": 4}, repeat)
            control = _case(src, base, {**spec, "size": 2}, repeat)
            rows.append({"n": n, "merging": merging, "control": control})
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[0]
    out = sys.stdout.write
    out(f"baseline {a.baseline} ({commit[:10]}); load {load_before} -> {load_after}\n")
    out(f"{'cached':>8} {'merges':>6} {'merging us/line':>16} {'baseline':>10} {'base/cur':>9}")
    out(f" {'no-merge us/line':>17} {'baseline':>10} {'base/cur':>9} {'same':>5}\n")
    for r in rows:
        m, c = r["merging"], r["control"]
        out(
            f"{r['n']:>8,} {m['merges']:>6} {m['current']:>16.1f} {m['baseline']:>10.1f}"
            f" {m['baseline'] / m['current']:>8.2f}x {c['current']:>17.1f} {c['baseline']:>10.1f}"
            f" {c['baseline'] / c['current']:>8.2f}x {m['same'] and c['same']!s:>5}\n"
        )
    figures = {
        "bench": "miner_merges",
        "quick": a.quick,
        "baseline_commit": commit,
        "loadavg": [float(load_before), float(load_after)],
        "merging_us_per_line": {str(r["n"]): round(r["merging"]["current"], 1) for r in rows},
        "baseline_merging_us_per_line": {
            str(r["n"]): round(r["merging"]["baseline"], 1) for r in rows
        },
        "no_merge_us_per_line": {str(r["n"]): round(r["control"]["current"], 1) for r in rows},
        "baseline_no_merge_us_per_line": {
            str(r["n"]): round(r["control"]["baseline"], 1) for r in rows
        },
        "same_results": all(r["merging"]["same"] and r["control"]["same"] for r in rows),
    }
    out(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
