"""A/B of the whole ``vigil logs parse`` process: a base tree against this one, alternated.

Run by hand to measure a speed change of the miner on a shared, noisy machine: the base is
another source tree (a ``git archive`` export of the branch point, ``--base DIR`` holding
``src/``), run with ``PYTHONPATH=DIR/src``; this tree's ``src/`` is the branch. Rounds
alternate base and branch (base first in odd rounds, branch first in even ones) on the same
input files: the repeated stream (the six Loghub-2k data sets' messages repeated) and the
redrawn one (every number redrawn, no line repeats), built as :mod:`bench.logparse` builds
them. For each feed it prints min and median CPU-seconds of each side and the ratios
base/branch (above 1: the branch is faster), then ONE JSON line with the figures.
``--quick``: 50k lines, 3 rounds. ``--reqids``: a third feed, every line opening with a NEW
upper-case request id of a catalogue message id's shape (``[K7QX2M9Z] GET ... took 12 ms``),
the worst case of :mod:`vigil.logs._msgids` (branch idcost24).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import string
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import logparse


def cpu_seconds(src: Path, path: Path) -> float:
    """CPU-seconds of one ``vigil logs parse`` process on ``path`` with ``src`` first on the
    module path (measured by a small parent, as :func:`logparse.vigil_speed` does)."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-c", logparse._MEASURE, str(path), *shlex.split(logparse.VIGIL_CMD)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return float(json.loads(out)["cpu_s"])


_REQ_STATEMENTS = (
    "[{}] GET /api/items took {} ms",
    "[{}] user u{} logged in from 10.0.0.{}",
    "[{}] cache miss for key k{} size {}",
)


def request_id_lines(count: int, seed: int = 7) -> list[str]:
    """``count`` lines of three statements, each opening with a new random request id of a
    catalogue id's shape: upper-case letters and digits, a digit, two letters, not hex alone."""
    rng = random.Random(seed)
    alphabet = string.ascii_uppercase + string.digits
    out = []
    while len(out) < count:
        rid = rng.choice(string.ascii_uppercase) + "".join(rng.choice(alphabet) for _ in range(7))
        if not any(c.isdigit() for c in rid) or all(c in "0123456789ABCDEF" for c in rid):
            continue
        out.append(rng.choice(_REQ_STATEMENTS).format(rid, rng.randint(1, 999), rng.randint(1, 99)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--base", type=Path, required=True, help="base source tree (holds src/)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1_008_000)
    ap.add_argument("--quick", action="store_true", help="50k lines, 3 rounds")
    ap.add_argument("--reqids", action="store_true", help="add the new-request-id feed")
    a = ap.parse_args()
    if not (a.base / "src" / "vigil").is_dir():
        sys.exit(f"--base {a.base}: no src/vigil; export a tree: git archive REV | tar -x -C DIR")
    rounds, lines = (3, 50_000) if a.quick else (a.rounds, a.lines)
    sides = {"base": a.base / "src", "branch": logparse.ROOT / "src"}
    content = logparse._load(logparse.ALL)
    cpu: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        feeds = {}
        for feed, distinct in (("repeated", False), ("redrawn", True)):
            path = Path(tmp) / f"{feed}.log"
            logparse._write(logparse._bench_lines(content, lines, distinct=distinct), path)
            feeds[feed] = path
            cpu[feed] = {"base": [], "branch": []}
        if a.reqids:
            path = Path(tmp) / "reqids.log"
            path.write_text("".join(f"{line}\n" for line in request_id_lines(lines)))
            feeds["reqids"] = path
            cpu["reqids"] = {"base": [], "branch": []}
        for r in range(rounds):
            order = ["base", "branch"] if r % 2 == 0 else ["branch", "base"]
            for feed, path in feeds.items():
                for side in order:
                    cpu[feed][side].append(cpu_seconds(sides[side], path))
    print(f"{'feed':10} {'side':7} {'min s':>7} {'median s':>9}   rounds: CPU-seconds")
    summary: dict[str, dict[str, float | list[float]]] = {}
    for feed, got in cpu.items():
        for side, xs in got.items():
            print(
                f"{feed:10} {side:7} {min(xs):7.2f} {statistics.median(xs):9.2f}   "
                + " ".join(f"{x:.2f}" for x in xs)
            )
        base, branch = got["base"], got["branch"]
        paired = [b / c for b, c in zip(base, branch, strict=True)]
        ratios = {
            "min_ratio": min(base) / min(branch),
            "median_ratio": statistics.median(base) / statistics.median(branch),
            "paired_median": statistics.median(paired),
            "paired_min": min(paired),
        }
        print(
            f"{feed:10} base/branch: min {ratios['min_ratio']:.3f}, median "
            f"{ratios['median_ratio']:.3f}, per round median {ratios['paired_median']:.3f} "
            f"(lowest {ratios['paired_min']:.3f})"
        )
        summary[feed] = {"base": base, "branch": branch, **ratios}
    print(json.dumps({"lines": lines, "rounds": rounds, **summary}, separators=(",", ":")))


if __name__ == "__main__":
    main()
