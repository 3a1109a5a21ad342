"""``vigil demo``: run the demo fleet, inject the timeline's faults, show each one detected, acted
on and healed (or escalated) live, then print the times and leave nothing running.

Called by the CLI. Everything is real: the controller, three model-server processes, two agent
processes, HTTP probes and heartbeats over loopback, a load generator sending inference requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.table import Table

from vigil.daemon import Controller
from vigil.demo._scenario import SETTLE, TIMELINE, Fault, demo_settings
from vigil.demo._tracker import FaultTracker, LoadStats
from vigil.errors import VigilError
from vigil.model import ReplicaId
from vigil.render import incidents_table, nodes_table, replicas_table
from vigil.render import live as live_view

READY_TIMEOUT = 30.0
FINISH_GRACE = 15.0
"""Seconds the demo keeps watching, past ``--duration``, for the faults it injected to end
(a replica killed at 19 s of a 20 s run is healing, not failed); no new fault is injected."""


def run_demo(console: Console, *, duration: float = 60.0, port: int = 0) -> int:
    """Run the demo; 0 when every fault it injected ended as expected (faults of the timeline
    past ``duration`` are not run, and said so), 1 otherwise (a controller that cannot start,
    e.g. on a ``--port`` in use, is said in one line on stderr)."""
    try:
        return asyncio.run(_Demo(console, duration, port).run())
    except VigilError as exc:
        said = str(exc)
        if said.startswith("api.port: "):  # the demo has no config: the user gave --port
            said = f"--port {port}: " + said.removeprefix("api.port: ").replace(
                "(0 picks a free one)", "(--port 0, the default, picks a free one)"
            )
        Console(stderr=True).print(f"vigil demo: {said}", markup=False, soft_wrap=True)
        return 1


class _Demo:
    def __init__(self, console: Console, duration: float, port: int) -> None:
        self.console = console
        self.duration = duration
        self.workdir = Path(tempfile.mkdtemp(prefix="vigil-demo-"))
        self.token = secrets.token_urlsafe(24)
        self.agent_token = secrets.token_urlsafe(24)
        self.settings = demo_settings(self.workdir, port, self.token, self.agent_token)
        self.controller = Controller(self.settings, base_dir=self.workdir)
        self.agents: dict[str, asyncio.subprocess.Process] = {}
        self.tracker = FaultTracker()
        self.load = LoadStats()
        self.stop = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        # SIGTERM (kill, timeout, a service manager) and SIGHUP (the terminal closed) too: by
        # default they ended the process at once, and the replicas, the agents and the data
        # directory outlived it
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stop.set)
        ctl = asyncio.create_task(self.controller.run())
        try:
            # the controller's task too: one that fails to start (its API port in use) ends
            # the wait at once, and _teardown raises its error
            started = asyncio.create_task(self.controller.started.wait())
            await asyncio.wait(
                [ctl, started], timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            started.cancel()
            if not self.controller.started.is_set():
                if ctl.done():
                    return 1  # _teardown (below) raises the controller's error
                raise VigilError(f"the controller did not start within {READY_TIMEOUT:g} s")
            self.url = f"http://127.0.0.1:{self.controller.api_port}"
            self.console.print(
                f"[bold]vigil demo[/bold]: controller on {self.url}, 3 model-server replicas "
                f"behind the balancer on port {self.controller.balancers.ports['llm']}, "
                f"2 agents; data in {self.workdir}"
            )
            # one unwrapped line, so a terminal keeps the link whole; the token is the demo's own
            self.console.print(
                "[bold]dashboard[/bold] (live while the demo runs): "
                f"{self.url}/ui/#token={self.token}",
                soft_wrap=True,
                highlight=False,
            )
            for node in ("gpu-a", "gpu-b"):
                await self._start_agent(node)
            await self._wait_ready()
            ok = await self._play()
        finally:
            await self._teardown(ctl)
        self.console.print(self._summary())
        self.console.print(f"{self.tracker.verdict()}; load: {self.load.line()}")
        return 0 if ok else 1

    async def _play(self) -> bool:
        sub = self.controller.bus.subscribe("demo")
        watcher = asyncio.create_task(self.tracker.follow(sub))
        loader = asyncio.create_task(self.load.run(self.controller, self.stop))
        t0 = time.time()
        end = t0 + min(self.duration, TIMELINE[-1].at + SETTLE)
        pending = list(TIMELINE)
        with live_view(self._view(t0), self.console, refresh_per_second=4) as live:
            while not self.stop.is_set() and time.time() < end:
                while pending and time.time() - t0 >= pending[0].at:
                    await self._inject(pending.pop(0))
                live.update(self._view(t0))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 0.25)
            # the time is up: what was injected may still be healing (not on Ctrl-C)
            grace = time.time() + FINISH_GRACE
            while not self.stop.is_set() and self.tracker.waiting() and time.time() < grace:
                live.update(self._view(t0))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 0.25)
            live.update(self._view(t0))
        self.stop.set()
        sub.close()
        await asyncio.gather(watcher, loader, return_exceptions=True)
        self.tracker.skipped(pending)  # never injected: not run, not failed
        return self.tracker.all_as_expected()

    async def _inject(self, fault: Fault) -> None:
        self.tracker.injected(fault, time.time())
        runner = self.controller.runners.get(ReplicaId(fault.target))
        pid = runner.info.pid if runner and runner.info else None
        if fault.kind == "kill" and pid:
            os.kill(pid, signal.SIGKILL)
        elif fault.kind == "hang" and pid:
            os.kill(pid, signal.SIGSTOP)
        elif fault.kind == "crash_loop" and pid and runner:
            (self.workdir / f"poison-{runner.plan.index}").touch()
            os.kill(pid, signal.SIGKILL)
        elif fault.kind == "fix_crash_loop" and runner:
            (self.workdir / f"poison-{runner.plan.index}").unlink(missing_ok=True)
            service, index = fault.target.split("/")
            async with httpx.AsyncClient() as client:
                await client.post(
                    f"{self.url}/api/v1/replicas/{service}/{index}/restart",
                    headers={"Authorization": f"Bearer {self.token}"},
                    json={"reason": "demo: bad build removed, retry"},
                )
        elif fault.kind == "agent_down":
            proc = self.agents.pop(fault.target, None)
            if proc:
                proc.kill()
                await proc.wait()
        elif fault.kind == "agent_up":
            await self._start_agent(fault.target)

    async def _start_agent(self, node: str) -> None:
        self.agents[node] = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vigil",
            "agent",
            "--controller",
            self.url,
            "--name",
            node,
            "--token",
            self.agent_token,
            "--interval",
            "0.5",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )

    async def _wait_ready(self) -> None:
        deadline = time.time() + READY_TIMEOUT
        while time.time() < deadline:
            ready = len(self.controller.healthy_replicas("llm")) == 3
            # the monitor's statuses: the agents' heartbeats (the listing shows a node on this
            # host up without an agent, and gpu-a / gpu-b are at 127.0.0.1)
            beats = self.controller.monitor.nodes()
            up = all(n.status.value == "up" for n in beats if n.name != "local")
            if ready and up:
                return
            await asyncio.sleep(0.1)
        raise VigilError(
            f"the demo fleet (3 replicas ready, 2 agents up) was not ready "
            f"within {READY_TIMEOUT:g} s"
        )

    async def _teardown(self, ctl: asyncio.Task[None]) -> None:
        try:
            for proc in self.agents.values():
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            for runner in self.controller.runners.values():  # a hung replica must be able to stop
                if runner.info:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(runner.info.pid, signal.SIGCONT)
            self.controller.stop()
            await ctl  # raises the controller's error, if it failed
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _view(self, t0: float) -> Group:
        ctl = self.controller
        now = time.time()
        replicas = [_plain(r) for r in ctl.replicas()]
        nodes = [
            {
                "name": n.name,
                "status": n.status.value,
                "phi": n.phi,
                "last_heartbeat": n.last_heartbeat,
            }
            for n in ctl.nodes()
            if n.name != "local"
        ]
        incidents = [_plain(i) for i in ctl.store.list_incidents(limit=6).items]
        header = f"[bold]t = {now - t0:5.1f}s[/bold]   load: {self.load.line()}"
        return Group(
            header,
            self.tracker.table(now),
            replicas_table(replicas),
            nodes_table(nodes),
            incidents_table(incidents, title="Latest incidents"),
        )

    def _summary(self) -> Table:
        return self.tracker.table(
            time.time(),
            title="Demo summary: fault → detected → acted → outcome (seconds after injection)",
        )


def _plain(obj: Any) -> dict[str, Any]:
    """A model dataclass as the API would show it: enums as their values."""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in asdict(obj).items()}
