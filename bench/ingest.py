"""Metrics ingestion at fleet scale: a real `vigil up` takes 1,000 nodes x 50 series at 1 Hz.

    python bench/ingest.py            # 1,000 nodes vs a 100-node baseline, 30 s measured each
    python bench/ingest.py --quick    # 100 nodes vs 10, 5 s each (CI keeps the script alive)

For each fleet size a fresh controller runs as its own process (`vigil up` on SQLite, one rule
over the pushed metric, rollups persisted as in production). A load generator process opens one
keep-alive connection per simulated node and, like the agent, posts one heartbeat a second per
node carrying that node's 50 samples, gzipped, spread evenly over the second. Meanwhile this
process probes the API as a dashboard would (``GET /api/v1/nodes`` and ``GET /api/v1/series``
at 1-minute steps, one after the other) and samples the controller's CPU from /proc.

Reported per fleet: samples offered (the schedule) vs stored per second (keeps up: >= 99 %
stored, no failed push, and heartbeats leave less than a second late at p99), the
generator's lag behind schedule (p99 of how late each heartbeat left: a controller that cannot
keep up makes every connection fall behind), the newest stored sample's age, the p50/p99 of the
probe's API latency (issue 5's target: < 100 ms), and the controller's CPU, also per heartbeat
answered (1000 / that = the nodes one core could take at 1 Hz), and from the controller's
``/metrics`` its event loop's lag and its garbage collector's pauses in the same window (what
makes the API's tail). The baseline is the
same controller with a tenth of the fleet, measured in the same run; ratios compare the two.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from vigil.backends import free_port

console = Console(stderr=True, width=160)
WARMUP = 5.0
"""Seconds of load before measuring: connections open, every series created, caches warm."""
GRACE = 10.0
"""Seconds the generator waits past the end for answers still due; what is left is not stored."""
PROBE_TIMEOUT = 10.0
"""A probe request slower than this counts as this slow (and as an error)."""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the load generator (a separate process: `ingest.py --generate ...`) ---------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def one_node(
    port: int, token: str, node: str, series: int, start: float, until: float, out: dict[str, Any]
) -> None:
    """One simulated agent: a keep-alive connection, a heartbeat a second, start-to-start."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        out["errors"] += 1
        return
    rng = random.Random(node)
    names = [f"bench.m{j}" for j in range(series)]
    loop = asyncio.get_running_loop()
    seq = 0
    try:
        while True:
            due = start + seq
            if due >= until:
                return
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at = loop.time()
            now = time.time()
            body = json.dumps(
                {
                    "node": node,
                    "seq": seq,
                    "info": {},
                    "samples": [
                        {"name": n, "value": round(rng.random() * 100, 2), "at": now} for n in names
                    ],
                },
                separators=(",", ":"),
            ).encode()
            data = gzip.compress(body, compresslevel=1)
            writer.write(
                (
                    f"POST /api/v1/heartbeats HTTP/1.1\r\nHost: bench\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                    f"Content-Encoding: gzip\r\nContent-Length: {len(data)}\r\n\r\n"
                ).encode()
                + data
            )
            try:
                await writer.drain()
                status, answer = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError):
                out["errors"] += 1
                return
            done = loop.time()
            if due >= out["measure_from"]:
                out["lateness"].append(max(0.0, sent_at - due))
                out["latency"].append(done - sent_at)
                out["offered"] += series
                if status == 200:
                    out["stored"] += series - int(json.loads(answer)["samples_rejected"])
                else:
                    out["failed"] += 1
            seq += 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def generate(port: int, token: str, nodes: int, series: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time() + 1.0
    out: dict[str, Any] = {
        "measure_from": start + WARMUP,
        "lateness": [],
        "latency": [],
        "offered": 0,
        "stored": 0,
        "failed": 0,
        "errors": 0,
    }
    until = start + WARMUP + seconds
    tasks = [
        asyncio.create_task(one_node(port, token, f"n{i}", series, start + i / nodes, until, out))
        for i in range(nodes)
    ]
    # a controller that cannot keep up leaves requests unanswered: stop waiting after a grace
    _, pending = await asyncio.wait(tasks, timeout=until + GRACE - loop.time())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    print(
        json.dumps(
            {
                "offered": out["offered"],
                "stored": out["stored"],
                "failed": out["failed"] + out["errors"],
                "unfinished": len(pending),
                "late_p99": percentile(out["lateness"], 0.99),
                "late_max": max(out["lateness"], default=0.0),
                "push_p99": percentile(out["latency"], 0.99),
            }
        ),
        flush=True,
    )


# --- the bench ---------------------------------------------------------------------------------


def write_config(workdir: Path, port: int, token: str, nodes: int) -> Path:
    config = {
        "data_dir": str(workdir / "data"),
        "api": {"port": port, "tokens": [{"name": "bench", "role": "admin", "token": token}]},
        "heartbeat": {"interval": 1.0},
        "nodes": [{"name": f"n{i}"} for i in range(nodes)],
        "rules": [{"name": "bench-hot", "expr": "bench.m0 > 1000", "for": "30s"}],
    }
    path = workdir / "vigil.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


async def probe(url: str, token: str, stop: asyncio.Event, nodes: int) -> dict[str, list[float]]:
    """GET /api/v1/nodes and a 10-minute series at 1-minute steps, back to back."""
    headers = {"Authorization": f"Bearer {token}"}
    times: dict[str, list[float]] = {"nodes": [], "series": [], "errors": []}
    rng = random.Random(0)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=PROBE_TIMEOUT) as client:

        async def timed(kind: str, path: str, params: dict[str, Any] | None = None) -> None:
            t0 = time.perf_counter()
            try:
                answer = await client.get(path, params=params)
                answer.raise_for_status()
            except httpx.HTTPError:
                times["errors"].append(1.0)
                times[kind].append(PROBE_TIMEOUT)
                return
            times[kind].append(time.perf_counter() - t0)

        while not stop.is_set():
            await timed("nodes", "/api/v1/nodes")
            params = {
                "name": f"bench.m{rng.randrange(50)}",
                "labels": f"node=n{rng.randrange(nodes)}",
                "step": 60,
                "from": time.time() - 600,
            }
            await timed("series", "/api/v1/series", params)
            await asyncio.sleep(0.05)
    return times


