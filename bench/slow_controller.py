"""A controller stopped for a few seconds and its agents: do they bury it when it comes back?

    python bench/slow_controller.py --base /tmp/base    # main's export, then this tree
    python bench/slow_controller.py --base-rev 4575df0   # the same, the export made with git
    python bench/slow_controller.py --quick              # 4 agents, short phases, for CI

A real :class:`vigil.daemon.Controller` runs in a worker process (heartbeat interval 0.2 s,
acceptable pause 0.6 s, as ``tests/daemon/test_agents.py``); ``--agents`` real
:class:`vigil.agent.Agent` objects (their own HTTP client, 50 host samples each per interval)
run in a second worker process, each with a wrapper around its client that records every
heartbeat (samples carried, answer or failure, latency, samples refused). After ``--warm``
seconds the controller is SIGSTOPped for ``--stall`` seconds, then SIGCONTed, and watched for
``--after`` seconds. Both workers run the code on ``PYTHONPATH`` (``--base`` for the baseline,
``src/`` of this tree after it, same run; with ``--base``, a third run pairs this tree's controller
with the baseline's agents: the stop's fix alone). Printed per run: the largest request and mean
samples per request after the stall, samples refused (before 2 Dec, fourth session, the resends of
samples stored already: "not newer than the last one"), failed heartbeats after the stall,
heartbeat latency p50 / p99 after it, seconds until every agent's backlog is empty, the seconds the
controller took to stop (told to 2 s before the agents end, so under their load) and the node
status changes after the stall (a node that flaps to Suspect once the controller runs again).
``BENCH_LOG=1`` prints how long uvicorn's main loop, its shutdown and ``ApiServer.stop`` took. Ends
with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOKEN = "bench-admin-token-0123456789"
SERIES = 50


def tokens(n: int) -> dict[str, str]:
    return {f"n{i}": f"agent-n{i}-token-0123456789abcdef" for i in range(n)}


def timed(cls: Any, name: str) -> None:
    """Print on stderr how long each call of ``cls.name`` (a coroutine method) took."""
    inner = getattr(cls, name)

    async def wrapper(*args: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return await inner(*args, **kw)
        finally:
            took = time.perf_counter() - started
            sys.stderr.write(f"{time.strftime('%X')} {cls.__name__}.{name}: {took:.2f}s\n")

    setattr(cls, name, wrapper)


async def controller_worker(agents: int, interval: float) -> None:
    """Run a controller; print its port; on stdin's end print its node status changes."""
    sys.path.insert(0, str(HERE))
    from _against import running_controller

    from vigil.model import NodeStatusChanged

    config = {
        "heartbeat": {"interval": interval, "acceptable_pause": 3 * interval},
        "agents": [{"node": n, "token": t} for n, t in tokens(agents).items()],
        "nodes": [{"name": "local"}]
        + [{"name": n, "address": f"192.0.2.{i + 1}"} for i, n in enumerate(tokens(agents))],
    }
    admin = {"name": "root", "role": "admin", "token": TOKEN}
    if os.environ.get("BENCH_LOG"):  # the controller's log with times, on stderr
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        timed(__import__("vigil.daemon._server").daemon._server.ApiServer, "stop")
        timed(__import__("uvicorn").Server, "shutdown")
        timed(__import__("uvicorn").Server, "main_loop")
    with tempfile.TemporaryDirectory() as tmp:
        async with running_controller(Path(tmp), admin, **config) as controller:
            sub = controller.bus.subscribe("bench")
            changes: list[dict[str, Any]] = []
            print(json.dumps({"port": controller.api_port}), flush=True)
            done = asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            while not done.done():
                while (event := sub.get_nowait()) is not None:
                    if isinstance(event, NodeStatusChanged):
                        changes.append(
                            {
                                "at": time.time(),
                                "node": event.node,
                                "old": str(event.old),
                                "new": str(event.new),
                            }
                        )
                await asyncio.sleep(0.05)
            started = time.perf_counter()  # leaving the block stops it, the agents sending
        stop_s = time.perf_counter() - started  # the time to stop under load
        print(json.dumps({"changes": changes, "stop_s": round(stop_s, 2)}), flush=True)


