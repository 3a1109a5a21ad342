"""Log analyses under a batch of similar templates: seconds one agent batch holds the event loop.

    python bench/families.py            # N = 250/500/1000/2000 similar templates + six Loghub sets
    python bench/families.py --quick    # N = 250/500 + two Loghub sets (CI keeps it from rotting)

One agent batch (``POST /api/v1/logs/batches``: templates mined at the edge) goes to a fresh
controller pipeline (:class:`vigil.daemon.LogPipeline`, real SQLite store, bus and incident book)
and ``ingest_batch`` is timed: it runs on the controller's event loop, so that is how long
heartbeats, probes and the API wait. Cases:

- **similar N**: N new templates of one family (``event <i> happened on <*> with code <c>``);
- **Loghub <set>**: every template the miner finds in the Loghub-2k set, in one batch.

**Baseline**: the code before the families index (commit :data:`BASELINE`, ``--baseline REV`` for
another), exported with ``git archive`` and put on ``PYTHONPATH`` of a worker process, measured
in the same run. (It was main's fork point while the fix was on its branch; once merged that is
the current code itself, so the baseline is now the named commit.)
A baseline case that runs past ``--baseline-timeout`` seconds is stopped and shown as ``>T``
(its ratio is then a lower bound). Each case also checks that both give the same families.
The current code's time is the best of ``--repeat`` runs; the baseline's, one run. Ends with one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import ROOT, export, run_worker

DATA = ROOT.parent / "shared" / "data" / "loghub"
if not DATA.exists():
    DATA = Path("/work/shared/data/loghub")
ALL = ["BGL", "HDFS", "HealthApp", "Linux", "OpenSSH", "Spark"]


def similar(n: int) -> list[str]:
    return [f"event {i} happened on <*> with code {i % 97}" for i in range(n)]


def worker(templates_file: str) -> None:
    """Time one batch with whichever vigil is on the path; print seconds and the families."""
    from vigil.bus import EventBus
    from vigil.daemon import LogPipeline
    from vigil.remediation import IncidentBook
    from vigil.settings import LogsSettings
    from vigil.store import SqlStore

    templates = json.loads(Path(templates_file).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/v.db")
        bus = EventBus()
        logs = LogPipeline(
            LogsSettings(),
            state_path=Path(tmp) / "s.json",
            bus=bus,
            incidents=IncidentBook(store, bus, time.time),
        )
        now = time.time()
        item = {"source": "app", "count": 3, "first_at": now, "last_at": now, "level": "INFO"}
        batch = {
            "agent_id": "bench",
            "seq": 1,
            "sent_at": now,
            "templates": [{**item, "template": t, "samples": ["x"]} for t in templates],
            "stats": {},
        }
        started = time.perf_counter()
        logs.ingest_batch("n1", batch)
        seconds = time.perf_counter() - started
        ids = {e.id: e.template for e in logs.registry.entries()}
        families = sorted(sorted(ids[i] for i in m) for m in logs.families.families().values())
        store.close()
    print(json.dumps({"seconds": seconds, "families": families}))


def run(src: Path, templates_file: Path, timeout: float) -> dict[str, Any] | None:
    try:
        return run_worker(__file__, src, str(templates_file), timeout)
    except subprocess.TimeoutExpired:
        return None


BASELINE = "6dfdd5cf"
"""main just before the families index (pairwise links, rescans on every add)."""


def loghub_templates(name: str) -> list[str]:
    path = DATA / name / f"{name}_2k.log"
    if not path.exists():
        sys.exit(f"bench/families.py: {path} is missing (the Loghub-2k sets: shared/data/loghub)")
    out = subprocess.run(
        [sys.executable, "-m", "vigil", "logs", "parse", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout
    return sorted({json.loads(line)["template"] for line in out.splitlines()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 250/500, two Loghub sets")
    parser.add_argument("--repeat", type=int, help="runs of the current code per case (3; 1 quick)")
    parser.add_argument(
        "--baseline-timeout", type=float, default=None, help="seconds (120; 30 quick)"
    )
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision ({BASELINE})")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, width=140)
    timeout = args.baseline_timeout or (30.0 if args.quick else 120.0)
    sizes = [250, 500] if args.quick else [250, 500, 1000, 2000]
    sets = ["HDFS", "OpenSSH"] if args.quick else ALL
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        commit = export(work, args.baseline, "families.py")
        cases = [(f"similar {n}", similar(n)) for n in sizes]
        cases += [(f"Loghub {name}", loghub_templates(name)) for name in sets]
        for case, templates in cases:
            file = work / "templates.json"
            file.write_text(json.dumps(templates))
            repeat = args.repeat or (1 if args.quick else 3)
            current = [run(ROOT / "src", file, 600.0) for _ in range(max(1, repeat))]
            best = min((c for c in current if c is not None), key=lambda c: c["seconds"])
            base = run(work / "src", file, timeout)
            row: dict[str, Any] = {
                "case": case,
                "templates": len(templates),
                "families": len(best["families"]),
                "biggest": max(len(f) for f in best["families"]),
                "current_s": round(best["seconds"], 4),
                "baseline_s": None if base is None else round(base["seconds"], 4),
                "baseline_timed_out": base is None,
                "speedup": round(
                    (timeout if base is None else base["seconds"]) / best["seconds"], 1
                ),
                "same_families": None if base is None else base["families"] == best["families"],
            }
            rows.append(row)
            shown = f">{timeout:g}" if base is None else row["baseline_s"]
            console.print(f"{case}: {row['current_s']} s, baseline {shown} s")
    table = Table(title=f"one agent batch through ingest_batch (event loop); baseline {commit[:8]}")
    for col in (
        "case",
        "templates",
        "families",
        "biggest",
        "current s",
        "baseline s",
        "x faster",
        "same families",
    ):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in rows:
        base_s = f">{timeout:g}" if r["baseline_timed_out"] else f"{r['baseline_s']:.3f}"
        speed = (">" if r["baseline_timed_out"] else "") + f"{r['speedup']:g}"
        same = "-" if r["same_families"] is None else ("yes" if r["same_families"] else "NO")
        table.add_row(
            r["case"],
            str(r["templates"]),
            str(r["families"]),
            str(r["biggest"]),
            f"{r['current_s']:.3f}",
            base_s,
            speed,
            same,
        )
    console.print(table)
    print(
        json.dumps(
            {
                "bench": "families",
                "quick": args.quick,
                "baseline": f"before-index@{commit}",
                "baseline_timeout_s": timeout,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
