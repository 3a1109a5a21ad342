"""What Python's cyclic collector costs a proxy inside the controller's own process.

    python bench/controller_gc.py            # 3 runs of 5 s per mode
    python bench/controller_gc.py --quick    # 1 run of 2 s per mode

``vigil up`` with ``balancer.workers: 1`` (the default) serves the balancer from the controller's
process, whose heap holds the API, the store, the settings and every module (~135,000 tracked
objects after the imports alone): each full collection scans it. Each run starts, in a fresh
process, that heap (the controller's imports) and one in-process proxy (round robin, one
upstream: a uvloop server answering ``200 ok`` in a process of its own), then drives it with
``wrk -t1 -c50 -H 'Connection: close'`` (a new connection per request: a connection and its
parser are a cycle only the collector frees, as for a stream's set-up). The collector's CPU time
is summed from ``gc.callbacks`` with ``time.thread_time`` (a collection holds the GIL: CPU of
the loop's thread, not wall time, which the load would inflate). Two modes, alternated in the
same run: ``default`` (CPython's thresholds: the baseline) and ``settled``
(:func:`vigil.balancer.proxy.settle_gc`, what a worker process does and what
``Balancers.start`` now does for in-process proxies). Figures: the collector's share of the
process's CPU and its microseconds per request. Needs ``wrk``. Ends with ONE JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import statistics
import subprocess
import sys
import time

UPSTREAM = r"""
import asyncio, sys, uvloop
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
class Answer(asyncio.Protocol):
    def connection_made(self, transport): self.transport = transport
    def data_received(self, data): self.transport.write(ANSWER * data.count(b"\r\n\r\n"))
async def main():
    await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", int(sys.argv[1]))
    await asyncio.Event().wait()
uvloop.run(main())
"""


async def one_run(mode: str, seconds: int) -> dict[str, float]:
    """In this (fresh) process: the controller's heap, a proxy, wrk; the collector's figures."""
    import uvloop  # noqa: F401  (the loop the controller runs on)

    import vigil.api
    import vigil.cli
    import vigil.daemon
    import vigil.store
    import vigil.web  # noqa: F401  (the controller's heap: what `vigil up` imports)
    from vigil.backends import free_port
    from vigil.balancer import Pool, PoolSettings, Upstream
    from vigil.balancer.proxy import Proxy, settle_gc

    up_port = free_port()
    upstream = await asyncio.create_subprocess_exec(sys.executable, "-c", UPSTREAM, str(up_port))
    try:
        await asyncio.sleep(0.5)
        pool = Pool(settings=PoolSettings(policy="round_robin"))
        pool.add(Upstream(id="a", host="127.0.0.1", port=up_port), time.monotonic())
        proxy = Proxy(pool)
        port = await proxy.start("127.0.0.1", 0)
        if mode == "settled":
            settle_gc()
        tracked = len(gc.get_objects())
        spent = [0.0, 0.0]  # CPU seconds in collections, the start of the current one
        counts = [0, 0, 0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                spent[1] = time.thread_time()
            else:
                spent[0] += time.thread_time() - spent[1]
                counts[info["generation"]] += 1

        gc.callbacks.append(on_gc)
        cpu = time.process_time()
        wrk = await asyncio.create_subprocess_exec(
            "wrk", "-t1", "-c50", "-H", "Connection: close", f"-d{seconds}s",
            f"http://127.0.0.1:{port}/", stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await wrk.communicate()
        cpu = time.process_time() - cpu
        gc.callbacks.remove(on_gc)
        await proxy.stop(0.5)
    finally:
        upstream.kill()
        await upstream.wait()
    line = next(x for x in out.decode().splitlines() if "requests in" in x)
    requests = int(line.split()[0])
    return {
        "tracked_objects": tracked,
        "requests": requests,
        "gen0": counts[0],
        "gen1": counts[1],
        "gen2": counts[2],
        "gc_cpu_share": spent[0] / cpu,
        "gc_us_per_request": spent[0] / requests * 1e6,
    }


def run_in_child(mode: str, seconds: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run of 2 s per mode")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import uvloop

        figures = uvloop.run(one_run(args.child[0], int(args.child[1])))
        sys.stdout.write(json.dumps(figures) + "\n")
        return 0
    if shutil.which("wrk") is None:
        sys.stderr.write("controller_gc: needs wrk (apt install wrk)\n")
        return 2
    runs, seconds = (1, 2) if args.quick else (3, 5)
    results: dict[str, list[dict[str, float]]] = {"default": [], "settled": []}
    for _ in range(runs):
        for mode in results:  # alternated: the load drifts alike for both
            results[mode].append(run_in_child(mode, seconds))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"collector in a controller-sized process ({runs} x {seconds} s, load {load})"
    )
    for column in (
        "mode",
        "tracked (not frozen)",
        "requests",
        "gen0/1/2",
        "gc % of CPU",
        "gc µs/request",
    ):
        table.add_column(column, justify="right")
    summary: dict[str, dict[str, float]] = {}
    for mode, rows in results.items():
        share = statistics.median(r["gc_cpu_share"] for r in rows)
        per = statistics.median(r["gc_us_per_request"] for r in rows)
        summary[mode] = {"gc_cpu_share": round(share, 4), "gc_us_per_request": round(per, 2)}
        for r in rows:
            table.add_row(
                mode,
                f"{r['tracked_objects']:,.0f}",
                f"{r['requests']:,.0f}",
                f"{r['gen0']:.0f}/{r['gen1']:.0f}/{r['gen2']:.0f}",
                f"{100 * r['gc_cpu_share']:.1f}",
                f"{r['gc_us_per_request']:.1f}",
            )
    Console(stderr=True).print(table)
    figures = {
        "bench": "controller_gc",
        "quick": args.quick,
        "loadavg": load,
        "vigil": summary["settled"],
        "baseline": {"name": "CPython gc defaults", **summary["default"]},
        "runs": results,
    }
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
