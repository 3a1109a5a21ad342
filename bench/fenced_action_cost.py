"""What holding the store's fence through a host action costs (``FencedBackend``, branch review24).

The action is a real one on a real process: ``kill(info, 0)`` (signal 0: the checks of a
signal, no effect) on a ``sleep`` started by the local backend, through a PostgreSQL store that
leads. Variants, alternated per round, medians over rounds:

- ``unfenced``: the action alone (the baseline: a store that never led, or SQLite);
- ``check``: main before this branch, ``SqlStore.leads()`` (one read) then the action;
- ``held``: this branch, ``SqlStore.holding_lead`` (the fence's check in an open transaction)
  around the action, committed after it.

And per stop (branch review25, which holds the fence through a stop's signals, not only checks
before it): the stop's signalling without its grace (an inner backend whose ``stop`` sends signal
0 to the group twice, as the SIGTERM and SIGCONT, through ``send``), on the event loop as the
runners stop replicas:

- ``stop unfenced``: the stop alone;
- ``stop checked``: main before review25, the hold entered and committed, then the stop;
- ``stop held``: review25, the hold around the stop's signals;
- ``stop held+kill``: review25 when the grace runs out: a second hold around the SIGKILL.

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
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _postgres import start_server
from vigil.backends import ProcessInfo, ProcessSpec, Signaller, send_signals
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


class Signals(LocalBackend):
    """A stop's signalling without its grace: signal 0 through ``send`` (as SIGTERM+SIGCONT,
    then, when ``escalate``, as the SIGKILL after the grace)."""

    escalate = False

    async def stop(
        self, info: ProcessInfo, grace: float, *, send: Signaller | None = None
    ) -> int | None:
        await send_signals(self.kill, info, (0, 0), send)
        if self.escalate:
            await send_signals(self.kill, info, (0,), send)
        return None


def timed_async(act: Callable[[], Awaitable[object]], n: int) -> tuple[float, float]:
    """Microseconds of wall and of this process's CPU per awaited call, on one loop."""

    async def run() -> tuple[float, float]:
        for _ in range(n // 10):  # warm
            await act()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            await act()
        return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6

    return asyncio.run(run())


def stops(store: SqlStore, info: ProcessInfo, rounds: int, n: int) -> dict[str, dict[str, float]]:
    """Medians per stop variant (alternated per round)."""
    plain, killing = Signals("fenced-action-bench"), Signals("fenced-action-bench")
    killing.escalate = True
    unfenced = FencedBackend(plain, store=store, hold=None, clock=time.time)
    held = FencedBackend(plain, store=store, hold=store.holding_lead, clock=time.time)
    held_kill = FencedBackend(killing, store=store, hold=store.holding_lead, clock=time.time)

    async def checked() -> None:  # main before review25: checked (entered, committed), then run
        hold = store.holding_lead("replica.stop of replica:bench/0")
        await asyncio.to_thread(hold.__enter__)
        await asyncio.to_thread(hold.__exit__, None, None, None)
        await plain.stop(info, 0.0)

    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "stop unfenced": lambda: unfenced.stop(info, 0.0),
        "stop checked": checked,
        "stop held": lambda: held.stop(info, 0.0),
        "stop held+kill": lambda: held_kill.stop(info, 0.0),
    }
    figures: dict[str, dict[str, list[float]]] = {v: {"wall": [], "cpu": []} for v in variants}
    for r in range(rounds):
        names = list(variants)
        names = names[r % 4 :] + names[: r % 4]
        for name in names:
            wall, cpu = timed_async(variants[name], n)
            figures[name]["wall"].append(wall)
            figures[name]["cpu"].append(cpu)
    return {v: {k: statistics.median(x) for k, x in row.items()} for v, row in figures.items()}


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
            stop_med = stops(store, info, rounds, n // 2)
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
    out.write(f"\nper stop: {rounds} rounds x {n // 2} stops per variant\n\n")
    out.write("| variant | wall µs/stop | client CPU µs/stop | wall ratio | CPU ratio |\n")
    out.write("|---|---|---|---|---|\n")
    checked = stop_med["stop checked"]
    for name, row in stop_med.items():
        out.write(
            f"| {name} | {row['wall']:.1f} | {row['cpu']:.1f} | "
            f"{row['wall'] / checked['wall']:.2f} | {row['cpu'] / checked['cpu']:.2f} |\n"
        )
    out.write("\n")
    out.write(json.dumps({"rounds": rounds, "n": n, "load": load, "baseline": base, **{
        k: v for k, v in med.items() if k != "unfenced"}, "stop_baseline": checked, **{
        k: v for k, v in stop_med.items() if k != "stop checked"}}) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