Histograms = dict[str, dict[str, float]]
"""Per histogram (``lag``, ``gc0``, ``gc1``, ``gc2``): cumulative count per bucket bound, with
``sum`` and ``count``."""


async def stall_figures(url: str, token: str) -> Histograms:
    """The controller's loop-lag and GC-pause histograms, read from its ``/metrics``."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        text = (await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).text
    out: Histograms = {}
    for family in text_string_to_metric_families(text):
        if family.name not in ("vigil_loop_lag_seconds", "vigil_gc_pause_seconds"):
            continue
        for sample in family.samples:
            gen = sample.labels.get("generation")
            figures = out.setdefault("lag" if gen is None else f"gc{gen}", {})
            if sample.name.endswith("_bucket"):
                figures[sample.labels["le"]] = sample.value
            elif sample.name.endswith(("_sum", "_count")):
                figures[sample.name.rsplit("_", 1)[1]] = sample.value
    return out


def window(before: Histograms, after: Histograms, key: str) -> dict[str, float]:
    """What a histogram gained between two scrapes: how many, the seconds they add up to, how
    many were over 50 ms, and the bucket bounds the p99 and the largest fall under."""
    was, now = before.get(key, {}), after.get(key, {})
    bounds = sorted((float(le), le) for le in now if le not in ("sum", "count"))
    gained = [(bound, now[le] - was.get(le, 0.0)) for bound, le in bounds]
    count = now.get("count", 0.0) - was.get("count", 0.0)
    p99 = next((b for b, c in gained if c >= 0.99 * count), 0.0) if count else 0.0
    largest = next((b for b, c in gained if c >= count), 0.0) if count else 0.0
    under_50ms = max((c for b, c in gained if b <= 0.05), default=0.0)
    return {
        "count": count,
        "seconds": now.get("sum", 0.0) - was.get("sum", 0.0),
        "over_50ms": count - under_50ms,
        "p99_le": p99,
        "max_le": largest,
    }


def start_controller(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`vigil up -c config` in its own session, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vigil", "up", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"vigil up exited: {tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise SystemExit(f"vigil up did not answer within 60 s: {tail(log)}")


async def run_fleet(nodes: int, series: int, seconds: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"vigil-ingest-{nodes}-"))
    token = secrets.token_urlsafe(24)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "vigil-up.log"
    config = write_config(workdir, port, token, nodes)
    ctl = start_controller(config, log)
    try:
        await wait_up(url, ctl, log)
        gen = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--generate",
            f"--port={port}",
            f"--token={token}",
            f"--nodes={nodes}",
            f"--series={series}",
            f"--seconds={seconds}",
            stdout=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(1.0 + WARMUP)
        stop = asyncio.Event()
        probing = asyncio.create_task(probe(url, token, stop, nodes))
        proc = psutil.Process(ctl.pid)
        stalls0 = await stall_figures(url, token)
        cpu0, t0 = proc.cpu_times(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, t1 = proc.cpu_times(), time.monotonic()
        stop.set()
        stalls1 = await stall_figures(url, token)
        lag, gc2 = window(stalls0, stalls1, "lag"), window(stalls0, stalls1, "gc2")
        gc_young = [window(stalls0, stalls1, f"gc{g}") for g in (0, 1)]
        times = await probing
        stdout, _ = await gen.communicate()
        figures = json.loads(stdout.decode().strip().splitlines()[-1])
        newest_age = await newest_sample_age(url, token)
        used = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        both = times["nodes"] + times["series"]
        return {
            "nodes": nodes,
            "series": nodes * series,
            "offered_per_s": float(nodes * series),  # the schedule: every node, every second
            "sent_per_s": figures["offered"] / seconds,
            "stored_per_s": figures["stored"] / seconds,
            "kept_up": figures["stored"] >= 0.99 * nodes * series * seconds
            and figures["failed"] == 0
            and figures["late_p99"] < 1.0,
            "late_p99_s": figures["late_p99"],
            "late_max_s": figures["late_max"],
            "push_p99_ms": 1000 * figures["push_p99"],
            "newest_age_s": newest_age,
            "api_p50_ms": 1000 * statistics.median(both),
            "api_p99_ms": 1000 * percentile(both, 0.99),
            "nodes_p99_ms": 1000 * percentile(times["nodes"], 0.99),
            "series_p99_ms": 1000 * percentile(times["series"], 0.99),
            "probes": len(both),
            "probe_errors": len(times["errors"]),
            "unfinished_pushes": figures["unfinished"],
            "controller_cpu_pct": 100.0 * used / (t1 - t0),
            # CPU per heartbeat answered in the window: what one core can take, on any machine
            "cpu_ms_per_heartbeat": (
                1000.0 * used / (figures["stored"] / series) if figures["stored"] else float("nan")
            ),
            # stalls of the controller's loop in the window (from its /metrics; a histogram's
            # p99 and max are the bucket bounds they fall under)
            "loop_lag_p99_ms_le": 1000 * lag["p99_le"],
            "loop_lag_max_ms_le": 1000 * lag["max_le"],
            "loop_lags_over_50ms": lag["over_50ms"],
            "gc_full_count": gc2["count"],
            "gc_full_ms_total": 1000 * gc2["seconds"],
            "gc_full_max_ms_le": 1000 * gc2["max_le"],
            "gc_young_ms_total": 1000 * sum(g["seconds"] for g in gc_young),
            "gc_young_max_ms_le": 1000 * max(g["max_le"] for g in gc_young),
        }
    finally:
        ctl.send_signal(signal.SIGTERM)
        try:
            ctl.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ctl.pid, signal.SIGKILL)
            ctl.wait()


async def newest_sample_age(url: str, token: str) -> float:
    """Seconds since the newest stored ``bench.m0`` sample (NaN: the API did not answer)."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            answer = await client.get(
                "/api/v1/series/latest",
                params={"name": "bench.m0"},
                headers={"Authorization": f"Bearer {token}"},
            )
            latest = answer.json()
    except (httpx.HTTPError, ValueError):
        return float("nan")
    return time.time() - max((p["at"] for p in latest), default=0.0)


