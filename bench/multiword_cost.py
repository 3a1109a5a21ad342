"""What the multiword rule costs where it runs most: a stream of new templates of many lengths.

The rule (:mod:`vigil.logs._spans`) runs only when a line would open a new cluster, and then
compares it with the clusters of the buckets up to ``MAX_EXTRA_WORDS`` words longer or
shorter under the same first word. Its worst case is a stream whose every line is a new
template, all opening with one word, spread over many lengths, each bucket just under
crowded (``CROWDED_BUCKET`` clusters: a crowded bucket is skipped). This bench builds such a
stream (``--templates`` new templates of 4..24 words, one first word, words drawn from a
vocabulary so that no two lines share a template, each template repeated ``--repeat``
times), and runs the miner over it in a child process for the base tree (``--base DIR``
holding ``src/``, a ``git archive`` export of main) and for this tree, alternated, reporting
CPU-seconds and the ratio base/branch (above 1: the branch is faster), then ONE JSON line.

    python bench/multiword_cost.py --base /tmp/main_export            # 1,100 templates x 3
    python bench/multiword_cost.py --base /tmp/main_export --quick    # 400 templates x 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import resource, sys
from vigil.logs import TemplateMiner
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
miner = TemplateMiner()
t0 = resource.getrusage(resource.RUSAGE_SELF)
for line in lines:
    miner.cluster_of(line)
t1 = resource.getrusage(resource.RUSAGE_SELF)
print((t1.ru_utime - t0.ru_utime) + (t1.ru_stime - t0.ru_stime), len(miner.clusters))
"""


def stream(templates: int, repeat: int, seed: int) -> list[str]:
    """New templates of 4..24 words under one first word, each ``repeat`` times, shuffled."""
    rng = random.Random(seed)
    vocab = [f"{a}{b}" for a in "bcdfghklmnprstvz" for b in ("ank", "ello", "ist", "orn", "ux")]
    out = []
    for _ in range(templates):
        words = ["worker", *rng.sample(vocab, rng.randint(3, 23))]
        out += [" ".join(words)] * repeat
    rng.shuffle(out)
    return out


def run(src: Path, path: str) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, path], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, type=Path, help="base source tree (holds src/)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    templates, repeat = (400, 2) if args.quick else (1100, 3)
    rounds = args.rounds or (3 if args.quick else 5)
    lines = stream(templates, repeat, 7)
    sides = {"base": args.base / "src", "branch": ROOT / "src"}
    times: dict[str, list[float]] = {"base": [], "branch": []}
    clusters: dict[str, int] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        for r in range(rounds):
            order = ["base", "branch"] if r % 2 == 0 else ["branch", "base"]
            for side in order:
                cpu, clusters[side] = run(sides[side], f.name)
                times[side].append(cpu)
    finally:
        os.unlink(f.name)
    load = os.getloadavg()[0]
    print(f"{len(lines):,} lines, {templates:,} new templates, {rounds} rounds, load {load:.2f}")
    print(f"{'side':8} {'min s':>7} {'median s':>9} {'clusters':>9}   rounds")
    for side in ("base", "branch"):
        t = times[side]
        rows = " ".join(f"{x:.3f}" for x in t)
        print(f"{side:8} {min(t):7.3f} {median(t):9.3f} {clusters[side]:9}   {rows}")
    ratio_min = min(times["base"]) / min(times["branch"])
    ratio_median = median(times["base"]) / median(times["branch"])
    print(f"base/branch: min {ratio_min:.3f}, median {ratio_median:.3f} (below 1: branch slower)")
    print(
        json.dumps(
            {
                "bench": "multiword_cost",
                "lines": len(lines),
                "templates": templates,
                "rounds": rounds,
                "loadavg": load,
                "branch": times["branch"],
                "baseline_main": times["base"],
                "clusters": clusters,
                "min_ratio": ratio_min,
                "median_ratio": ratio_median,
            }
        )
    )


if __name__ == "__main__":
    main()
