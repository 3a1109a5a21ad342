"""The template miner's speed when one bucket is crowded (issue 4: flat speed as the stream grows).

A stream where every line opens with the same word and has the same length but is otherwise
new (JSON lines that all open with one key, one program's tag, one service's prefix) files every
cluster in one bucket of :class:`vigil.logs.TemplateMiner`. The bench loads a miner with N such
clusters (``miner.restore``, as ``vigil.logs.loads`` does: the same state the stream itself would
leave, built without mining N lines first), then mines M more new lines of that stream and
measures lines per CPU-second (``time.process_time``) at N = 1k, 5k, 20k, 50k.

Baseline, same run: the same lines with varied first words (one of 4,000), the miner's normal
case, at the same N. Also: M lines that repeat a template already in the crowded bucket (its
words with other numbers), and how many of them found their own cluster (full scan: all).

Prints a table, then ONE JSON line. ``--quick``: fewer lines measured, N up to 20k.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from vigil.logs import TemplateMiner
from vigil.logs._cluster import LITERAL, Cluster

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "po", "da", "fe", "gu", "hi"]
WORDS = 6
FIRSTS = 4_000
"""First words of the normal case: at most 13 clusters a bucket at 50k, none crowded."""
"""Words after the first one: seven words a line, one bucket (same length, same first word)."""


def word(rnd: random.Random) -> str:
    """A made-up word of 2-4 syllables (also the words of bench/crowded_accuracy.py)."""
    return "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4)))


def _line(rnd: random.Random, first: str) -> str:
    return " ".join([first, *(word(rnd) for _ in range(WORDS)), f"id={rnd.randint(1, 99999)}"])


def _firsts(rnd: random.Random, varied: bool) -> list[str]:
    return [word(rnd) + "x" for _ in range(FIRSTS)] if varied else ["handler"]


def _loaded(n: int, m: int, varied: bool, rnd: random.Random) -> tuple[TemplateMiner, list[str]]:
    """A miner holding ``n`` clusters of the stream (one bucket unless ``varied``), and the
    example lines of them."""
    firsts = _firsts(rnd, varied)
    clusters, examples = [], []
    for cid in range(1, n + 1):
        line = _line(rnd, rnd.choice(firsts))
        words = [*line.split()[:-1], "id=<*>"]
        clusters.append(
            Cluster(cid, words, [LITERAL] * len(words), [1] * len(words), 1, cid, cid, line)
        )
        examples.append(line)
    miner = TemplateMiner(max_clusters=n + 2 * m + 10)
    miner.restore(clusters, {}, lines=n, next_id=n + 1)
    return miner, examples


def _rate(miner: TemplateMiner, lines: list[str]) -> tuple[float, int]:
    """Lines per CPU-second mining ``lines``, and how many clusters they created."""
    before = len(miner.clusters) + len(miner.remaps())
    t0 = time.process_time()
    for line in lines:
        miner.add(line)
    dt = time.process_time() - t0
    return len(lines) / dt, len(miner.clusters) + len(miner.remaps()) - before


def measure(n: int, m: int, seed: int) -> dict[str, float]:
    rnd = random.Random(seed)
    crowded, examples = _loaded(n, m, False, rnd)
    new_lines = [_line(rnd, "handler") for _ in range(m)]
    crowded_lps, created = _rate(crowded, new_lines)
    # lines of templates already in the bucket (other numbers): each should find its own
    picks = [rnd.randrange(n) for _ in range(m)]
    repeat = [examples[i].rsplit("=", 1)[0] + f"={rnd.randint(1, 99999)}" for i in picks]
    ids = [crowded.add(line).cluster_id for line in repeat]
    found = sum(1 for i, cid in zip(picks, ids, strict=True) if cid == i + 1)
    normal, _ = _loaded(n, m, True, random.Random(seed))
    normal_lps, _ = _rate(normal, [_line(rnd, word(rnd) + "x") for _ in range(m)])
    return {
        "clusters": n,
        "crowded_lps": crowded_lps,
        "created": created,
        "normal_lps": normal_lps,
        "repeats_found": found / m,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="150 lines measured, N up to 20k")
    ap.add_argument("--lines", type=int, default=600, help="new lines measured per N")
    ap.add_argument("--seed", type=int, default=4)
    a = ap.parse_args()
    sizes = [1_000, 5_000, 20_000] if a.quick else [1_000, 5_000, 20_000, 50_000]
    m = 150 if a.quick else a.lines
    rows = [measure(n, m, a.seed) for n in sizes]
    out = sys.stdout.write
    out(f"{'clusters in bucket':>18} {'crowded l/cpu-s':>16} {'normal l/cpu-s':>15}")
    out(f" {'normal/crowded':>14} {'new clusters':>12} {'repeats found':>13}\n")
    for r in rows:
        out(
            f"{r['clusters']:>18,} {r['crowded_lps']:>16,.0f} {r['normal_lps']:>15,.0f}"
            f" {r['normal_lps'] / r['crowded_lps']:>13.1f}x {r['created']:>6}/{m:<5}"
            f" {r['repeats_found']:>13.3f}\n"
        )
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    figures = {
        "bench": "crowded_bucket",
        "quick": a.quick,
        "lines_measured": m,
        "loadavg": float(load),
        "crowded_lines_per_cpu_s": {str(r["clusters"]): round(r["crowded_lps"]) for r in rows},
        "baseline_normal_lines_per_cpu_s": {
            str(r["clusters"]): round(r["normal_lps"]) for r in rows
        },
        "repeats_found": {str(r["clusters"]): r["repeats_found"] for r in rows},
    }
    out(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
