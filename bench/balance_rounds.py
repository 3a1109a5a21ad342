"""Balancer latency at c1 and CPU per request at c50, in alternated rounds against HAProxy.

    python bench/balance_rounds.py                  # 8 rounds, 3 s per wrk run
    python bench/balance_rounds.py --quick          # 2 rounds, 1 s per run (CI)
    python bench/balance_rounds.py --baseline-src /tmp/base/src   # and another Vigil build

The c1 p50 of this VM is bimodal from run to run for every server alike (HAProxy answered at
30 µs in one run of ``balance_overhead.py`` and at 107 µs in the next, section "Runs after the
merges of 1 Dec" of docs/benchmarks.md), so one run of each server one after the other cannot
place the added latency. Here every server runs for the whole bench and each round measures
each of them once, in an order rotated from round to round (``wrk -t1 -c1`` for the p50, then
``-c50`` for the CPU per request: utime + stime of the server's processes over its requests).
The figure is the **median over rounds of the paired difference** (Vigil's c1 p50 minus
HAProxy's in the same round), as ``balance_stream.py`` does for the first event: a change of the
machine's state between rounds moves both sides of a pair. On a loaded machine the mode flips
from one wrk run to the next even within a round (each run's p50 is either ~30 µs or ~100 µs,
for HAProxy and Vigil alike: how soon the woken process gets a core), so the best round of each
(``c1_p50_added_us_best``: each side's lowest p50, the runs no other process got in the way) is
printed too.

Servers: the backend directly (nginx ``return 200``), HAProxy ``nbthread 1`` round robin over
two such backends, Vigil round robin in one process (uvloop, as ``balance_overhead.py``
configures it) from this checkout, and with ``--baseline-src DIR`` a second Vigil whose
``vigil`` package is imported from ``DIR`` (an export of another commit, compiled there with
``VIGIL_MYPYC=1 python setup.py build_ext --inplace`` for a like-for-like comparison). Each
Vigil runs in its own process started as ``python bench/balance_rounds.py --serve ...`` with
``PYTHONPATH`` on its source tree. Needs ``haproxy``, ``nginx`` and ``wrk`` (exit 2 naming what is
missing). Prints a table per round, the medians, then ONE JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from balance_overhead import (
    check_tools,
    cpu_seconds,
    raise_nofile,
    round_robin_proxy,
    start_haproxy,
    start_ok_backends,
    wait_port,
    wrk,
)

from vigil.backends import free_port

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def serve(port: int, backends: list[int], policy: str) -> None:
    """The ``--serve`` child: one Vigil proxy on uvloop until SIGTERM, its garbage collector
    settled once it listens as a ``vigil balance`` worker's is; prints its build first."""
    import uvloop

    import vigil
    from vigil.balancer._proxy_workers import settle_gc
    from vigil.balancer._pure import build

    async def main() -> None:
        proxy = round_robin_proxy(backends, policy)
        await proxy.start("127.0.0.1", port)
        settle_gc()
        print(json.dumps({"vigil": str(Path(vigil.__file__).parent), "build": build()}), flush=True)
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        await stop
        await proxy.stop(0.5)

    uvloop.run(main())


