"""Healing benchmark: how fast Vigil detects and heals a killed replica, a hung replica and a lost
node, with real processes, real probes and real agents, against Kubernetes' default timings.

    python bench/heal.py            # 20 trials per fault + a 5-minute jittered-heartbeat soak
    python bench/heal.py --quick    # 3 trials + 20 s soak (CI keeps the script from rotting)

Prints a table, then one JSON line with the figures and the baseline's (Kubernetes defaults).
The controller runs in this process (so event times are exact); replicas and agents are real
child processes talking HTTP over loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from vigil.daemon import Controller
from vigil.model import (
    Event,
    Health,
    HealthChanged,
    IncidentChanged,
    IncidentState,
    NodeStatus,
    NodeStatusChanged,
    ProbeKind,
    ReplicaExited,
    ReplicaStarted,
)
from vigil.settings import Settings

console = Console(stderr=True)

# Kubernetes defaults for the same faults (kubelet / kube-controller-manager, documented defaults):
K8S = {
    "kill_restart_first_s": 0.0,  # first restart at once (PLEG relist: up to 1 s to notice)
    "kill_notice_s": 1.0,  # PLEG relist period
    "crashloop_backoff_s": "10 s doubling to 300 s",
    "hang_detect_s": 30.0,  # liveness periodSeconds 10 x failureThreshold 3
    "node_down_s": 40.0,  # node-monitor-grace-period
}


def settings_for(workdir: Path, token: str, agents: int) -> Settings:
    server = [
        sys.executable,
        "-m",
        "vigil.demo.model_server",
        "--port",
        "{port}",
        "--load-time",
        "0",
    ]
    return Settings.model_validate(
        {
            "data_dir": str(workdir / "data"),
            "api": {"port": 0},
            "heartbeat": {"interval": 0.5},
            "agents": [{"node": f"n{i}", "token": token} for i in range(agents)],
            "nodes": [{"name": "local"}] + [{"name": f"n{i}"} for i in range(agents)],
            "services": [
                {
                    "name": "bench",
                    "command": server,
                    "replicas": 2,
                    "stop_grace": 2,
                    # the issue's setting: liveness every 0.5 s; readiness polled faster so "healthy
                    # again" measures the restart, not the probe period
                    "liveness": {
                        "http": {"path": "/healthz"},
                        "interval": 0.5,
                        "timeout": 0.5,
                        "failure_threshold": 2,
                    },
                    "readiness": {
                        "http": {"path": "/ready"},
                        "interval": 0.05,
                        "timeout": 0.5,
                        "failure_threshold": 1,
                    },
                    # each trial measures a first restart (no backoff streak between trials)
                    "restart": {
                        "backoff_reset": 1.0,
                        "crash_loop": {"max_restarts": 1000, "window": 60},
                    },
                    # 40 restarts in a few minutes: past the default rate limit (30 per 10 min)
                    "remediation": {"rate_limit": {"actions": 1000, "window": 60}},
                }
            ],
        }
    )


class Recorder:
    """Waits for the first bus event matching a predicate after a moment."""

    def __init__(self, controller: Controller) -> None:
        self.sub = controller.bus.subscribe("bench")
        self.events: list[Event] = []

    async def wait_for(self, pred: Callable[[Event], bool], limit: float = 30.0) -> Event:
        deadline = time.monotonic() + limit
        while True:
            for i, event in enumerate(self.events):
                if pred(event):
                    del self.events[: i + 1]
                    return event
            self.events.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("event did not arrive")
            event_or_none = await asyncio.wait_for(self.sub.get(), remaining)
            if event_or_none is not None:
                self.events.append(event_or_none)


def resolved(subject: str) -> Callable[[Event], bool]:
    return lambda e: (
        isinstance(e, IncidentChanged)
        and e.incident.subject == subject
        and e.incident.state == IncidentState.RESOLVED
    )


async def replica_trials(
    ctl: Controller, rec: Recorder, fault: str, trials: int, progress: Progress
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"detect": [], "healthy": [], "spawn": [], "own_start": []}
    task = progress.add_task(f"{fault} trials", total=trials)
    runner = next(iter(ctl.runners.values()))
    subject = runner.subject
    for _ in range(trials):
        await settle(ctl)
        assert runner.info is not None
        pid = runner.info.pid
        t0 = time.time()
        os.kill(pid, signal.SIGKILL if fault == "kill" else signal.SIGSTOP)
        if fault == "kill":
            seen = await rec.wait_for(
                lambda e, pid=pid: isinstance(e, ReplicaExited) and e.pid == pid
            )
        else:  # the liveness verdict (hung), not the readiness one that usually comes first
            seen = await rec.wait_for(
                lambda e: (
                    isinstance(e, HealthChanged)
                    and e.subject == subject
                    and e.probe == ProbeKind.LIVENESS
                    and not e.healthy
                )
            )
        started = await rec.wait_for(
            lambda e: isinstance(e, ReplicaStarted) and e.subject == subject
        )
        healed = await rec.wait_for(resolved(subject))
        out["detect"].append(seen.at - t0)
        out["spawn"].append(started.at - t0)
        out["healthy"].append(healed.at - t0)
        out["own_start"].append(healed.at - started.at)
        progress.advance(task)
    return out


async def settle(ctl: Controller) -> None:
    """Wait until every replica is running, live and ready (a fault injected into a replica that
    has not passed liveness yet is a start-up hang, judged by start_timeout instead)."""
    while not all(  # noqa: ASYNC110 (polls the controller's state)
        r.live == Health.HEALTHY and r.ready == Health.HEALTHY for r in ctl.replicas("bench")
    ):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)  # > backoff_reset: each trial is a first restart


async def spawn_agent(url: str, node: str, token: str, jitter: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vigil",
        "agent",
        "--controller",
        url,
        "--name",
        node,
        "--token",
        token,
        "--interval",
        "0.5",
        "--jitter",
        str(jitter),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )


async def agent_trials(
    ctl: Controller, rec: Recorder, url: str, token: str, trials: int, progress: Progress
) -> list[float]:
    out = []
    task = progress.add_task("agent-kill trials", total=trials)
    for _ in range(trials):
        proc = await spawn_agent(url, "n0", token, 0.0)
        await rec.wait_for(
            lambda e: isinstance(e, NodeStatusChanged) and e.node == "n0" and e.new == NodeStatus.UP
        )
        await asyncio.sleep(3.0)  # a few heartbeats of history
        t0 = time.time()
        proc.kill()
        await proc.wait()
        down = await rec.wait_for(
            lambda e: (
                isinstance(e, NodeStatusChanged) and e.node == "n0" and e.new == NodeStatus.DOWN
            )
        )
        out.append(down.at - t0)
        progress.advance(task)
    return out


async def soak(
    ctl: Controller,
    rec: Recorder,
    url: str,
    token: str,
    seconds: float,
    agents: int,
    progress: Progress,
) -> int:
    """Agents with heartbeats delayed by up to ±50% of the interval: count false Suspect/Down."""
    procs = [await spawn_agent(url, f"n{i}", token, 0.5) for i in range(agents)]
    await asyncio.sleep(2.0)
    rec.events.clear()
    false_alarms = 0
    task = progress.add_task(f"soak: {agents} jittered agents", total=seconds)
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            event = await asyncio.wait_for(rec.sub.get(), min(left, 1.0))
        except TimeoutError:
            event = None
        if isinstance(event, NodeStatusChanged) and event.new in (
            NodeStatus.SUSPECT,
            NodeStatus.DOWN,
        ):
            false_alarms += 1
        progress.update(task, completed=seconds - max(0.0, end - time.monotonic()))
    for proc in procs:
        proc.kill()
        await proc.wait()
    return false_alarms


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(trials: int, soak_s: float) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    token = secrets.token_urlsafe(24)
    agents = 4
    ctl = Controller(settings_for(workdir, token, agents), base_dir=workdir)
    run = asyncio.create_task(ctl.run())
    await asyncio.wait_for(ctl.started.wait(), 30)
    url = f"http://127.0.0.1:{ctl.api_port}"
    rec = Recorder(ctl)
    try:
        with Progress(console=console, transient=True) as progress:
            kill = await replica_trials(ctl, rec, "kill", trials, progress)
            hang = await replica_trials(ctl, rec, "hang", trials, progress)
            node = await agent_trials(ctl, rec, url, token, trials, progress)
            false_alarms = await soak(ctl, rec, url, token, soak_s, agents, progress)
    finally:
        ctl.stop()
        await run
    figures: dict[str, object] = {
        "trials": trials,
        "soak_seconds": soak_s,
        "soak_agents": agents,
        "false_suspect_or_down": false_alarms,
    }
    for name, series in (("kill", kill), ("hang", hang)):
        for key, values in series.items():
            figures[f"{name}_{key}_p50"] = round(statistics.median(values), 4)
            figures[f"{name}_{key}_p95"] = round(pct(values, 0.95), 4)
    figures["node_down_p50"] = round(statistics.median(node), 4)
    figures["node_down_p95"] = round(pct(node, 0.95), 4)
    return figures


def show(figures: dict[str, object]) -> None:
    table = Table(title="Vigil healing vs Kubernetes defaults (seconds after the fault)")
    for col in ("fault", "measure", "Vigil p50", "Vigil p95", "Kubernetes default"):
        table.add_column(col)
    rows = [
        ("kill -9", "detected", "kill_detect", f"≤ {K8S['kill_notice_s']} (PLEG relist)"),
        (
            "kill -9",
            "restarted (spawned)",
            "kill_spawn",
            f"at once on the 1st crash, then {K8S['crashloop_backoff_s']}",
        ),
        ("kill -9", "healthy again", "kill_healthy", "-"),
        ("kill -9", "of which replica start", "kill_own_start", "-"),
        ("SIGSTOP", "detected (hung)", "hang_detect", f"{K8S['hang_detect_s']}"),
        ("SIGSTOP", "healthy again", "hang_healthy", "-"),
    ]
    for fault, measure, key, k8s in rows:
        table.add_row(
            fault, measure, f"{figures[key + '_p50']:.3f}", f"{figures[key + '_p95']:.3f}", k8s
        )
    table.add_row(
        "agent kill -9",
        "node Down",
        f"{figures['node_down_p50']:.3f}",
        f"{figures['node_down_p95']:.3f}",
        f"{K8S['node_down_s']}",
    )
    console.print(table)
    console.print(
        f"false Suspect/Down over {figures['soak_seconds']:.0f} s with "
        f"{figures['soak_agents']} agents jittered ±50%: {figures['false_suspect_or_down']}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 trials and a 20 s soak")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--soak", type=float, default=300.0, help="seconds of jittered heartbeats")
    args = parser.parse_args()
    trials, soak_s = (3, 20.0) if args.quick else (args.trials, args.soak)
    result = asyncio.run(main(trials, soak_s))
    show(result)
    print(json.dumps({"bench": "heal", "vigil": result, "baseline": {"kubernetes_defaults": K8S}}))
