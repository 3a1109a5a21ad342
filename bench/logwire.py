"""Log shipping: edge batches (mined on the node) against shipping every raw line, same run.

    python bench/logwire.py            # the six Loghub-2k sets, each repeated to 100k lines
    python bench/logwire.py --quick    # two sets, 20k lines each (CI keeps it from rotting)

Each set is written to a real file in 20 slices (20 shipping intervals). After each slice:

- **edge** (what ``vigil agent`` does): :class:`vigil.collectors.LogEdge` reads the new lines
  (tailer, repair, header split, miner) and freezes one batch of templates + counts + 3 samples,
  saved to its state file; the batch goes to a controller pipeline with ``ingest_batch``;
- **baseline, raw lines** (what a plain shipper such as Fluent Bit's HTTP output does): the
  same lines read from the file and sent as one JSON body ``{"source", "lines": [...]}``; the
  controller must mine them itself (``ingest_lines``, the ``POST /api/v1/logs`` path).

Measured: bytes on the wire per interval (JSON bodies), the node's CPU per line (process time),
and the controller's CPU per line for each path. Ratios are within the run, so the shared
machine's noise mostly cancels. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vigil.bus import EventBus
from vigil.collectors import EdgeSourceSpec, LogEdge
from vigil.daemon import LogPipeline
from vigil.remediation import IncidentBook
from vigil.settings import LogsSettings
from vigil.store import SqlStore

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "loghub"
if not DATA.exists():
    DATA = Path("/work/shared/data/loghub")
ALL = ["BGL", "HDFS", "HealthApp", "Linux", "OpenSSH", "Spark"]
SLICES = 20
console = Console(stderr=True, width=160)


def pipeline(workdir: Path, name: str) -> tuple[LogPipeline, SqlStore]:
    store = SqlStore(f"sqlite:///{workdir}/{name}.db")
    bus = EventBus()
    settings = LogsSettings.model_validate(
        {"analysis": {"warmup_seconds": 0, "incident_severity": "never"}}
    )
    clock = time.time
    logs = LogPipeline(
        settings,
        state_path=workdir / f"{name}.json",
        bus=bus,
        incidents=IncidentBook(store, bus, clock),
        clock=clock,
    )
    return logs, store


def run_set(name: str, lines: int, workdir: Path) -> dict[str, Any]:
    raw = [line + b"\n" for line in (DATA / name / f"{name}_2k.log").read_bytes().split(b"\n")]
    raw = [line for line in raw if line.strip()]
    text = [raw[i % len(raw)] for i in range(lines)]
    per = len(text) // SLICES
    path = workdir / f"{name}.log"
    path.write_bytes(b"")
    edge = LogEdge([EdgeSourceSpec(str(path), name)], workdir / f"{name}-edge.json")
    ctl_edge, store_a = pipeline(workdir, f"{name}-ctl-edge")
    ctl_raw, store_b = pipeline(workdir, f"{name}-ctl-raw")
    edge_bytes = raw_bytes = 0
    edge_cpu = raw_cpu = ctl_edge_cpu = ctl_raw_cpu = 0.0
    offset = 0
    with path.open("ab") as out:
        for k in range(SLICES):
            chunk = text[k * per : (k + 1) * per] if k < SLICES - 1 else text[k * per :]
            out.write(b"".join(chunk))
            out.flush()

            t = time.process_time()
            while edge.poll():
                pass
            batch = edge.batch()
            assert batch is not None
            body = json.dumps({**batch, "node": "n1", "sent_at": time.time()})
            edge.acked()
            edge_cpu += time.process_time() - t
            edge_bytes += len(body)

            t = time.process_time()
            with path.open("rb") as f:  # the baseline shipper reads the same new bytes
                f.seek(offset)
                data = f.read()
                offset += len(data)
            raw_lines = [x.decode("utf-8", "replace") for x in data.split(b"\n")[:-1]]
            raw_body = json.dumps({"node": "n1", "source": name, "lines": raw_lines})
            raw_cpu += time.process_time() - t
            raw_bytes += len(raw_body)

            t = time.process_time()
            ctl_edge.ingest_batch("n1", json.loads(body))
            ctl_edge_cpu += time.process_time() - t
            t = time.process_time()
            pushed = json.loads(raw_body)
            asyncio.run(ctl_raw.ingest_lines("n1", name, pushed["lines"]))
            ctl_raw_cpu += time.process_time() - t
    edge.close()
    counted_edge = sum(e.count for e in ctl_edge.registry.entries())
    counted_raw = sum(e.count for e in ctl_raw.registry.entries())
    for store in (store_a, store_b):
        store.close()
    return {
        "set": name,
        "lines": len(text),
        "lines_counted_edge": counted_edge,
        "lines_counted_raw": counted_raw,
        "templates": len(ctl_edge.registry),
        "edge_bytes": edge_bytes,
        "raw_bytes": raw_bytes,
        "edge_node_us_per_line": 1e6 * edge_cpu / len(text),
        "raw_node_us_per_line": 1e6 * raw_cpu / len(text),
        "edge_controller_us_per_line": 1e6 * ctl_edge_cpu / len(text),
        "raw_controller_us_per_line": 1e6 * ctl_raw_cpu / len(text),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two sets, 20k lines each")
    args = parser.parse_args()
    sets = ["HDFS", "OpenSSH"] if args.quick else ALL
    lines = 20_000 if args.quick else 100_000
    workdir = Path(tempfile.mkdtemp(prefix="vigil-logwire-"))
    rows = [run_set(name, lines, workdir) for name in sets]

    table = Table(title="Edge batches (vigil agent) vs raw lines (a plain shipper)", width=150)
    for col in (
        "set",
        "lines",
        "templates",
        "wire bytes: edge / raw",
        "ratio",
        "node µs: edge / raw",
        "controller µs: edge / raw",
        "ratio",
    ):
        table.add_column(col, justify="left" if col == "set" else "right")
    for r in rows:
        table.add_row(
            r["set"],
            f"{r['lines']:,}",
            str(r["templates"]),
            f"{r['edge_bytes']:,} / {r['raw_bytes']:,}",
            f"{r['raw_bytes'] / r['edge_bytes']:.0f}x smaller",
            f"{r['edge_node_us_per_line']:.1f} / {r['raw_node_us_per_line']:.1f}",
            f"{r['edge_controller_us_per_line']:.2f} / {r['raw_controller_us_per_line']:.1f}",
            f"{r['raw_controller_us_per_line'] / r['edge_controller_us_per_line']:.0f}x less",
        )
    console.print(table)
    total = {
        k: sum(r[k] for r in rows)
        for k in ("lines", "lines_counted_edge", "lines_counted_raw", "edge_bytes", "raw_bytes")
    }
    exact = total["lines_counted_edge"] == total["lines"] == total["lines_counted_raw"]
    console.print(f"every line counted once on both paths: {exact}")

    def mean(key: str) -> float:
        return sum(r[key] * r["lines"] for r in rows) / total["lines"]

    print(
        json.dumps(
            {
                "bench": "logwire",
                "vigil": {
                    "edge_bytes": total["edge_bytes"],
                    "node_us_per_line": round(mean("edge_node_us_per_line"), 2),
                    "controller_us_per_line": round(mean("edge_controller_us_per_line"), 3),
                    "lines_counted": total["lines_counted_edge"],
                },
                "baseline": {
                    "name": "raw JSON lines, mined on the controller (POST /api/v1/logs)",
                    "raw_bytes": total["raw_bytes"],
                    "node_us_per_line": round(mean("raw_node_us_per_line"), 2),
                    "controller_us_per_line": round(mean("raw_controller_us_per_line"), 2),
                    "lines_counted": total["lines_counted_raw"],
                },
                "ratios": {
                    "wire_bytes_raw_over_edge": round(total["raw_bytes"] / total["edge_bytes"], 1),
                    "controller_cpu_raw_over_edge": round(
                        mean("raw_controller_us_per_line") / mean("edge_controller_us_per_line"), 1
                    ),
                },
                "lines": total["lines"],
                "sets": [r["set"] for r in rows],
                "exact": exact,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
