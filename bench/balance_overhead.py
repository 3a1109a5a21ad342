"""Balancer overhead benchmark: Vigil's proxy vs HAProxy (``nbthread 1``) vs no proxy at all.

    python bench/balance_overhead.py            # 10 s per wrk run
    python bench/balance_overhead.py --quick    # 2 s per run (CI keeps the script from rotting)

Two nginx backends (``return 200``, one worker each: fast enough not to be the bottleneck) on
loopback; wrk ``-t1`` at ``-c50`` and ``-c1`` against (a) one backend directly, (b) HAProxy with
``nbthread 1`` round robin over both, (c) Vigil round robin in 1 process and (d) in 2 processes
(``SO_REUSEPORT`` workers, uvloop; and again with the workers sharing their in-flight counts,
``vigil_2proc_shared``, as ``vigil balance`` runs them), plus a ``-c1000`` run per proxy that
must see zero errors.
Vigil runs the build ``make dev`` made (the mypyc-compiled data plane where a C compiler was
there), and (e) 1 process again from source (``VIGIL_PURE_PYTHON=1``) for the compiled build's
gain in the same run. Prints a table and the ratios to HAProxy, then ONE JSON line with every
figure.

Needs the Debian packages ``haproxy``, ``nginx`` and ``wrk``; installs nothing itself (exit 2
naming what is missing). Raises its own ``RLIMIT_NOFILE`` so that wrk and the proxies inherit
enough descriptors for 1000 connections.

    python bench/balance_overhead.py --floor    # also the floor: a byte relay on uvloop

``--floor`` adds, in the same run, :mod:`relay_floor` (no HTTP: each client connection paired
with one upstream connection, bytes copied in the protocols' callbacks) in its two read styles,
``asyncio.Protocol`` and ``asyncio.BufferedProtocol``: how close to HAProxy any uvloop/asyncio
proxy can get on this machine (the ceiling of the architecture, not a product).

    python bench/balance_overhead.py --python-only 2000

measures only the proxy's Python work per request, without sockets or tools: the client and
upstream protocols driven with null transports (real ``Pool``, one whole request and one
nginx-like response per iteration), against the baseline of httptools alone parsing the same
two messages. Run it under ``valgrind --tool=callgrind`` with two counts (e.g. 500 and 1500) and
take the difference of the instruction totals for a figure that does not depend on the load.

    python bench/balance_overhead.py --python-only 2000 --upstreams 2 --policy p2c_ewma

the same over two upstreams with p2c_ewma (seeded, on a stepping clock: deterministic); ``--policy``
also sets the policy of the live runs (round robin, HAProxy's, by default).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relay_floor import run_relay
from worker_split import counted, describe, snapshot, split_figures

from vigil.backends import free_port
from vigil.balancer._pure import ENV as PURE_ENV
from vigil.balancer._pure import build
from vigil.balancer._upstream import Upstream
from vigil.balancer.proxy import Proxy, Workers

TOOLS = {"haproxy": "haproxy", "nginx": "nginx", "wrk": "wrk"}  # binary -> Debian package


def check_tools(names: list[str]) -> None:
    missing = [TOOLS[n] for n in names if shutil.which(n) is None]
    if missing:
        print(f"missing tools; install them with: apt-get install -y {' '.join(missing)}")
        sys.exit(2)


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_nginx(tmp: Path, servers: str, workers: int = 1) -> subprocess.Popen[bytes]:
    """nginx in the foreground with ``servers`` (server blocks) in its http block."""
    conf = tmp / f"nginx-{len(list(tmp.iterdir()))}.conf"
    conf.write_text(
        f"""
worker_processes {workers};
daemon off;
pid {tmp}/{conf.stem}.pid;
error_log {tmp}/{conf.stem}.error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {servers}
}}
"""
    )
    return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)], stderr=subprocess.PIPE)


def start_ok_backends(tmp: Path, count: int = 2) -> tuple[subprocess.Popen[bytes], list[int]]:
    """One nginx serving ``count`` backends that answer ``200 ok``, listening when this returns;
    the nginx process and the backends' ports."""
    backends = [free_port() for _ in range(count)]
    blocks = "\n".join(
        f'server {{ listen 127.0.0.1:{p} backlog=4096; location / {{ return 200 "ok"; }} }}'
        for p in backends
    )
    nginx = start_nginx(tmp, blocks)
    for p in backends:
        wait_port(p)
    return nginx, backends


