"""Collection cost: CPU and memory of `vigil agent` on an idle node at 1 s resolution.

    python bench/agent_cost.py            # 60 s of heartbeats + host metrics every second
    python bench/agent_cost.py --quick    # 15 s (CI keeps the script from rotting)

A controller runs in this process; one real `vigil agent` process sends heartbeats every second
and pushes its host metrics every second; a second one does the same and also follows a log file
(idle after its first 1,000 lines), mining it at the edge and shipping templates every 5 s.
 Its CPU (utime + stime from /proc) over the run and its
RSS at the end are compared with the floor of the same interpreter doing nothing (a Python
process that imports what the agent imports and sleeps), measured in the same run. Issue 5's
targets: < 1 % of a core and < 60 MB RSS. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from vigil.daemon import Controller
from vigil.settings import Settings

console = Console(stderr=True)
IDLE = "import time, psutil, vigil.cli, vigil.agent, vigil.collectors; time.sleep(3600)"
"""The floor: what ``vigil agent`` imports (the command line, the agent, its collectors), idle.
It named httpx until the agent stopped using it (5 Dec), and not the command line."""


def measure(proc: psutil.Process, seconds: float) -> tuple[float, float, float]:
    """(CPU % of one core over ``seconds``, RSS and USS in MB at the end)."""
    before = proc.cpu_times()
    time.sleep(seconds)
    after = proc.cpu_times()
    used = (after.user + after.system) - (before.user + before.system)
    memory = proc.memory_full_info()
    return 100.0 * used / seconds, memory.rss / 1e6, memory.uss / 1e6


async def main(seconds: float) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="vigil-agent-cost-"))
    token = secrets.token_urlsafe(24)
    log_token = secrets.token_urlsafe(24)
    settings = Settings.model_validate(
        {
            "data_dir": str(workdir / "data"),
            "api": {"port": 0},
            "heartbeat": {"interval": 1.0},
            "agents": [{"node": "n0", "token": token}, {"node": "n1", "token": log_token}],
            "nodes": [{"name": "n0"}, {"name": "n1"}],
        }
    )
    ctl = Controller(settings, base_dir=workdir)
    run = asyncio.create_task(ctl.run())
    await asyncio.wait_for(ctl.started.wait(), 30)
    url = f"http://127.0.0.1:{ctl.api_port}"
    argv = [sys.executable, "-m", "vigil", "agent", "--controller", url, "--name", "n0"]
    argv += ["--token", token, "--interval", "1"]
    agent = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    # The same agent also following a log file (idle: the node's log is quiet), shipping its
    # templates every 5 s: what log tailing and edge mining add on an idle node.
    log_file = workdir / "app.log"
    log_file.write_text("".join(f"worker {i} started in {i % 7} ms\n" for i in range(1000)))
    log_argv = [*argv[:7], "n1", "--token", log_token, "--interval", "1", "--log", str(log_file)]
    log_argv += ["--state-dir", str(workdir / "agent-state")]
    log_agent = await asyncio.create_subprocess_exec(
        *log_argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    idle = await asyncio.create_subprocess_exec(sys.executable, "-c", IDLE)
    try:
        await asyncio.sleep(5)  # start-up and imports are not the steady state
        (
            (agent_cpu, agent_rss, agent_uss),
            (log_cpu, log_rss, log_uss),
            (idle_cpu, idle_rss, _),
        ) = await asyncio.gather(
            asyncio.to_thread(measure, psutil.Process(agent.pid), seconds),
            asyncio.to_thread(measure, psutil.Process(log_agent.pid), seconds),
            asyncio.to_thread(measure, psutil.Process(idle.pid), seconds),
        )
        stored = len(ctl.series.series())
        log_lines = sum(t.count for t in ctl.logs.registry.entries())
    finally:
        for proc in (agent, log_agent, idle):
            proc.kill()
            await proc.wait()
        ctl.stop()
        await run
    return {
        "seconds": seconds,
        "agent_cpu_pct_of_core": round(agent_cpu, 3),
        "agent_rss_mb": round(agent_rss, 1),
        "agent_uss_mb": round(agent_uss, 1),
        "series_stored": stored,
        "agent_with_logs_cpu_pct_of_core": round(log_cpu, 3),
        "agent_with_logs_rss_mb": round(log_rss, 1),
        "agent_with_logs_uss_mb": round(log_uss, 1),
        "log_lines_shipped": log_lines,
        "baseline_idle_python_cpu_pct": round(idle_cpu, 3),
        "baseline_idle_python_rss_mb": round(idle_rss, 1),
        "targets_met": {
            "cpu_lt_1pct": agent_cpu < 1.0,
            "rss_lt_60mb": agent_rss < 60.0,
            "with_logs_cpu_lt_1pct": log_cpu < 1.0,
            "with_logs_rss_lt_60mb": log_rss < 60.0,
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s")
    args = parser.parse_args()
    figures = asyncio.run(main(15.0 if args.quick else 60.0))
    table = Table(title="vigil agent at 1 s resolution vs an idle Python process")
    for col in ("process", "CPU % of a core", "RSS MB", "USS MB"):
        table.add_column(col)
    table.add_row(
        "vigil agent (heartbeats + host metrics)",
        f"{figures['agent_cpu_pct_of_core']}",
        f"{figures['agent_rss_mb']}",
        f"{figures['agent_uss_mb']}",
    )
    table.add_row(
        "vigil agent + following an idle log file",
        f"{figures['agent_with_logs_cpu_pct_of_core']}",
        f"{figures['agent_with_logs_rss_mb']}",
        f"{figures['agent_with_logs_uss_mb']}",
    )
    table.add_row(
        "idle Python with the same imports",
        f"{figures['baseline_idle_python_cpu_pct']}",
        f"{figures['baseline_idle_python_rss_mb']}",
        "",
    )
    console.print(table)
    console.print(f"series stored by the controller: {figures['series_stored']}")
    console.print(f"log lines shipped by the second agent: {figures['log_lines_shipped']}")
    print(
        json.dumps(
            {
                "bench": "agent_cost",
                "vigil": figures,
                "baseline": "idle python with the agent's imports",
            }
        )
    )