class Recorder:
    """Wraps an agent's client: one record per heartbeat."""

    def __init__(self, client: Any, records: list[dict[str, Any]], agent: Any) -> None:
        self.client = client
        self.records = records
        self.agent = agent

    async def post(self, url: str, **kw: Any) -> Any:
        if not url.endswith("/heartbeats"):
            return await self.client.post(url, **kw)
        import gzip

        body = kw.get("content") or b""
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        carried = len(json.loads(body).get("samples", []))
        record: dict[str, Any] = {"at": time.time(), "samples": carried}
        self.records.append(record)
        started = time.perf_counter()
        try:
            resp = await self.client.post(url, **kw)
        except Exception:
            record["failed"] = True
            record["latency"] = time.perf_counter() - started
            raise
        record["latency"] = time.perf_counter() - started
        record["status"] = resp.status_code
        if resp.status_code == 200:
            record["rejected"] = resp.json().get("samples_rejected", 0)
        return resp


async def agents_worker(port: int, agents: int, seconds: float) -> None:
    """Run ``agents`` agents for ``seconds``; print every heartbeat's record and backlog."""
    from vigil._agent_http import agent_client
    from vigil.agent import Agent
    from vigil.collectors import Sample

    class Host:
        def collect(self) -> list[Sample]:
            now = time.time()
            return [Sample(f"bench_m{i}", {}, float(i), now) for i in range(SERIES)]

    records: dict[str, list[dict[str, Any]]] = {}
    backlog: dict[str, list[tuple[float, int]]] = {}

    async def one(name: str, token: str) -> None:
        agent = Agent(
            f"http://127.0.0.1:{port}",
            name,
            token,
            interval=0.2,
            metrics=[Host()],
            metrics_every=0.2,
            seed=hash(name) & 0xFFFF,
        )
        records[name] = []
        backlog[name] = []
        async with agent_client() as client:
            rec = Recorder(client, records[name], agent)
            end = time.monotonic() + seconds
            seq = 0
            start = time.monotonic()
            while time.monotonic() < end:
                await asyncio.sleep(max(0.0, start + seq * agent.interval - time.monotonic()))
                await agent.beat(rec, seq)
                backlog[name].append((time.time(), agent.buffered))
                seq += 1

    await asyncio.gather(*(one(n, t) for n, t in tokens(agents).items()))
    print(json.dumps({"records": records, "backlog": backlog}))


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def scenario(src: Path, agents_src: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    agents_env = {**os.environ, "PYTHONPATH": str(agents_src)}
    me = [sys.executable, __file__]
    ctl = subprocess.Popen(
        [*me, "--controller-worker", "--agents", str(args.agents)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert ctl.stdout is not None and ctl.stdin is not None
    port = json.loads(ctl.stdout.readline())["port"]
    total = args.warm + args.stall + args.after
    ag = subprocess.Popen(
        [*me, "--agents-worker", str(port), "--seconds", str(total), "--agents", str(args.agents)],
        stdout=subprocess.PIPE,
        env=agents_env,
        text=True,
    )
    time.sleep(args.warm)
    stopped = time.time()
    os.kill(ctl.pid, signal.SIGSTOP)
    time.sleep(args.stall)
    os.kill(ctl.pid, signal.SIGCONT)
    resumed = time.time()
    time.sleep(args.after - 2.0)
    ctl.stdin.write("stop\n")  # two seconds before the agents end: a stop under their load
    ctl.stdin.flush()
    ended = json.loads(ctl.stdout.readline())
    changes = ended["changes"]
    ctl.stdin.close()
    ctl.wait(timeout=60)
    out, _ = ag.communicate(timeout=total + 120)
    data = json.loads(out)
    after = [r for rs in data["records"].values() for r in rs if r["at"] >= resumed]
    empty_at = []
    for points in data["backlog"].values():
        late = [t for t, n in points if t >= resumed and n == 0]
        empty_at.append(late[0] - resumed if late else float("inf"))
    return {
        "max_samples": max((r["samples"] for r in after), default=0),
        "mean_samples": round(sum(r["samples"] for r in after) / max(1, len(after)), 1),
        "refused": sum(r.get("rejected", 0) for r in after),
        "failed_after": sum(1 for r in after if r.get("failed") or r.get("status") != 200),
        "beats_after": len(after),
        "p50_ms": round(1000 * pct([r["latency"] for r in after], 0.5), 1),
        "p99_ms": round(1000 * pct([r["latency"] for r in after], 0.99), 1),
        "drained_s": round(max(empty_at), 2),
        "stop_s": ended["stop_s"],
        "changes_during": sum(1 for c in changes if stopped <= c["at"] < resumed + 1),
        "changes_after": [
            f"{c['node']} {c['old']}->{c['new']}" for c in changes if c["at"] >= resumed + 1
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="an export of the baseline (its src/ is used)")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--base-only", action="store_true", help="run the baseline only")
    parser.add_argument("--warm", type=float, default=5.0)
    parser.add_argument("--stall", type=float, default=4.0)
    parser.add_argument("--after", type=float, default=20.0)
    parser.add_argument(
        "--base-rev",
        help="a git revision to export as the baseline (default with --quick: 4575df0, the "
        "commit before the agents' backoff and the bounded stop)",
    )
    parser.add_argument("--quick", action="store_true", help="4 agents, 2 s phases (CI)")
    parser.add_argument("--controller-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--agents-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.controller_worker:
        asyncio.run(controller_worker(args.agents, 0.2))
        return
    if args.agents_worker:
        asyncio.run(agents_worker(args.agents_worker, args.agents, args.seconds))
        return
    if args.quick:
        args.agents, args.warm, args.stall, args.after = 4, 2.0, 2.0, 4.0
        args.base_rev = args.base_rev or QUICK_BASE
    with tempfile.TemporaryDirectory() as tmp:
        if args.base is None and args.base_rev:
            args.base = export(args.base_rev, Path(tmp))
        run(args)


QUICK_BASE = "4575df0"
"""The commit before ``teardown31`` (agents' backoff, the bounded stop): the baseline."""


def export(rev: str, into: Path) -> Path | None:
    """``rev``'s ``src/`` exported under ``into`` with ``git archive``; None (this tree only,
    said on stderr) when the checkout has no such commit (a shallow clone)."""
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", rev, "src"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        sys.stderr.write(f"no baseline: git archive {rev} failed: {archive.stderr.decode()}\n")
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def run(args: argparse.Namespace) -> None:
    """Each code's scenario, then the JSON line."""
    rows = {}
    here = HERE.parent / "src"
    codes = ([("base", args.base / "src")] if args.base else []) + (
        [] if args.base_only else [("branch", HERE.parent / "src")]
    )
    for label, src in codes:
        rows[label] = scenario(src, src, args)
        sys.stderr.write(f"{label}: {json.dumps(rows[label])}\n")
    if args.base and not args.base_only:  # the stop's fix alone: main's agents, this controller
        label = "branch_controller_main_agents"
        rows[label] = scenario(here, args.base / "src", args)
        sys.stderr.write(f"{label}: {json.dumps(rows[label])}\n")
    sys.stdout.write(
        json.dumps(
            {
                "bench": "slow_controller",
                "load": os.getloadavg(),
                "baseline": args.base_rev or (str(args.base) if args.base else None),
                "stall_s": args.stall,
                "agents": args.agents,
                "rows": rows,
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
