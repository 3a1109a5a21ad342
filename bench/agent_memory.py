"""Where a `vigil agent`'s memory goes: RSS and USS after each step of its start, in one process.

    python bench/agent_memory.py                         # this tree, 3 runs per step (median)
    python bench/agent_memory.py --base /tmp/base/src    # and another tree's src, same run
    python bench/agent_memory.py --quick                 # 1 run each (CI keeps it from rotting)

Each run is a fresh interpreter that takes the agent's steps one by one and measures itself
(psutil ``memory_full_info``) after each: the interpreter alone; the command line imported
(``vigil.cli``); the agent and its collectors imported; typer parsing ``vigil agent``'s
options; the host and GPU collectors' first samples; then the agent running: three heartbeats
with their samples POSTed to a real HTTP server on 127.0.0.1 (in the bench process), through
whatever client the tree's agent uses. Heavy packages found loaded at the end are listed.
The baseline is the same steps on ``--base`` (e.g. main: ``git archive main src | tar -x -C
/tmp/base``), measured in the same run. Issue 5's target: < 60 MB RSS. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from _fake_controller import fake_controller
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)
HEAVY = ("pydantic", "vigil.settings", "httpx", "anyio", "prometheus_client", "typer", "rich")
STEPS = """
import asyncio, json, sys
import psutil
me = psutil.Process()
steps = []
def step(name):
    info = me.memory_full_info()
    steps.append((name, info.rss / 1e6, info.uss / 1e6, info.pss / 1e6))
step("interpreter (+ psutil)")
import vigil.cli._app as cli
step("import vigil.cli")
import vigil.agent, vigil.collectors
step("import vigil.agent, vigil.collectors")
import typer.main
group = typer.main.get_command(cli.app)
args = ["--controller", URL, "--name", "n0"]
ctx = group.make_context("vigil", ["agent", *args])
group.get_command(ctx, "agent").make_context("agent", args, parent=ctx)
step("typer parses the agent's options")
from vigil.collectors import GpuCollector, HostCollector
sources = [HostCollector(node="n0"), GpuCollector()]
for source in sources:
    source.collect()
step("first host + GPU samples")
agent = vigil.agent.Agent(URL, "n0", "t" * 24, interval=0.05, metrics=sources, metrics_every=0)
asyncio.run(agent.run(count=3))
assert agent.sent == 3, (agent.sent, agent.failed)
step("3 heartbeats sent (the agent's client)")
print(json.dumps({"steps": steps, "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


def one_run(src: str | None, url: str) -> dict[str, Any]:
    """The steps in a fresh interpreter importing vigil from ``src`` (None: this install)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    if src is not None:
        env["PYTHONPATH"] = src
    code = f"URL = {url!r}\nHEAVY = {HEAVY!r}\n" + STEPS
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"the steps failed ({src or 'this tree'}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per step, the median RSS/USS/PSS over the runs; the heavy packages of the first."""
    names = [s[0] for s in runs[0]["steps"]]
    steps = []
    for i, name in enumerate(names):
        values = [run["steps"][i] for run in runs]
        steps.append(
            {
                "step": name,
                "rss_mb": round(statistics.median(v[1] for v in values), 1),
                "uss_mb": round(statistics.median(v[2] for v in values), 1),
                "pss_mb": round(statistics.median(v[3] for v in values), 1),
            }
        )
    return {"steps": steps, "heavy_loaded": runs[0]["heavy"]}


async def main(base: str | None, runs: int) -> dict[str, Any]:
    with fake_controller(0.05, keep_alive=False) as url:
        trees = {"vigil": None, "baseline": base} if base else {"vigil": None}
        runs_of: dict[str, list[dict[str, Any]]] = {label: [] for label in trees}
        for _ in range(runs):  # the trees alternate run by run: a change of load hits both
            for label, src in trees.items():
                runs_of[label].append(await asyncio.to_thread(one_run, src, url))
        return {label: medians(found) for label, found in runs_of.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run per tree instead of 3")
    parser.add_argument("--base", help="another tree's src/ to measure alongside (e.g. main's)")
    args = parser.parse_args()
    result = asyncio.run(main(args.base, 1 if args.quick else 3))
    table = Table(title="vigil agent: memory after each step of its start (MB, median)")
    table.add_column("step")
    for label in result:
        table.add_column(f"{label} RSS")
        table.add_column(f"{label} USS")
    ours = result["vigil"]["steps"]
    for i, row in enumerate(ours):
        cells = [row["step"]]
        for label in result:
            other = result[label]["steps"][i]
            cells += [f"{other['rss_mb']}", f"{other['uss_mb']}"]
        table.add_row(*cells)
    console.print(table)
    for label in result:
        heavy = ", ".join(result[label]["heavy_loaded"]) or "none"
        console.print(f"{label}: heavy packages loaded at the end: {heavy}")
    last = ours[-1]
    print(
        json.dumps(
            {
                "bench": "agent_memory",
                "vigil": result["vigil"],
                "baseline": result.get("baseline", "none: give --base"),
                "target_rss_lt_60mb": last["rss_mb"] < 60.0,
                "loadavg": Path("/proc/loadavg").read_text().split()[:3],
            }
        )
    )