def start_haproxy(tmp: Path, port: int, backends: list[int]) -> subprocess.Popen[bytes]:
    servers = "\n".join(f"    server s{i} 127.0.0.1:{p}" for i, p in enumerate(backends))
    conf = tmp / "haproxy.cfg"
    conf.write_text(
        f"""
global
    nbthread 1
    maxconn 8000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance roundrobin
{servers}
"""
    )
    return subprocess.Popen(["haproxy", "-db", "-f", str(conf)])


def round_robin_proxy(backends: list[int], policy: str = "round_robin") -> Proxy:
    """The Vigil worker: the project's Pool with its round-robin policy (or ``policy``)."""
    from vigil.balancer.pool import Pool, PoolSettings

    upstreams = [Upstream(f"b{i}", "127.0.0.1", p) for i, p in enumerate(backends)]
    return Proxy(Pool(upstreams, PoolSettings(policy=policy)))


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def wrk(
    port: int,
    conns: int,
    seconds: float,
    path: str = "/",
    during: Callable[[], object] | None = None,
    close: bool = False,
) -> dict[str, float]:
    """One wrk run; ``during`` is called once half-way through it; ``close``: a new connection
    per request (``Connection: close``)."""
    with subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            *(["-H", "Connection: close"] if close else []),
            f"http://127.0.0.1:{port}{path}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        if during is not None:
            time.sleep(max(1, round(seconds)) / 2)
            during()
        out, err = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p50 = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99 = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    # "Latency  avg  stdev  max  +/- stdev": the slowest answer under wrk's 2 s timeout
    m = re.search(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out, re.M)
    worst = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": rps,
        "p50_us": p50 * 1e6,
        "p99_us": p99 * 1e6,
        "max_us": worst * 1e6,
        "errors": errors,
        "requests": requests,
    }


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of processes, from /proc/<pid>/stat (fields 14 and 15)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(
    name: str,
    port: int,
    seconds: float,
    c1000: bool,
    results: dict,
    pids: list[int],
    split: str | None = None,
    c1: bool = True,
    close: bool = False,
) -> None:
    """wrk c50 (then c1, and c1000 if asked) against ``port``. ``split``: the report directory
    of workers built by :func:`worker_split.counted`: each one's connections (mid-run),
    requests and CPU at c50 go into ``c50["workers"]``."""
    wrk(port, 50, min(1.0, seconds), close=close)  # warm up: connections, pools, caches
    per_worker = split is not None and len(pids) > 1
    mid: list[list[dict[str, int]]] = []
    if per_worker:
        assert split is not None
        first = snapshot(pids, split)
        cpu_first = [cpu_seconds([pid]) for pid in pids]
    before = cpu_seconds(pids)
    c50 = wrk(
        port,
        50,
        seconds,
        during=(lambda: mid.append(snapshot(pids, split))) if per_worker else None,
        close=close,
    )
    if pids:  # CPU per request: robust to other load on the machine, unlike req/s
        c50["cpu_us_per_req"] = (cpu_seconds(pids) - before) / max(c50["requests"], 1) * 1e6
    if per_worker:
        assert split is not None
        cpu = [cpu_seconds([pid]) - c for pid, c in zip(pids, cpu_first, strict=True)]
        c50["workers"] = split_figures(first, mid[0], snapshot(pids, split), cpu)
    results[name] = {"c50": c50}
    if c1:
        results[name]["c1"] = wrk(port, 1, seconds)
    if c1000:
        results[name]["c1000"] = wrk(port, 1000, seconds)
    r = results[name]
    if not c1:
        print(
            f"{name:<26} c50 {c50['rps']:>9.0f} req/s p50 {c50['p50_us']:>7.0f} us (errors "
            f"{c50['errors']})  cpu/req {c50.get('cpu_us_per_req', float('nan')):.1f} us"
            + (f"  {describe(c50['workers'])}" if per_worker else ""),
            flush=True,
        )
        return
    extra = (
        f"  c1000 errors {r['c1000']['errors']} p99 {r['c1000']['p99_us'] / 1e3:.0f} ms"
        f" max {r['c1000']['max_us'] / 1e3:.0f} ms"
        if c1000
        else ""
    )
    print(
        f"{name:<16} c50 {r['c50']['rps']:>9.0f} req/s p50 {r['c50']['p50_us']:>7.0f} us"
        f" (errors {r['c50']['errors']})   c1 {r['c1']['rps']:>7.0f} req/s"
        f" p50 {r['c1']['p50_us']:>6.0f} us{extra}"
        f"  cpu/req {r['c50'].get('cpu_us_per_req', float('nan')):.1f} us"
        + (f"  {describe(c50['workers'])}" if per_worker else ""),
        flush=True,
    )