def show(rows: list[dict[str, Any]]) -> None:
    table = Table(title="Metrics ingestion: vigil up on SQLite, 50 series per node at 1 Hz")
    columns = [
        ("fleet", lambda r: f"{r['nodes']} nodes"),
        ("series", lambda r: f"{r['series']:,}"),
        ("offered/s", lambda r: f"{r['offered_per_s']:,.0f}"),
        ("stored/s", lambda r: f"{r['stored_per_s']:,.0f}"),
        ("kept up", lambda r: "yes" if r["kept_up"] else "NO"),
        ("late p99", lambda r: f"{1000 * r['late_p99_s']:.0f} ms"),
        ("push p99", lambda r: f"{r['push_p99_ms']:.0f} ms"),
        ("API p50", lambda r: f"{r['api_p50_ms']:.1f} ms"),
        ("API p99", lambda r: f"{r['api_p99_ms']:.1f} ms"),
        ("nodes p99", lambda r: f"{r['nodes_p99_ms']:.1f} ms"),
        ("series p99", lambda r: f"{r['series_p99_ms']:.1f} ms"),
        ("ctl CPU", lambda r: f"{r['controller_cpu_pct']:.0f} %"),
        ("CPU/beat", lambda r: f"{r['cpu_ms_per_heartbeat']:.1f} ms"),
        ("nodes/core", lambda r: f"{1000 / r['cpu_ms_per_heartbeat']:.0f}"),
    ]
    stalls = Table(title="The controller's event loop in the same windows (from its /metrics)")
    stall_columns = [
        ("fleet", lambda r: f"{r['nodes']} nodes"),
        ("loop lag p99", lambda r: f"<= {r['loop_lag_p99_ms_le']:.0f} ms"),
        ("loop lag max", lambda r: f"<= {r['loop_lag_max_ms_le']:.0f} ms"),
        ("lags > 50 ms", lambda r: f"{r['loop_lags_over_50ms']:.0f}"),
        ("full GCs", lambda r: f"{r['gc_full_count']:.0f}"),
        ("full GC time", lambda r: f"{r['gc_full_ms_total']:.0f} ms"),
        ("full GC max", lambda r: f"<= {r['gc_full_max_ms_le']:.0f} ms"),
        ("young GC time", lambda r: f"{r['gc_young_ms_total']:.0f} ms"),
        ("young GC max", lambda r: f"<= {r['gc_young_max_ms_le']:.0f} ms"),
    ]
    for shown, cols in ((table, columns), (stalls, stall_columns)):
        for title, _ in cols:
            shown.add_column(title, justify="right")
        for row in rows:
            shown.add_row(*(cell(row) for _, cell in cols))
        console.print(shown)