def start_vigil(src: Path, backends: list[int], policy: str) -> tuple[subprocess.Popen[str], int]:
    """A ``--serve`` child importing ``vigil`` from ``src``; returns it once it listens."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
    env.pop("VIGIL_PURE_PYTHON", None)
    args = [sys.executable, __file__, "--serve", str(port), *map(str, backends), "--policy", policy]
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.kill()
        sys.exit(f"bench/balance_rounds.py: the Vigil of {src} did not start")
    info = json.loads(line)
    if not info["vigil"].startswith(str(src.resolve())):
        child.kill()
        sys.exit(f"bench/balance_rounds.py: {src} is not the vigil imported ({info['vigil']})")
    print(f"vigil from {info['vigil']} ({info['build']})", flush=True)
    wait_port(port)
    return child, port


def one_round(
    order: list[str], servers: dict[str, tuple[int, list[int]]], seconds: float
) -> dict[str, dict[str, float]]:
    """Each server once, in ``order``: c1 p50 and, for those with pids, CPU per request at c50."""
    out: dict[str, dict[str, float]] = {}
    for name in order:
        port, pids = servers[name]
        c1 = wrk(port, 1, seconds)
        before = cpu_seconds(pids) if pids else 0.0
        c50 = wrk(port, 50, seconds)
        row = {
            "c1_p50_us": c1["p50_us"],
            "c1_rps": c1["rps"],
            "c50_rps": c50["rps"],
            "errors": c1["errors"] + c50["errors"],
        }
        if pids:
            row["cpu_us_per_req"] = (cpu_seconds(pids) - before) / max(c50["requests"], 1) * 1e6
        out[name] = row
    return out


def summarize(rounds: list[dict[str, dict[str, float]]], names: list[str]) -> dict[str, Any]:
    """Medians per server, and per Vigil the paired differences / ratios against HAProxy."""
    summary: dict[str, Any] = {}
    for name in names:
        rows = [r[name] for r in rounds]
        entry: dict[str, Any] = {
            "c1_p50_us_median": statistics.median(x["c1_p50_us"] for x in rows),
            "c1_p50_us_min": min(x["c1_p50_us"] for x in rows),
            "c50_rps_median": statistics.median(x["c50_rps"] for x in rows),
            "errors": sum(x["errors"] for x in rows),
        }
        if "cpu_us_per_req" in rows[0]:
            entry["cpu_us_per_req_median"] = statistics.median(x["cpu_us_per_req"] for x in rows)
        if name.startswith("vigil"):
            added = [r[name]["c1_p50_us"] - r["haproxy"]["c1_p50_us"] for r in rounds]
            cpu = [r[name]["cpu_us_per_req"] / r["haproxy"]["cpu_us_per_req"] for r in rounds]
            rps = [r[name]["c50_rps"] / r["haproxy"]["c50_rps"] for r in rounds]
            entry["c1_p50_added_us_paired"] = added
            entry["c1_p50_added_us_median"] = statistics.median(added)
            # the runs in which nothing else woke first: each side's best round
            entry["c1_p50_added_us_best"] = entry["c1_p50_us_min"] - min(
                r["haproxy"]["c1_p50_us"] for r in rounds
            )
            entry["cpu_vs_haproxy_median"] = statistics.median(cpu)
            entry["rps_c50_vs_haproxy_median"] = statistics.median(rps)
        summary[name] = entry
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1 s runs")
    parser.add_argument("--rounds", type=int, default=8, help="rounds (default 8)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--policy", default="round_robin", help="Vigil's balancing policy")
    parser.add_argument(
        "--baseline-src", type=Path, metavar="DIR", help="also a Vigil imported from DIR"
    )
    parser.add_argument("--serve", nargs="+", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1:], args.policy)
        return 0
    if args.baseline_src is not None and not (args.baseline_src / "vigil").is_dir():
        parser.error(f"--baseline-src {args.baseline_src}: no vigil package there (want src/)")
    check_tools(["haproxy", "nginx", "wrk"])
    raise_nofile()
    rounds, seconds = (2, 1.0) if args.quick else (args.rounds, args.seconds)
    load = os.getloadavg()
    print(f"cpus {os.cpu_count()}, load {load[0]:.1f}, {rounds} rounds, {seconds:g} s per run")
    children: list[subprocess.Popen[Any]] = []
    results: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="vigil-rounds-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            nginx, backends = start_ok_backends(tmp)
            children.append(nginx)
            servers: dict[str, tuple[int, list[int]]] = {"direct": (backends[0], [])}
            hport = free_port()
            children.append(start_haproxy(tmp, hport, backends))
            wait_port(hport)
            servers["haproxy"] = (hport, [children[-1].pid])
            vigils = [("vigil", SRC)]
            if args.baseline_src is not None:
                vigils.append(("vigil_base", args.baseline_src))
            for name, src in vigils:
                child, port = start_vigil(src, backends, args.policy)
                children.append(child)
                servers[name] = (port, [child.pid])
            names = list(servers)
            for port, _ in servers.values():
                wrk(port, 50, 1.0)  # warm up: connections, pools, caches
            for i in range(rounds):
                order = names[i % len(names) :] + names[: i % len(names)]
                if i % 2:
                    order.reverse()
                row = one_round(order, servers, seconds)
                results.append(row)
                print(
                    f"round {i + 1} (load {os.getloadavg()[0]:.1f}) "
                    + "  ".join(
                        f"{n} {row[n]['c1_p50_us']:.0f} us"
                        + (f"/{row[n]['cpu_us_per_req']:.1f}" if "cpu_us_per_req" in row[n] else "")
                        for n in names
                    ),
                    flush=True,
                )
        finally:
            for child in reversed(children):
                child.terminate()
                child.wait(10)
    summary = summarize(results, names)
    print(
        f"{'server':<12} {'c1 p50 (median)':>16} {'paired added':>13} {'best':>6} {'added':>8}"
        f" {'CPU/req':>9} {'x HAProxy':>10}"
    )
    for name, s in summary.items():
        added = s.get("c1_p50_added_us_median")
        best = s.get("c1_p50_added_us_best")
        cpu = s.get("cpu_us_per_req_median")
        ratio = s.get("cpu_vs_haproxy_median")
        print(
            f"{name:<12} {s['c1_p50_us_median']:>13.0f} us"
            f" {'' if added is None else f'{added:+.0f} us':>13}"
            f" {s['c1_p50_us_min']:>6.0f} {'' if best is None else f'{best:+.0f} us':>8}"
            f" {'' if cpu is None else f'{cpu:.1f} us':>9}"
            f" {'' if ratio is None else f'{ratio:.2f}x':>10}"
        )
    print(
        json.dumps(
            {
                "bench": "balance_rounds",
                "cpus": os.cpu_count(),
                "load_before": load[0],
                "load_after": os.getloadavg()[0],
                "rounds": rounds,
                "seconds": seconds,
                "policy": args.policy,
                "baseline": "haproxy",
                "baseline_src": str(args.baseline_src) if args.baseline_src else None,
                "results": results,
                "summary": summary,
                "target_c1_p50_added_le_30us": summary["vigil"]["c1_p50_added_us_median"] <= 30.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