class _NullTransport:
    """Swallows writes: the proxy's Python work without the kernel's."""

    def write(self, data: bytes) -> None:
        pass

    def writelines(self, data: list[bytes]) -> None:
        pass

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n"
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
)


def null_wired(proxy: Proxy, ports: tuple[int, ...] = (9,)) -> tuple[Any, Any, Any]:
    """A started proxy's state, one pooled upstream connection per port (the first returned)
    and one client connection, all on null transports (the Python-only harnesses here and in
    balance_stream.py)."""
    from vigil.balancer._proxy_client import ClientConnection
    from vigil.balancer._proxy_upstream import UpstreamConnection

    state = proxy.state
    conns = []
    for port in ports:
        conn = UpstreamConnection(state.pool, ("127.0.0.1", port))
        conn.connection_made(_NullTransport())  # type: ignore[arg-type]
        state.pool.put(conn)
        conns.append(conn)
    conn = conns[0]
    client = ClientConnection(state)
    client.connection_made(_NullTransport())  # type: ignore[arg-type]
    return state, conn, client


def python_only(count: int, policy: str = "round_robin", upstreams: int = 1) -> dict[str, float]:
    """CPU µs per request of the proxy's protocols (null transports) and of the baseline.
    With several ``upstreams`` the response goes to the connection the request was sent on
    (one attribute read per upstream and iteration in the loop). A policy other than round
    robin gets a seeded ``rng`` and a clock that steps 20 µs per read (a C callable, no Python
    frame): p2c_ewma decides on measured latencies, and with the real clock under valgrind its
    choices, so its instruction count, changed from run to run."""
    import uvloop
    from httptools import HttpRequestParser, HttpResponseParser

    async def proxy_loop() -> float:
        ports = tuple(range(9, 9 + upstreams))
        if policy == "round_robin":
            proxy = round_robin_proxy(list(ports), policy)
        else:
            from vigil.balancer.pool import Pool, PoolSettings

            pool = Pool(
                [Upstream(f"b{i}", "127.0.0.1", p) for i, p in enumerate(ports)],
                PoolSettings(policy=policy),
                rng=random.Random(7),
            )
            proxy = Proxy(pool, clock=itertools.count(1000.0, 20e-6).__next__)
        await proxy.start()
        state, conn, client = null_wired(proxy, ports)
        conns = [c for queue in state.pool.idle.values() for c in queue]
        start = time.process_time()
        if upstreams == 1:
            for _ in range(count):
                client.data_received(_REQUEST)
                conn.data_received(_RESPONSE)
        else:
            for _ in range(count):
                client.data_received(_REQUEST)
                for conn in conns:
                    if conn.exchange is not None:
                        conn.data_received(_RESPONSE)
                        break
        spent = time.process_time() - start
        if state.pool.opened or state.active:
            raise RuntimeError("the null-transport loop did not complete its requests")
        await proxy.stop(0.1)
        return spent

    class Sink:  # httptools calls only the callbacks that exist
        def on_header(self, name: bytes, value: bytes) -> None:
            pass

    requests, responses = HttpRequestParser(Sink()), HttpResponseParser(Sink())
    start = time.process_time()
    for _ in range(count):
        requests.feed_data(_REQUEST)
        responses.feed_data(_RESPONSE)
    baseline = time.process_time() - start
    spent = uvloop.run(proxy_loop())
    return {"vigil_us": spent / count * 1e6, "httptools_us": baseline / count * 1e6}


