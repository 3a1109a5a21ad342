"""Where two builds' instructions per request differ, function by function (callgrind dumps).

``python bench/callgrind_diff.py DIR [--mode close|keepalive] [--top N]`` reads the dumps that
``bench/balance_exact_cost.py --keep DIR`` kept (``<balance>.<mode>.<n>.w<i>`` and
``<balance>.<mode>.<n>.requests``), runs ``callgrind_annotate --inclusive=yes`` on each, sums
the workers of a launch per function, divides by that launch's requests and takes the median
over the launches; then prints the functions whose inclusive instructions per request differ
most between ``exact`` and its baseline ``kernel`` (a table, then one JSON line of the rows).
Inclusive counts overlap (a caller holds its callees): read the rows as a call tree, not a sum.
Called by hand (docs/benchmarks.md "Exact balance, compiled").
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*?)(?:\s+\[[^\]]*\])?\s*$")


def annotate(path: Path) -> dict[str, int]:
    """Inclusive Ir per function of one dump (``file:function`` keys, the file's name only)."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--auto=no", "--threshold=100", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m and ":" in m.group(2):
            path, _, fn = m.group(2).rpartition(":")
            key = f"{Path(path).name}:{fn}"  # the build's directories say nothing here
            out[key] = out.get(key, 0) + int(m.group(1).replace(",", ""))
    return out


def per_request(folder: Path, balance: str, mode: str) -> dict[str, float]:
    """Median over the launches of each function's inclusive Ir per request (both workers)."""
    launches: list[dict[str, float]] = []
    for req in sorted(folder.glob(f"{balance}.{mode}.*.requests")):
        stem = req.name[: -len(".requests")]
        requests = max(int(req.read_text()), 1)
        total: dict[str, float] = defaultdict(float)
        for dump in sorted(folder.glob(stem + ".w*")):
            for fn, ir in annotate(dump).items():
                total[fn] += ir / requests
        launches.append(total)
    if not launches:
        sys.exit(f"bench/callgrind_diff.py: no {balance}.{mode}.*.requests in {folder}")
    names = set().union(*launches)
    return {fn: statistics.median(launch.get(fn, 0.0) for launch in launches) for fn in names}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--mode", default="close", choices=("close", "keepalive"))
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="the ten largest differences only")
    args = parser.parse_args()
    top = 10 if args.quick else args.top
    base = per_request(args.folder, "kernel", args.mode)
    other = per_request(args.folder, "exact", args.mode)
    rows = sorted(
        (
            (other.get(fn, 0.0) - base.get(fn, 0.0), base.get(fn, 0.0), other.get(fn, 0.0), fn)
            for fn in set(base) | set(other)
        ),
        key=lambda r: -abs(r[0]),
    )[:top]
    print(f"{'kernel Ir/req':>14} {'exact Ir/req':>13} {'difference':>11}  function (inclusive)")
    for diff, k, e, fn in rows:
        print(f"{k:>14,.0f} {e:>13,.0f} {diff:>+11,.0f}  {fn}")
    print(
        json.dumps(
            {
                "figures": {fn: round(e, 1) for _, _, e, fn in rows},
                "baseline": {fn: round(k, 1) for _, k, _, fn in rows},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