async def bench(nodes: int, baseline: int, series: int, seconds: float) -> None:
    base = await run_fleet(baseline, series, seconds)
    fleet = await run_fleet(nodes, series, seconds)
    show([base, fleet])
    ratio = fleet["api_p99_ms"] / base["api_p99_ms"]
    cpu_ratio = fleet["controller_cpu_pct"] / max(base["controller_cpu_pct"], 0.1)
    met = fleet["kept_up"] and fleet["api_p99_ms"] < 100.0
    console.print(
        f"{nodes} nodes vs the {baseline}-node baseline: API p99 x{ratio:.1f}, controller CPU "
        f"x{cpu_ratio:.1f}; target (keeps up, API p99 < 100 ms): {'met' if met else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "bench": "ingest",
                "fleet": fleet,
                "baseline": base,
                "api_p99_ratio": ratio,
                "cpu_ratio": cpu_ratio,
                "target_met": met,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 vs 10 nodes, 5 s each")
    parser.add_argument("--nodes", type=int, default=None)
    parser.add_argument("--baseline", type=int, default=None)
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        asyncio.run(generate(args.port, args.token, args.nodes, args.series, args.seconds))
        return
    nodes = args.nodes or (100 if args.quick else 1000)
    baseline = args.baseline or max(1, nodes // 10)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    asyncio.run(bench(nodes, baseline, args.series, seconds))


if __name__ == "__main__":
    main()