def start_floor(style: str, backends: list[int]) -> tuple[multiprocessing.Process, int]:
    """The byte relay of :mod:`relay_floor` in its own process; returns it and its port."""
    ctx = multiprocessing.get_context("spawn")
    port = free_port()
    ready = ctx.Event()
    proc = ctx.Process(
        target=run_relay, args=(port, backends, style == "buffered", ready), daemon=True
    )
    proc.start()
    if not ready.wait(20):
        proc.kill()
        raise RuntimeError(f"the {style} relay did not start within 20 s")
    return proc, port


def measure_floor(style: str, backends: list[int], seconds: float, results: dict) -> None:
    proc, port = start_floor(style, backends)
    try:
        assert proc.pid is not None
        measure(f"floor_{style}", port, seconds, False, results, [proc.pid])
    finally:
        proc.kill()
        proc.join(10)


def launch_vigil(
    name: str, n: int, pure: bool, backends: list[int], policy: str, reports: str
) -> Workers:
    """The Vigil proxy of row ``name``: ``n`` workers (``shared`` in the name: sharing in-flight
    counts; ``exact``: exact connection balance, else the kernel's), from source if ``pure``;
    with more than one worker each reports its figures into ``reports`` (bench/worker_split.py)."""
    factory: Callable[[], Any] = functools.partial(round_robin_proxy, backends, policy)
    if n > 1:
        factory = functools.partial(counted, factory, reports)
    os.environ[PURE_ENV] = "1" if pure else "0"
    share = [f"b{i}" for i in range(len(backends))] if "shared" in name else None
    balance = "exact" if "exact" in name else "kernel"
    try:
        return Workers.launch(
            factory, "127.0.0.1", free_port(), workers=n, share=share, balance=balance
        )
    finally:
        os.environ.pop(PURE_ENV)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per run instead of 10 s")
    parser.add_argument(
        "--python-only",
        type=int,
        metavar="N",
        help="only the proxy's Python work for N requests, without sockets (see above)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure a pass-through byte relay on uvloop (Protocol and BufferedProtocol)",
    )
    parser.add_argument(
        "--upstreams",
        type=int,
        default=1,
        metavar="N",
        help="--python-only: N upstreams, each with one pooled connection (default 1)",
    )
    parser.add_argument(
        "--policy",
        default="round_robin",
        help="the pool's balancing policy (round_robin as HAProxy's; p2c_ewma: the default of "
        "vigil balance)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        metavar="N",
        help="only N alternated rounds of HAProxy, 2 workers with kernel balance and 2 with "
        "exact balance (c50; each worker's connections, requests, CPU)",
    )
    parser.add_argument(
        "--close",
        action="store_true",
        help="--pairs: a new connection per request (Connection: close): what sharing one "
        "listening socket costs (both workers wake for each connection)",
    )
    args = parser.parse_args()
    if args.python_only:
        r = python_only(args.python_only, args.policy, args.upstreams)
        print(f"{'':<28} {'CPU per request':>16}")
        print(f"{'vigil protocols (no I/O)':<28} {r['vigil_us']:>13.1f} us")
        print(f"{'baseline: httptools only':<28} {r['httptools_us']:>13.1f} us")
        ratio = r["vigil_us"] / r["httptools_us"]
        print(
            json.dumps(
                {
                    "bench": "balance_overhead_python",
                    "requests": args.python_only,
                    "policy": args.policy,
                    "upstreams": args.upstreams,
                    "results": r,
                    "baseline": "httptools_only",
                    "ratio": ratio,
                }
            )
        )
        return 0
    check_tools(["haproxy", "nginx", "wrk"])
    nofile = raise_nofile()
    seconds = 2.0 if args.quick else 10.0
    load = os.getloadavg()[0]
    print(f"cpus {os.cpu_count()}, load {load:.1f}, nofile {nofile}, {seconds:.0f} s per run")
    results: dict[str, dict[str, dict[str, float]]] = {}
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            nginx, backends = start_ok_backends(tmp)
            children.append(nginx)
            if args.pairs:
                from balance_pairs import run_pairs

                return run_pairs(args, backends, tmp, seconds, load)
            measure("direct", backends[0], seconds, False, results, [])
            hport = free_port()
            children.append(start_haproxy(tmp, hport, backends))
            wait_port(hport)
            measure("haproxy", hport, seconds, True, results, [children[-1].pid])
            children.pop().terminate()
            if args.floor:
                for style in ("protocol", "buffered"):
                    measure_floor(style, backends, seconds, results)
            # the same data plane from source (VIGIL_PURE_PYTHON, read by the spawned workers)
            # vigil_2proc_shared: the two workers share their in-flight counts, as `vigil
            # balance` with workers: 2 does (vigil.balancer._proxy_shared); *_exact: exact
            # connection balance (vigil.balancer._proxy_balance), else SO_REUSEPORT's hash
            for name, n, pure in (
                ("vigil_1proc", 1, False),
                ("vigil_2proc", 2, False),
                ("vigil_2proc_shared", 2, False),
                ("vigil_2proc_exact", 2, False),
                ("vigil_2proc_shared_exact", 2, False),
                ("vigil_1proc_pure", 1, True),
            ):
                group = launch_vigil(name, n, pure, backends, args.policy, tmpdir)
                try:
                    measure(name, group.port, seconds, True, results, group.pids, tmpdir)
                finally:
                    group.stop(1.0)
        finally:
            for child in children:
                child.terminate()
                child.wait(10)
    h = results["haproxy"]
    ratios = {
        name: {
            "rps_c50_vs_haproxy": r["c50"]["rps"] / h["c50"]["rps"],
            "rps_c1_vs_haproxy": r["c1"]["rps"] / h["c1"]["rps"],
            "p50_c1_added_us_vs_haproxy": r["c1"]["p50_us"] - h["c1"]["p50_us"],
            "cpu_per_req_vs_haproxy": r["c50"]["cpu_us_per_req"] / h["c50"]["cpu_us_per_req"],
        }
        for name, r in results.items()
        if name.startswith(("vigil", "floor"))
    }
    compiled_vs_pure = (
        results["vigil_1proc"]["c50"]["cpu_us_per_req"]
        / results["vigil_1proc_pure"]["c50"]["cpu_us_per_req"]
    )
    print(f"data plane {build()}: CPU per request {compiled_vs_pure:.2f}x the pure-Python build's")
    for name, ratio in ratios.items():
        print(
            f"{name}: {ratio['rps_c50_vs_haproxy']:.2f}x HAProxy req/s at c50, "
            f"{ratio['rps_c1_vs_haproxy']:.2f}x at c1, p50 at c1 "
            f"{ratio['p50_c1_added_us_vs_haproxy']:+.0f} us vs HAProxy, CPU per request "
            f"{ratio['cpu_per_req_vs_haproxy']:.2f}x HAProxy's"
        )
    targets = {
        "vigil_1proc_rps_ge_0.8x": ratios["vigil_1proc"]["rps_c50_vs_haproxy"] >= 0.8,
        "vigil_2proc_rps_ge_1.0x": ratios["vigil_2proc"]["rps_c50_vs_haproxy"] >= 1.0,
        "vigil_2proc_shared_exact_rps_ge_1.0x": (
            ratios["vigil_2proc_shared_exact"]["rps_c50_vs_haproxy"] >= 1.0
        ),
        "p50_added_le_30us": ratios["vigil_1proc"]["p50_c1_added_us_vs_haproxy"] <= 30.0,
        "zero_errors": all(
            r[k]["errors"] == 0
            for n, r in results.items()
            for k in r
            if n.startswith(("haproxy", "vigil"))
        ),
    }
    print(
        json.dumps(
            {
                "bench": "balance_overhead",
                "cpus": os.cpu_count(),
                "load_before": load,
                "seconds": seconds,
                "results": results,
                "baseline": "haproxy",
                "build": build(),
                "compiled_vs_pure_cpu": compiled_vs_pure,
                "ratios": ratios,
                "targets_met": targets,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
