"""Output identity check for ``vigil logs parse``: a speed change must not change one byte.

Run by hand (and before every commit of a speed change to the miner): ``record DIR`` writes the
JSON lines ``vigil logs parse`` prints for every input below into ``DIR`` (one file per input);
``compare DIR`` records them again into a temporary directory and reports every input whose
output differs from ``DIR``'s, exiting 1 if any does. Inputs:

- the six Loghub-2k raw files, with automatic header detection and with their benchmark format;
- the raw lines of every fixture under ``tests/logs/fixtures/`` (top level and ``holdout*/``);
- a redrawn stream: the six data sets' messages repeated with every number redrawn (no line
  repeats), as :mod:`bench.logparse` builds it, 200k lines (``--lines``).

The reference for a branch is recorded with the branch point's code (``PYTHONPATH`` set to a
``git archive`` export of it), the comparison with the branch's. ``--quick``: a 20k-line
redrawn stream. Both actions end with ONE JSON line (inputs, and for ``compare`` how many are
identical to the reference, the baseline).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import logparse

FIXTURES = logparse.ROOT / "tests" / "logs" / "fixtures"


def inputs(tmp: Path, lines: int) -> list[tuple[str, Path, list[str]]]:
    """(name, input file, extra ``parse`` arguments) for every input of the check."""
    out: list[tuple[str, Path, list[str]]] = []
    for name in logparse.ALL:
        raw = logparse.DATA / name / f"{name}_2k.log"
        fmt = json.loads((logparse.DATA / name / "settings.json").read_text())["log_format"]
        out.append((f"loghub-{name}-auto", raw, []))
        out.append((f"loghub-{name}-format", raw, ["--log-format", fmt]))
    for tsv in sorted(FIXTURES.glob("*.tsv")) + sorted(FIXTURES.glob("holdout*/*.tsv")):
        rel = tsv.relative_to(FIXTURES).with_suffix("")
        path = tmp / ("fixture-" + "-".join(rel.parts) + ".log")
        raw = [x.split("\t", 1)[1] for x in tsv.read_text(encoding="utf-8").splitlines() if x]
        path.write_text("\n".join(raw) + "\n", encoding="utf-8")
        out.append((path.stem, path, []))
    content = logparse._load(logparse.ALL)
    redrawn = tmp / "redrawn.log"
    logparse._write(logparse._bench_lines(content, lines, distinct=True), redrawn)
    out.append(("redrawn", redrawn, []))
    return out


def record(into: Path, lines: int) -> list[str]:
    """Write every input's output into ``into``; returns the names."""
    into.mkdir(parents=True, exist_ok=True)
    names = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, extra in inputs(Path(tmp), lines):
            with path.open("rb") as src, (into / f"{name}.jsonl").open("wb") as dst:
                cmd = [*shlex.split(logparse.VIGIL_CMD), *extra]
                subprocess.run(cmd, stdin=src, stdout=dst, check=True)
            names.append(name)
    return names


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("action", choices=["record", "compare"])
    ap.add_argument("dir", type=Path, help="reference directory")
    ap.add_argument("--lines", type=int, default=200_000, help="redrawn stream length")
    ap.add_argument("--quick", action="store_true", help="a 20k-line redrawn stream")
    a = ap.parse_args()
    lines = 20_000 if a.quick else a.lines
    if a.action == "record":
        names = record(a.dir, lines)
        print(f"recorded {len(names)} outputs into {a.dir}")
        print(json.dumps({"bench": "logparse_same", "action": "record", "inputs": len(names)}))
        return
    if not a.dir.is_dir():
        sys.exit(f"{a.dir}: no reference directory; record one first: {sys.argv[0]} record DIR")
    with tempfile.TemporaryDirectory() as tmp:
        names = record(Path(tmp), lines)
        differ = [
            n
            for n in names
            if not (a.dir / f"{n}.jsonl").exists()
            or not filecmp.cmp(Path(tmp) / f"{n}.jsonl", a.dir / f"{n}.jsonl", shallow=False)
        ]
    print(f"{len(names) - len(differ)}/{len(names)} outputs byte-identical to {a.dir}")
    for n in differ:
        print(f"DIFFERS: {n}")
    summary = {"inputs": len(names), "identical": len(names) - len(differ), "differ": differ}
    print(json.dumps({"bench": "logparse_same", **summary, "baseline": str(a.dir)}))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
