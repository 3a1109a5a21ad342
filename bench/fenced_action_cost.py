"""What holding the store's fence through a host action costs (``FencedBackend``, branch review24).

The action is a real one on a real process: ``kill(info, 0)`` (signal 0: the checks of a
signal, no effect) on a ``sleep`` started by the local backend, through a PostgreSQL store that
leads. Variants, alternated per round, medians over rounds:

- ``unfenced``: the action alone (the baseline: a store that never led, or SQLite);
- ``check``: main before this branch, ``SqlStore.leads()`` (one read) then the action;
- ``held``: this branch, ``SqlStore.holding_lead`` (the fence's check in an open transaction)
  around the action, committed after it.

Wall and client CPU (this process) per action. The private server runs with fsync off
(tests/_postgres.py). Prints a table, then one JSON line; ``--quick`` for CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _postgres import start_server
from vigil.backends import ProcessInfo, ProcessSpec
from vigil.backends.local import LocalBackend
from vigil.model import ReplicaId
from vigil.remediation import FencedBackend
from vigil.store import SqlStore


def timed(act: Callable[[], None], n: int) -> tuple[float, float]:
    """Microseconds of wall and of this process's CPU per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        act()
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 200 (CI)")
    args = parser.parse_args()
    rounds, n = (3, 200) if args.quick else (15, 1000)
    server = start_server()
    backend = LocalBackend("fenced-action-bench")
    try:
        with server.database("bench") as url:
            store = SqlStore(url)
            store.lead("bench", at=time.time())
            spec = ProcessSpec(replica=ReplicaId("bench/0"), argv=["sleep", "600"])
            info: ProcessInfo = asyncio.run(backend.start(spec))
            unfenced = FencedBackend(backend, store=store, hold=None, clock=time.time)
            held = FencedBackend(backend, store=store, hold=store.holding_lead, clock=time.time)

            def check() -> None:
                if store.leads():
                    backend.kill(info, 0)

            variants: dict[str, Callable[[], None]] = {
                "unfenced": lambda: unfenced.kill(info, 0),
                "check": check,
                "held": lambda: held.kill(info, 0),
            }
            figures: dict[str, dict[str, list[float]]] = {
                v: {"wall": [], "cpu": []} for v in variants
            }
            for r in range(rounds):
                names = list(variants)
                names = names[r % 3 :] + names[: r % 3]
                for name in names:
                    timed(variants[name], n // 10)  # warm
                    wall, cpu = timed(variants[name], n)
                    figures[name]["wall"].append(wall)
                    figures[name]["cpu"].append(cpu)
            backend.sweep([])
            store.close()
    finally:
        server.stop()
    load = Path("/proc/loadavg").read_text().split()[:3]
    out = sys.stdout
    out.write(
        f"fenced action cost: {rounds} rounds x {n} kill(0) per variant, load {' '.join(load)}\n\n"
    )
    out.write("| variant | wall µs/action | client CPU µs/action | wall ratio | CPU ratio |\n")
    out.write("|---|---|---|---|---|\n")
    med = {v: {k: statistics.median(x) for k, x in row.items()} for v, row in figures.items()}
    base = med["unfenced"]
    for name, row in med.items():
        out.write(
            f"| {name} | {row['wall']:.1f} | {row['cpu']:.1f} | {row['wall'] / base['wall']:.2f} "
            f"| {row['cpu'] / base['cpu']:.2f} |\n"
        )
    out.write("\n")
    out.write(json.dumps({"rounds": rounds, "n": n, "load": load, "baseline": base, **{
        k: v for k, v in med.items() if k != "unfenced"}}) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
