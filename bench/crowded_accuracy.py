"""What the crowded-bucket bound costs in accuracy: GA on a synthetic crowded stream with known
ground truth, with the bound and without it, and the speed of each.

    python bench/crowded_accuracy.py            # 2,000 templates, 40,000 lines
    python bench/crowded_accuracy.py --quick    # 500 templates, 8,000 lines

A bucket of more than :data:`vigil.logs._miner.CROWDED_BUCKET` clusters (same first word and
length) offers a line a bounded list of candidates (its oldest and newest clusters, those whose
words are the line's, the newest ones with the line's second word): a line whose template is
none of them starts a new cluster. The stream: T templates that all open with ``handler``, have
eight words, and share their second word with about T/20 others (one of 20 verbs); each has
one slot holding a user name (a plain word, which no mask takes: the cluster widens there, so
its words stop being the line's) and one holding a number. Lines draw a template at random
(seeded), so every template keeps coming back after hundreds of others.

GA as in Loghub (``logparse_eval.py``): a line is right when the set of lines given its cluster
id is exactly its template's lines; shown for the ids after every merge (``resolve``: which
cluster the miner holds each line in) and for the ids as printed at the time (as ``vigil logs
parse`` prints them). The second is 0 on this stream with or without the bound: the first two
users of a template are two events until a third one merges them (the miner's pair rule), so
each template's first lines carry another id.

**Baseline**: the same miner with the bound lifted (``CROWDED_BUCKET`` set past the template
count, every cluster of the bucket compared), in the same run. Prints a table, then
ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from crowded_bucket import word

import vigil.logs._miner as miner_module
from vigil.logs import TemplateMiner

VERBS = 20
USERS = 400


def _stream(templates: int, lines: int, seed: int) -> tuple[list[str], list[int]]:
    """``lines`` lines of ``templates`` templates, and each line's template index."""
    rnd = random.Random(seed)
    verbs = [word(rnd) + "ed" for _ in range(VERBS)]
    users = [word(rnd) + "son" for _ in range(USERS)]
    shapes: list[tuple[list[str], int, int]] = []
    seen: set[tuple[str, ...]] = set()
    while len(shapes) < templates:
        words = ["handler", rnd.choice(verbs), *(word(rnd) for _ in range(6))]
        user, number = rnd.sample(range(2, 8), 2)
        key = tuple(w for i, w in enumerate(words) if i not in (user, number))
        if key in seen:
            continue
        seen.add(key)
        shapes.append((words, user, number))
    out, truth = [], []
    for _ in range(lines):
        t = rnd.randrange(templates)
        words, user, number = shapes[t]
        line = list(words)
        line[user] = rnd.choice(users)
        line[number] = str(rnd.randint(1, 99_999))
        out.append(" ".join(line))
        truth.append(t)
    return out, truth


def grouping_accuracy(predicted: list[int], truth: list[int]) -> float:
    """Loghub's GA: the share of lines whose predicted group is exactly their true group."""
    by_pred: dict[int, set[int]] = defaultdict(set)
    by_true: dict[int, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        by_pred[p].add(i)
        by_true[t].add(i)
    right = sum(
        len(lines) for lines in by_pred.values() if lines == by_true[truth[next(iter(lines))]]
    )
    return right / len(truth)


def run(lines: list[str], truth: list[int], bounded: bool) -> dict[str, float]:
    saved = miner_module.CROWDED_BUCKET
    if not bounded:
        miner_module.CROWDED_BUCKET = 10**9
    try:
        miner = TemplateMiner()
        t0 = time.process_time()
        ids = [miner.add(line).cluster_id for line in lines]
        cpu = time.process_time() - t0
    finally:
        miner_module.CROWDED_BUCKET = saved
    final = [miner.resolve(i) for i in ids]
    return {
        "ga": grouping_accuracy(ids, truth),
        "ga_final_ids": grouping_accuracy(final, truth),
        "clusters": len(miner.clusters),
        "lines_per_cpu_s": len(lines) / cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="500 templates, 8,000 lines")
    ap.add_argument("--templates", type=int, default=2_000)
    ap.add_argument("--lines", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    templates, count = (500, 8_000) if a.quick else (a.templates, a.lines)
    lines, truth = _stream(templates, count, a.seed)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    bounded = run(lines, truth, True)
    unbounded = run(lines, truth, False)
    out = sys.stdout.write
    out(f"{templates:,} templates, {count:,} lines, seed {a.seed}; load {load}\n")
    out(f"{'miner':>24} {'GA (merged ids)':>15} {'GA (printed ids)':>16} {'clusters':>9}")
    out(f" {'lines/cpu-s':>12}\n")
    for name, r in (("bounded (CROWDED_BUCKET)", bounded), ("unbounded (baseline)", unbounded)):
        out(
            f"{name:>24} {r['ga_final_ids']:>15.3f} {r['ga']:>16.3f} {r['clusters']:>9,}"
            f" {r['lines_per_cpu_s']:>12,.0f}\n"
        )
    figures = {
        "bench": "crowded_accuracy",
        "quick": a.quick,
        "templates": templates,
        "lines": count,
        "loadavg": float(load),
        "bounded": {k: round(v, 4) for k, v in bounded.items()},
        "baseline_unbounded": {k: round(v, 4) for k, v in unbounded.items()},
    }
    out(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
